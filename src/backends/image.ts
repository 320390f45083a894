/** Recognising generated images from their bytes, so a truncated or wrong reply is caught before it is saved. */

export interface ImageKind {
  mime: string;
  ext: string;
}

const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(b: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (b.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}

/** The image's type from its magic bytes, or undefined when it is not a PNG, JPEG, WebP or GIF. */
export function sniffImage(b: Uint8Array): ImageKind | undefined {
  if (startsWith(b, PNG_SIG)) return { mime: 'image/png', ext: 'png' };
  if (startsWith(b, [0xff, 0xd8, 0xff])) return { mime: 'image/jpeg', ext: 'jpg' };
  if (startsWith(b, [0x52, 0x49, 0x46, 0x46]) && startsWith(b, [0x57, 0x45, 0x42, 0x50], 8)) return { mime: 'image/webp', ext: 'webp' };
  if (startsWith(b, [0x47, 0x49, 0x46, 0x38])) return { mime: 'image/gif', ext: 'gif' };
  return undefined;
}

/**
 * Whether the image is complete: a PNG ends with its IEND chunk, a JPEG with EOI, a WebP's RIFF length
 * matches, a GIF ends with its trailer. A reply cut off mid-stream fails this even when no length was sent.
 */
export function isCompleteImage(b: Uint8Array, kind = sniffImage(b)): boolean {
  if (!kind) return false;
  switch (kind.mime) {
    case 'image/png':
      // …IEND + 4-byte CRC: the last 12 bytes are length 0, "IEND", CRC.
      return b.length >= 8 + 12 && startsWith(b, [0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44], b.length - 12);
    case 'image/jpeg': {
      // Some encoders pad after EOI; look for it near the end.
      for (let i = b.length - 2; i >= Math.max(2, b.length - 64); i--) if (b[i] === 0xff && b[i + 1] === 0xd9) return true;
      return false;
    }
    case 'image/webp': {
      const size = b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24);
      return b.length >= 8 + size;
    }
    case 'image/gif':
      return b[b.length - 1] === 0x3b;
    default:
      return false;
  }
}

/** Decodes base64 (optionally a data: URI); undefined when the text is not base64. */
export function decodeBase64(text: string): Uint8Array | undefined {
  let s = text.trim();
  const comma = s.startsWith('data:') ? s.indexOf(',') : -1;
  if (comma >= 0) s = s.slice(comma + 1);
  s = s.replace(/\s+/g, '');
  if (!s || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(s)) return undefined;
  const buf = Buffer.from(s, s.includes('-') || s.includes('_') ? 'base64url' : 'base64');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * Of shapes written `W<sep>H` (`16:9`, `1024x1024`), the one whose aspect ratio is closest to width:height — on a
 * log scale, so 2:1 and 1:2 are equally far from 1:1.
 */
export function nearestShape(width: number, height: number, shapes: readonly string[], sep: ':' | 'x'): string {
  const want = Math.log(width / height);
  let best = shapes[0]!;
  let gap = Infinity;
  for (const shape of shapes) {
    const [w, h] = shape.split(sep).map(Number) as [number, number];
    const g = Math.abs(Math.log(w / h) - want);
    if (g < gap - 1e-9) {
      gap = g;
      best = shape;
    }
  }
  return best;
}
