import type sharpType from 'sharp';

let loading: Promise<typeof sharpType> | undefined;

/**
 * sharp (libvips, a native module), imported on first use: importing the package must not pay
 * for it when no image is touched (a text-only prediction, the HTTP client, `--help`).
 */
export function loadSharp(): Promise<typeof sharpType> {
  loading ??= import('sharp').then((m) => m.default);
  return loading;
}
