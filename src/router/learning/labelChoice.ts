/**
 * Which K prompts of a file to label first (`routet2i collect --select K`): the predictor in use describes each prompt
 * by the ridge head's prompt features of its encoder (word vectors, counts, length) and says how unsure it is of the
 * route; selectPrompts (../selection.ts) then covers the kinds of prompt in the file and, among equally new ones,
 * prefers the uncertain. Deterministic: the same prompts and the same predictor give the same K, in the same order.
 */
import { throwIfAborted } from '../errors';
import { promptFeatures, ridgeFeatures } from '../model/ridge';
import type { Predictor } from '../predictor';
import { selectPrompts } from '../selection';

export interface LabelChoice {
  /** Indices into the prompts, in the order picked (the most informative first). */
  picked: number[];
  /** The boundary the uncertainty is measured from: the median PRS of the prompts. */
  boundary: number;
}

/**
 * Uncertainty of each prompt in [0, 1]: 1 at the median PRS of the file (where a 50% cloud share puts the route
 * boundary, so a small error flips the route), falling linearly to 0 at the prompt farthest from it.
 */
export function routeUncertainty(prs: readonly number[]): { uncertainty: Float64Array; boundary: number } {
  const sorted = [...prs].sort((a, b) => a - b);
  const n = sorted.length;
  const boundary = n === 0 ? 0.5 : n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  const spread = Math.max(0, ...prs.map((p) => Math.abs(p - boundary)));
  const uncertainty = Float64Array.from(prs, (p) => (spread > 0 ? 1 - Math.abs(p - boundary) / spread : 1));
  return { uncertainty, boundary };
}

export async function chooseToLabel(
  predictor: Predictor,
  prompts: readonly string[],
  k: number,
  options: { signal?: AbortSignal } = {},
): Promise<LabelChoice> {
  const encoder = predictor.encoder;
  const names = (encoder.spec.config.features as string[] | undefined) ?? [];
  const features = ridgeFeatures(names);
  const rarityColumn = names.indexOf('rarity');
  const p = features.length;
  const x = new Float64Array(prompts.length * p);
  const prs: number[] = [];
  const chunk = 256;
  for (let i = 0; i < prompts.length; i += chunk) {
    throwIfAborted(options.signal);
    const encoded = await encoder.encode(prompts.slice(i, i + chunk), options);
    encoded.forEach((e, j) => {
      x.set(
        promptFeatures(features, e.features, e.tokens.length, encoder.spec.dim, rarityColumn, false).x,
        (i + j) * p,
      );
      prs.push(predictor.predictEncoded(e).prs);
    });
  }
  const { uncertainty, boundary } = routeUncertainty(prs);
  return { picked: selectPrompts(k, x, p, { uncertainty }), boundary };
}
