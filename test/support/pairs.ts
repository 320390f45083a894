import type { LabelledPair } from '../../src/router/types';
import { Rng } from '../../src/router/model/rng';

const SUBJECTS = ['cat', 'dog', 'house', 'tree', 'car', 'boat', 'lamp', 'chair', 'river', 'bird', 'flower', 'mountain'];
const EXTRAS = ['red', 'small', 'old', 'on a table', 'at night', 'in the rain', 'watercolor', 'photo'];

/**
 * Synthetic labelled pairs with a known signal: a prompt that names a person ("a woman", "a man") is much
 * better on the cloud; other prompts are about equal. A router that learns anything should rank them first.
 */
export function syntheticPairs(n: number, seed = 1): LabelledPair[] {
  const rng = new Rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng.next() * xs.length)]!;
  return Array.from({ length: n }, (_, i) => {
    const person = rng.next() < 0.4;
    const prompt = `${person ? pick(['a woman', 'a man', 'a girl']) + ' with ' : ''}a ${pick(EXTRAS)} ${pick(SUBJECTS)}, ${pick(EXTRAS)}`;
    const base = 0.55 + 0.1 * rng.next();
    const noise = () => (rng.next() - 0.5) * 0.04;
    const edge = { quality: base - (person ? 0.2 : 0) + noise(), alignment: base - (person ? 0.15 : 0) + noise() };
    const cloud = { quality: base + 0.02 + noise(), alignment: base + 0.02 + noise() };
    return { id: `s${i}`, prompt, edge, cloud };
  });
}

export function toJsonl(pairs: readonly LabelledPair[]): string {
  return pairs.map((p) => JSON.stringify(p)).join('\n') + '\n';
}
