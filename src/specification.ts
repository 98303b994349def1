/**
 * Versions of the plugin specifications (`StoreDriver`, `ModelFactory`) and the check the
 * registries run on every plugin they are given.
 *
 * @module
 */
import { PACKAGE_VERSION } from './version.js';

/**
 * Version of the `StoreDriver` specification this package implements: the value every store
 * driver declares as `specificationVersion`. A driver writes the literal (`'v1'`), not this
 * constant: it declares the version it was written and tested for.
 */
export const STORE_DRIVER_SPEC_VERSION = 'v1' as const;

/**
 * Version of the `ModelFactory` specification this package implements: the value every model
 * factory declares as `specificationVersion` (as a literal, like drivers).
 */
export const MODEL_FACTORY_SPEC_VERSION = 'v1' as const;

/**
 * Throws a `TypeError` unless `version` is `supported`: names the plugin, what it declared, the
 * version this package supports and what to do.
 *
 * @param what - The specification, e.g. `StoreDriver`.
 * @param label - The plugin, e.g. `store driver "s3"`.
 * @internal
 */
export function checkSpecificationVersion(what: string, label: string, version: unknown, supported: string): void {
  if (version === supported) return;
  const declared =
    version === undefined ? 'declares no specificationVersion' : `implements ${what} specification ${JSON.stringify(version)}`;
  const fix =
    version === undefined
      ? `add \`specificationVersion: '${supported}'\` if it implements that one`
      : `use a release of the plugin written for '${supported}', or a rakuten-pipeline that supports ${JSON.stringify(version)}`;
  throw new TypeError(`${label} ${declared}; rakuten-pipeline ${PACKAGE_VERSION} supports ${what} specification '${supported}' only: ${fix}`);
}
