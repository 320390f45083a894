/**
 * Reads image bytes for CLIP: PNG, JPEG and WebP, recognised and sized from their headers by the one image
 * reader (src/shared/images.ts), decoded by sharp (through transformers.js' RawImage). An image with more
 * pixels than MAX_IMAGE_PIXELS is refused from its header, before the decoder allocates memory for it; a
 * corrupt or truncated file is a user error that names the image, never a crash deep inside the decoder.
 */
import { RouteT2IError } from '../router/errors';
import {
  imageSize,
  isCompleteImage,
  MAX_IMAGE_PIXELS,
  sniffImage,
  type ImageFormat as AnyImageFormat,
} from '../shared/images';
import type { Transformers } from './transformers';

/** The formats CLIP scoring takes. */
export type ImageFormat = Exclude<AnyImageFormat, 'gif'>;

export const IMAGE_MIME: Record<ImageFormat, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

/** The scorable format a file's first bytes announce, or undefined for anything we do not take. */
export function scorableFormat(bytes: Uint8Array): ImageFormat | undefined {
  const format = sniffImage(bytes)?.format;
  return format === 'gif' ? undefined : format;
}

/** Checks an image's header (format, pixel count, completeness) without decoding; returns its format. */
export function checkImageHeader(bytes: Uint8Array, name: string): ImageFormat {
  const format = scorableFormat(bytes);
  if (!format) {
    const what = bytes.length === 0 ? 'is empty' : 'is not a PNG, JPEG or WebP image';
    throw new RouteT2IError('bad-image', `${name} ${what}`, 'score PNG, JPEG or WebP files');
  }
  const size = imageSize(bytes);
  if (!size || size.width < 1 || size.height < 1) {
    throw new RouteT2IError(
      'bad-image',
      `${name}: the ${format.toUpperCase()} header is truncated or corrupt (no image size)`,
      'regenerate or re-save the image',
    );
  }
  if (size.width * size.height > MAX_IMAGE_PIXELS) {
    const mp = (n: number) => `${(n / 1e6).toFixed(1)} megapixels`;
    throw new RouteT2IError(
      'image-too-large',
      `${name}: ${size.width}×${size.height} is ${mp(size.width * size.height)}, over the ${mp(MAX_IMAGE_PIXELS)} limit (8192×8192)`,
      'scale the image down; CLIP sees 224×224 anyway',
    );
  }
  // libspng accepts a PNG cut just before its end chunk; a file without IEND is still cut short.
  if (format === 'png' && !isCompleteImage(bytes)) {
    throw new RouteT2IError(
      'bad-image',
      `${name}: the PNG data is truncated or corrupt (no IEND chunk at the end)`,
      'regenerate or re-save the image',
    );
  }
  return format;
}

/** Decodes an image; `name` (a path or a label) is what an error message calls it. */
export async function decodeImage(t: Transformers, bytes: Uint8Array, name: string) {
  const format = checkImageHeader(bytes, name);
  try {
    const image = await t.RawImage.fromBlob(new Blob([bytes], { type: IMAGE_MIME[format] }));
    if (image.width < 1 || image.height < 1) throw new Error('no pixels');
    return image;
  } catch (e) {
    const reason = String((e as Error)?.message ?? e)
      .split('\n')[0]!
      .replace(/^Input buffer /, '');
    throw new RouteT2IError(
      'bad-image',
      `${name}: the ${format.toUpperCase()} data is truncated or corrupt (${reason})`,
      'regenerate or re-save the image',
    );
  }
}
