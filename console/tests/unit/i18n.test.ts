import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/i18n/dashboard';
import '../../src/i18n/evidence';
import { ENUM_GROUPS, ERROR_CODES, LANGS, MESSAGES, enumLabel, errorText, setLang, t } from '../../src/i18n';

const spec = JSON.parse(readFileSync(new URL('../../../openapi/openapi.json', import.meta.url), 'utf8')) as {
  components: { schemas: Record<string, { enum?: string[] }> };
};

const allKeys = [...new Set(LANGS.flatMap((l) => Object.keys(MESSAGES[l])))].sort();
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : /\.tsx?$/.test(f) ? [p] : [];
  });
}

describe('translations', () => {
  for (const lang of LANGS) {
    it(`has every message key in ${lang}, none empty`, () => {
      const missing = allKeys.filter((k) => !(MESSAGES[lang][k] ?? '').trim());
      expect(missing).toEqual([]);
    });

    it(`keeps the same {placeholders} in ${lang} as in English`, () => {
      const wrong = allKeys.filter((k) => placeholders(MESSAGES[lang][k] ?? '').join() !== placeholders(MESSAGES.en[k] ?? '').join());
      expect(wrong).toEqual([]);
    });

    it(`labels every value of every enum of the OpenAPI document in ${lang}`, () => {
      const unlabelled: string[] = [];
      for (const [name, schema] of Object.entries(spec.components.schemas)) {
        if (!schema.enum) continue;
        const group = ENUM_GROUPS[name];
        if (!group) {
          unlabelled.push(`${name} (no label group)`);
          continue;
        }
        for (const v of schema.enum) if (!MESSAGES[lang][`enum.${group}.${v}`]?.trim()) unlabelled.push(`${name}.${v}`);
      }
      expect(unlabelled).toEqual([]);
    });

    it(`translates every validation code the API emits in ${lang}`, () => {
      expect(ERROR_CODES.filter((c) => !MESSAGES[lang][`error.${c}`]?.trim())).toEqual([]);
    });
  }

  it('has a key for every message the code asks for', () => {
    const used = new Set<string>();
    for (const file of sources(new URL('../../src', import.meta.url).pathname)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\bt\(\s*'([a-z_]+\.[a-z0-9_.]+)'/g)) used.add(m[1] ?? '');
    }
    expect(used.size).toBeGreaterThan(30);
    expect([...used].filter((k) => !(k in MESSAGES.en))).toEqual([]);
  });

  it('translates an error by its code and falls back to the API message for an unknown code', () => {
    setLang('ru');
    expect(errorText('iin', 'bad iin')).toBe(MESSAGES.ru['error.iin']);
    expect(errorText('some_new_code', 'the API says so')).toBe('the API says so');
  });

  it('labels enum values in the chosen language', () => {
    setLang('kk');
    expect(enumLabel('kind', 'round_table')).toBe('Дөңгелек үстел');
    setLang('en');
    expect(enumLabel('kind', 'round_table')).toBe('Round table');
  });

  it('fills placeholders, numbers formatted for the language', () => {
    setLang('ru');
    expect(t('sheet.added', { n: 1800 })).toBe(`Добавлено участников: ${new Intl.NumberFormat('ru-RU').format(1800)}.`);
  });

  it('defaults to Kazakh', async () => {
    const { storedLang } = await import('../../src/i18n');
    expect(storedLang()).toBe('kk');
  });
});
