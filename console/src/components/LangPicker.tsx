import { LANGS, t, type Lang } from '../i18n';

export function LangPicker(props: { value: Lang; onChange: (l: Lang) => void }) {
  return (
    <label class="lang">
      <span>{t('lang.label')}</span>
      <select value={props.value} onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value as Lang)}>
        {LANGS.map((l) => (
          <option key={l} value={l} lang={l}>
            {t(`lang.${l}`)}
          </option>
        ))}
      </select>
    </label>
  );
}

