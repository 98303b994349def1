import { describe, expect, it } from 'vitest';
import { CATEGORIES, categoryLabel, categoryName, categoryNameMap, categoryNames } from '../src/categories.js';
import * as lib from '../src/index.js';
import { PRDTYPECODES } from '../src/stages/load/classes.js';

describe('category names', () => {
  it('name exactly the 27 product type codes, in their order, with non-empty French and English names', () => {
    expect(CATEGORIES.map((c) => c.prdtypecode)).toEqual([...PRDTYPECODES]);
    for (const c of CATEGORIES) {
      expect(c.fr.trim(), `${c.prdtypecode} fr`).not.toBe('');
      expect(c.en.trim(), `${c.prdtypecode} en`).not.toBe('');
      expect(c.fr).toBe(c.fr.trim());
      expect(c.en).toBe(c.en.trim());
    }
    // Distinct names: a report row or an API answer never leaves two classes looking alike.
    expect(new Set(CATEGORIES.map((c) => c.fr)).size).toBe(27);
    expect(new Set(CATEGORIES.map((c) => c.en)).size).toBe(27);
    expect(Object.isFrozen(CATEGORIES) && Object.isFrozen(CATEGORIES[0])).toBe(true);
  });

  it('looks names up by code and language, and knows no other code', () => {
    expect(categoryName(10)).toBe('Used books');
    expect(categoryName(10, 'en')).toBe('Used books');
    expect(categoryName(10, 'fr')).toBe("Livres d'occasion");
    expect(categoryName(2583, 'fr')).toBe('Piscine et spa');
    expect(categoryNames(2705)).toEqual({ fr: 'Livres neufs', en: 'New books' });
    for (const unknown of [0, 11, -10, 10.5, Number.NaN]) {
      expect(categoryName(unknown)).toBeUndefined();
      expect(categoryNames(unknown)).toBeUndefined();
      expect(categoryLabel(unknown)).toBe(String(unknown));
    }
    expect(categoryLabel(1281)).toBe('1281 — Board games');
    expect(categoryLabel(1281, 'fr')).toBe('1281 — Jeux de société');
    const fr = categoryNameMap('fr');
    expect(Object.keys(fr).map(Number)).toEqual([...PRDTYPECODES]);
    expect(fr[1560]).toBe("Mobilier d'intérieur");
    expect(categoryNameMap()[1560]).toBe('Indoor furniture');
  });

  it('is exported by the package entry point', () => {
    expect(lib.CATEGORIES).toBe(CATEGORIES);
    expect(lib.categoryName(40, 'fr')).toBe('Jeux vidéo');
  });
});
