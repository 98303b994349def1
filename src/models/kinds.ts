/** Kind of the built-in text-image model (its versions record it; the registry loads by it). */
export const TEXT_IMAGE_KIND = 'text-image-v1';
