/**
 * Images from their bytes, for everyone who takes one in: the backends (is a reply an image, is it whole?),
 * the scorer (what format, how many pixels?) and the outputs (which extension). One reader, no decoding:
 * the header says the format and the size, so a 746 KB PNG that claims 16000×16000 pixels is refused
 * before a decoder allocates gigabytes for it. Pure: no Node built-ins.
 */

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif';

export interface ImageKind {
  format: ImageFormat;
  mime: string;
  ext: string;
}

const KINDS: Record<ImageFormat, ImageKind> = {
  png: { format: 'png', mime: 'image/png', ext: 'png' },
  jpeg: { format: 'jpeg', mime: 'image/jpeg', ext: 'jpg' },
  webp: { format: 'webp', mime: 'image/webp', ext: 'webp' },
  gif: { format: 'gif', mime: 'image/gif', ext: 'gif' },
};

/** Pixels an image may have to be decoded: the largest image generation makes (8192×8192). */
export const MAX_IMAGE_PIXELS = 8192 * 8192;

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(b: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (b.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}

const ascii = (b: Uint8Array, at: number, text: string) =>
  startsWith(
    b,
    [...text].map((c) => c.charCodeAt(0)),
    at,
  );
const u16be = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u16le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const u24le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);
const u32be = (b: Uint8Array, i: number) => ((b[i]! << 24) >>> 0) + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);

/** The image's type from its magic bytes, or undefined when it is not a PNG, JPEG, WebP or GIF. */
export function sniffImage(b: Uint8Array): ImageKind | undefined {
  if (startsWith(b, PNG_SIG)) return KINDS.png;
  if (startsWith(b, [0xff, 0xd8, 0xff])) return KINDS.jpeg;
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')) return KINDS.webp;
  if (ascii(b, 0, 'GIF8')) return KINDS.gif;
  return undefined;
}

/**
 * Width and height as the header states them (PNG IHDR, JPEG SOFn, WebP VP8/VP8L/VP8X, GIF screen), or
 * undefined when the header is missing or cut short. Reads only headers: linear in the bytes at worst (JPEG
 * segments are skipped by their lengths).
 */
export function imageSize(b: Uint8Array, kind = sniffImage(b)): { width: number; height: number } | undefined {
  switch (kind?.format) {
    case 'png':
      return b.length >= 24 && ascii(b, 12, 'IHDR') ? { width: u32be(b, 16), height: u32be(b, 20) } : undefined;
    case 'gif':
      return b.length >= 10 ? { width: u16le(b, 6), height: u16le(b, 8) } : undefined;
    case 'webp':
      if (ascii(b, 12, 'VP8 ') && b.length >= 30 && startsWith(b, [0x9d, 0x01, 0x2a], 23))
        return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
      if (ascii(b, 12, 'VP8L') && b.length >= 25 && b[20] === 0x2f) {
        const [b0, b1, b2, b3] = [b[21]!, b[22]!, b[23]!, b[24]!];
        return {
          width: 1 + (((b1 & 0x3f) << 8) | b0),
          height: 1 + (((b3 & 0x0f) << 10) | (b2 << 2) | ((b1 & 0xc0) >> 6)),
        };
      }
      if (ascii(b, 12, 'VP8X') && b.length >= 30) return { width: 1 + u24le(b, 24), height: 1 + u24le(b, 27) };
      return undefined;
    case 'jpeg': {
      let i = 2;
      while (i + 3 < b.length) {
        if (b[i] !== 0xff) return undefined;
        const marker = b[i + 1]!;
        if (marker === 0xff) {
          i++; // fill byte
          continue;
        }
        // Markers without a length: TEM, RSTn, SOI, EOI.
        if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {
          i += 2;
          continue;
        }
        // SOF0…SOF15 (not DHT C4, JPG C8, DAC CC) hold the frame size.
        if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
          return i + 9 <= b.length ? { height: u16be(b, i + 5), width: u16be(b, i + 7) } : undefined;
        }
        i += 2 + u16be(b, i + 2);
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Whether the image is complete: a PNG ends with its IEND chunk, a JPEG with EOI, a WebP's RIFF length
 * matches, a GIF ends with its trailer. A reply cut off mid-stream fails this even when no length was sent.
 */
export function isCompleteImage(b: Uint8Array, kind = sniffImage(b)): boolean {
  switch (kind?.format) {
    case 'png':
      // …length 0, "IEND", 4-byte CRC: IEND's type 8 bytes before the end, or a little earlier when padding follows.
      for (let i = b.length - 8; i >= Math.max(8 + 4, b.length - 72); i--)
        if (ascii(b, i, 'IEND') && b[i - 1] === 0 && b[i - 4] === 0) return true;
      return false;
    case 'jpeg': {
      // Some encoders pad after EOI; look for it near the end.
      for (let i = b.length - 2; i >= Math.max(2, b.length - 64); i--)
        if (b[i] === 0xff && b[i + 1] === 0xd9) return true;
      return false;
    }
    case 'webp': {
      const size = b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24);
      return b.length >= 8 + size;
    }
    case 'gif':
      return b[b.length - 1] === 0x3b;
    default:
      return false;
  }
}
