/** Set by the build (tsup `define`) from package.json; absent when running from the sources. */
declare const __VERSION__: string | undefined;

/** This package's version (`0.0.0-dev` when running from the sources). */
export const PACKAGE_VERSION: string = typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0-dev';
