import { describe, expect, it } from 'vitest';
import { ancestry, drillAt, INDENT, nameIn, optionLabels, roots, subtreeIds, treeOrder } from '../../src/tree';

type Kind = 'administration' | 'unit';
const dept = (id: string, parent: string | null, kind: Kind = 'unit', en?: string) => ({
  id,
  code: id,
  name_kk: `kk ${id}`,
  name_ru: `ru ${id}`,
  name_en: en ?? null,
  parent_id: parent,
  kind,
});

// region → district-b, district-a (administrations) → a unit each; a detached root; and a
// department whose parent the caller cannot see.
const list = [
  dept('unit-b', 'district-b'),
  dept('district-b', 'region', 'administration'),
  dept('region', null, 'administration', 'Region'),
  dept('district-a', 'region', 'administration'),
  dept('unit-a', 'district-a'),
  dept('orphan', 'not-visible'),
];

describe('the department tree', () => {
  it('orders each department after its parent, siblings by name, with its depth', () => {
    const order = treeOrder(list, 'ru').map((n) => [n.department.id, n.depth]);
    expect(order).toEqual([
      ['orphan', 0],
      ['region', 0],
      ['district-a', 1],
      ['unit-a', 2],
      ['district-b', 1],
      ['unit-b', 2],
    ]);
    expect(treeOrder(list, 'ru').find((n) => n.department.id === 'region')?.children).toEqual(['district-a', 'district-b']);
  });

  it('makes a department whose parent is out of sight a root, and survives a cycle', () => {
    expect(roots(list).map((d) => d.id).sort()).toEqual(['orphan', 'region']);
    const looped = [dept('x', 'y'), dept('y', 'x')];
    expect(treeOrder(looped, 'kk').map((n) => n.department.id).sort()).toEqual(['x', 'y']);
    expect(ancestry(looped, 'x').length).toBe(2);
  });

  it('names a department in the language, English falling back to Russian', () => {
    expect(nameIn(list[2], 'en')).toBe('Region');
    expect(nameIn(list[1], 'en')).toBe('ru district-b');
    expect(nameIn(list[1], 'kk')).toBe('kk district-b');
  });

  it('indents options by depth, marks administrations and codes a repeated name', () => {
    const twins = [...list, { ...dept('unit-a2', 'district-b'), name_ru: 'ru unit-a' }];
    const labels = optionLabels(treeOrder(twins, 'ru'), 'ru', 'акимат');
    expect(labels.get('region')).toBe('ru region — акимат');
    expect(labels.get('district-a')).toBe(`${INDENT}ru district-a — акимат`);
    expect(labels.get('unit-a')).toBe(`${INDENT}${INDENT}ru unit-a (unit-a)`);
    expect(labels.get('unit-a2')).toBe(`${INDENT}${INDENT}ru unit-a (unit-a2)`);
    expect(labels.get('unit-b')).toBe(`${INDENT}${INDENT}ru unit-b`);
  });

  it('finds a subtree and the chain above a department', () => {
    expect([...subtreeIds(list, 'region')].sort()).toEqual(['district-a', 'district-b', 'region', 'unit-a', 'unit-b']);
    expect([...subtreeIds(list, 'unit-a')]).toEqual(['unit-a']);
    expect(ancestry(list, 'unit-b').map((d) => d.id)).toEqual(['region', 'district-b', 'unit-b']);
    expect(ancestry(list, 'nowhere')).toEqual([]);
  });

  it('starts a drill-down at the one top of the reach, or asks among several', () => {
    const city = list.filter((d) => d.id === 'district-a' || d.id === 'unit-a');
    expect(drillAt(city, null)).toEqual({ at: 'district-a', rejected: false });
    expect(drillAt(city, 'unit-a')).toEqual({ at: 'unit-a', rejected: false });
    expect(drillAt(city, 'region')).toEqual({ at: 'district-a', rejected: true });
    expect(drillAt(list, null)).toEqual({ at: null, rejected: false });
    expect(drillAt([], 'region')).toEqual({ at: null, rejected: false });
  });
});
