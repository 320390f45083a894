/** Test images made in memory (sharp, through transformers.js' RawImage): no fixture files. */
import { loadTransformers } from '../../src/runtime/transformers';

export type Format = 'png' | 'jpeg' | 'webp';

/** A solid-colour image. PNG and lossless WebP keep the colour exactly. */
export async function solidImage(
  rgb: readonly number[],
  width: number,
  height: number,
  format: Format,
): Promise<Uint8Array> {
  const t = await loadTransformers();
  const data = new Uint8ClampedArray(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, i * 3);
  return encode(new t.RawImage(data, width, height, 3), format);
}

/** A left/right split of two colours. */
export async function splitImage(
  left: readonly number[],
  right: readonly number[],
  width: number,
  height: number,
  format: Format,
): Promise<Uint8Array> {
  const t = await loadTransformers();
  const data = new Uint8ClampedArray(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data.set(x < width / 2 ? left : right, (y * width + x) * 3);
  return encode(new t.RawImage(data, width, height, 3), format);
}

async function encode(image: { toSharp(): import('sharp').Sharp }, format: Format): Promise<Uint8Array> {
  const s = image.toSharp();
  const out = format === 'png' ? s.png() : format === 'jpeg' ? s.jpeg({ quality: 95 }) : s.webp({ lossless: true });
  return new Uint8Array(await out.toBuffer());
}
