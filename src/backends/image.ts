/** Recognising generated images from their bytes, so a truncated or wrong reply is caught before it is saved. */

// One image reader for every user (src/shared/images.ts): the backends check replies with it.
export { isCompleteImage, sniffImage, type ImageKind } from '../shared/images';

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
