/**
 * Which prompts to label first (`collect --select K`): the K that teach the router most. Pure: it sees only the
 * prompts' features (the ridge head's prompt features: word vectors, counts, length) and, where a predictor is already
 * in use, how unsure it is about each prompt.
 *
 * Greedy k-centre selection (each pick is the prompt farthest from those already picked, in standardised feature
 * space), with the distance multiplied by (1 + uncertainty): it covers the kinds of prompt in the file (diverse) and,
 * among prompts equally far from the picked ones, prefers those the router is least sure of (uncertain). Deterministic:
 * ties go to the earlier prompt; the first pick is the prompt nearest the mean (the most typical one).
 */
export interface SelectOptions {
  /** Per prompt, in [0, 1]: how unsure the current router is (e.g. 1 − 2·|PRS − 0.5|). Absent: diversity alone. */
  uncertainty?: ArrayLike<number>;
}

/** Indices of the K prompts to label, in the order picked. `features` is n × p, row-major. */
export function selectPrompts(
  k: number,
  features: ArrayLike<number>,
  p: number,
  options: SelectOptions = {},
): number[] {
  const n = p > 0 ? Math.floor(features.length / p) : 0;
  const want = Math.max(0, Math.min(n, Math.floor(k)));
  if (want === 0) return [];
  const mean = new Float64Array(p);
  const sd = new Float64Array(p);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) mean[j]! += features[i * p + j]! / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) sd[j]! += (features[i * p + j]! - mean[j]!) ** 2 / n;
  for (let j = 0; j < p; j++) sd[j] = Math.sqrt(sd[j]!) || 1;
  const z = new Float64Array(n * p);
  for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) z[i * p + j] = (features[i * p + j]! - mean[j]!) / sd[j]!;
  const dist2 = (a: number, b: number) => {
    let s = 0;
    for (let j = 0; j < p; j++) s += (z[a * p + j]! - z[b * p + j]!) ** 2;
    return s;
  };
  const weight = (i: number) => 1 + Math.min(1, Math.max(0, options.uncertainty?.[i] ?? 0));
  let first = 0;
  let firstNorm = Infinity;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < p; j++) s += z[i * p + j]! ** 2;
    s /= weight(i);
    if (s < firstNorm) {
      firstNorm = s;
      first = i;
    }
  }
  const picked = [first];
  const taken = new Uint8Array(n);
  taken[first] = 1;
  const nearest = new Float64Array(n);
  for (let i = 0; i < n; i++) nearest[i] = dist2(i, first);
  while (picked.length < want) {
    let best = -1;
    let bestScore = -Infinity;
    for (let i = 0; i < n; i++) {
      if (taken[i]) continue;
      const score = Math.sqrt(nearest[i]!) * weight(i);
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    picked.push(best);
    taken[best] = 1;
    for (let i = 0; i < n; i++) if (!taken[i]) nearest[i] = Math.min(nearest[i]!, dist2(i, best));
  }
  return picked;
}
