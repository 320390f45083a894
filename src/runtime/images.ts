/**
 * Reads image bytes for CLIP: PNG, JPEG and WebP, recognised by their signature, decoded by
 * sharp (through transformers.js' RawImage). A corrupt or truncated file is a user error that
 * names the image, never a crash deep inside the decoder.
 */
import { RouteT2IError } from '../router/errors';
import type { Transformers } from './transformers';

export type ImageFormat = 'png' | 'jpeg' | 'webp';

/** The format a file's first bytes announce, or undefined for anything we do not take. */
export function sniffImage(bytes: Uint8Array): ImageFormat | undefined {
  const at = (i: number, ...b: number[]) => b.every((v, k) => bytes[i + k] === v);
  if (at(0, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'png';
  if (at(0, 0xff, 0xd8, 0xff)) return 'jpeg';
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'webp';
  return undefined;
}

export const IMAGE_MIME: Record<ImageFormat, string> = { png: 'image/png', jpeg: 'image/jpeg', webp: 'image/webp' };

/** Decodes an image; `name` (a path or a label) is what an error message calls it. */
export async function decodeImage(t: Transformers, bytes: Uint8Array, name: string) {
  const format = sniffImage(bytes);
  if (!format) {
    const what = bytes.length === 0 ? 'is empty' : 'is not a PNG, JPEG or WebP image';
    throw new RouteT2IError('bad-image', `${name} ${what}`, 'score PNG, JPEG or WebP files');
  }
  // libspng accepts a PNG cut just before its end chunk; a file without IEND is still cut short.
  if (format === 'png' && !endsWithIend(bytes)) {
    throw new RouteT2IError('bad-image', `${name}: the PNG data is truncated or corrupt (no IEND chunk at the end)`, 'regenerate or re-save the image');
  }
  try {
    const image = await t.RawImage.fromBlob(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: IMAGE_MIME[format] }));
    if (image.width < 1 || image.height < 1) throw new Error('no pixels');
    return image;
  } catch (e) {
    const reason = String((e as Error)?.message ?? e).split('\n')[0]!.replace(/^Input buffer /, '');
    throw new RouteT2IError('bad-image', `${name}: the ${format.toUpperCase()} data is truncated or corrupt (${reason})`, 'regenerate or re-save the image');
  }
}

const IEND = [0x49, 0x45, 0x4e, 0x44];
function endsWithIend(bytes: Uint8Array): boolean {
  // IEND's type comes 8 bytes before the end (then its CRC); allow a little trailing padding.
  for (let i = bytes.length - 8; i >= Math.max(8, bytes.length - 72); i--) {
    if (IEND.every((b, k) => bytes[i + k] === b)) return true;
  }
  return false;
}
