/** The 27 product type codes (`prdtypecode`) of the Rakuten France challenge, ascending. */
export const PRDTYPECODES: readonly number[] = Object.freeze([
  10, 40, 50, 60, 1140, 1160, 1180, 1280, 1281, 1300, 1301, 1302, 1320, 1560, 1920, 1940, 2060,
  2220, 2280, 2403, 2462, 2522, 2582, 2583, 2585, 2705, 2905,
]);

const KNOWN = new Set(PRDTYPECODES);

/** Whether `code` is one of the 27 challenge codes ({@link PRDTYPECODES}). */
export function isKnownPrdtypecode(code: number): boolean {
  return KNOWN.has(code);
}
