import type { FieldCondition, Filter, ImageMetadata, Scalar } from './types.js';

/** Field names allowed in filters, sorts and indexes; keeps them safe to embed in queries. */
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Throws unless `name` is a plain field name. */
export function assertFieldName(name: string): void {
  if (!FIELD_NAME.test(name)) {
    throw new TypeError(`Invalid field name ${JSON.stringify(name)}: use letters, digits and _`);
  }
}

/** One condition of a filter, normalised. */
export interface Condition {
  readonly field: string;
  /** Values any of which matches. */
  readonly values: readonly Scalar[];
  /** Instead of values: a string prefix the field must start with. */
  readonly prefix?: string;
}

/**
 * The smallest string above every string starting with `prefix` (`prefix` must not be empty): a
 * prefix match is then the index range `[prefix, upper)`.
 */
export function prefixUpperBound(prefix: string): string {
  if (prefix === '') throw new TypeError('$prefix must not be empty');
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

function isInCondition(c: unknown): c is { $in: readonly Scalar[] } {
  return typeof c === 'object' && c !== null && Array.isArray((c as { $in?: unknown }).$in);
}

/** Normalises a document filter into a list of field conditions. */
export function filterConditions<T>(filter: Filter<T> | undefined): Condition[] {
  if (!filter) return [];
  return Object.entries(filter as Record<string, FieldCondition<Scalar> | undefined>)
    .filter(([, c]) => c !== undefined)
    .map(([field, c]) => {
      assertFieldName(field);
      if (typeof c === 'object' && c !== null && typeof (c as { $prefix?: unknown }).$prefix === 'string') {
        return { field, values: [], prefix: (c as { $prefix: string }).$prefix };
      }
      return { field, values: isInCondition(c) ? c.$in : [c as Scalar] };
    });
}

/** Normalises an image metadata filter into a list of field conditions. */
export function metadataConditions(metadata: ImageMetadata | undefined): Condition[] {
  return Object.entries(metadata ?? {}).map(([field, value]) => {
    assertFieldName(field);
    return { field, values: [value] };
  });
}

/**
 * Whether `fields` (a document, or an image's metadata) satisfies every condition, as the
 * backends' queries decide: a field matches when it equals one of the condition's values, `null`
 * matching a missing field too, or, for a prefix, when it is a string starting with the prefix.
 * For stores that filter in memory.
 */
export function matchesConditions(fields: Readonly<Record<string, unknown>>, conditions: readonly Condition[]): boolean {
  return conditions.every((c) => {
    // Own fields only: a field named `constructor` is not the object's prototype property.
    const value = Object.hasOwn(fields, c.field) ? (fields[c.field] ?? null) : null;
    if (c.prefix !== undefined) {
      if (c.prefix === '') throw new TypeError('$prefix must not be empty');
      return typeof value === 'string' && value.startsWith(c.prefix);
    }
    return c.values.some((v) => v === value);
  });
}
