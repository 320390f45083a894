// `npx tsx scripts/experiment-features.ts [genai|gecko]`: nested cross-validated APGR of feature / target choices for
// the ridge head, on the useful pairs of ../shared/data (the experiment behind BENCHMARKS.md's routing notes). Every
// choice (λ, groups, blend weight) is made by inner cross-validation on the outer training folds only.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { LexicalEncoder } from '../src/router/encoders';
import { kFolds, routerFigures } from '../src/router/evaluate';
import { predictRidge, type RidgeData, type RidgeFeature } from '../src/router/model/ridge';
import {
  chooseRidge,
  fitChosen,
  innerFolds,
  RIDGE_GROUP_CHOICES,
  type GroupWeights,
} from '../src/router/model/ridgeSelect';
import { Rng } from '../src/router/model/rng';
import { pairMetricIds, pairQuality, parsePairs } from '../src/router/pairs';
import { prepareData, ridgeInputs } from '../src/router/training';

const DATA = path.resolve(__dirname, '..', '..', 'shared', 'data');
type Variant = (train: number[], test: number[]) => Float64Array; // per test row: cloud-first score

function main(): Promise<void> {
  const which = process.argv[2] ?? 'genai';
  const dir = which === 'gecko' ? 'geckonum' : 'genai-bench';
  const skip = which === 'gecko' ? 'muse_a--muse_b' : 'sdxl-turbo--sdxl.';
  const files = readdirSync(path.join(DATA, dir)).filter((f) => f.endsWith('.jsonl') && !f.includes(skip));
  return run(files.map((f) => path.join(DATA, dir, f)));
}

async function run(files: string[]): Promise<void> {
  const encoder = new LexicalEncoder();
  const totals: Record<string, number[]> = {};
  for (const file of files) {
    const pairs = parsePairs(readFileSync(file, 'utf8'), file);
    const data = await prepareData(pairs, encoder);
    const ids = pairMetricIds(pairs);
    const q = pairs.map((p) => pairQuality(p, ids)!);
    const edge = q.map((v) => v.edge);
    const cloud = q.map((v) => v.cloud);
    const { features, x } = ridgeInputs(data, encoder);
    const p = features.length;
    const m = pairs.length;
    // Targets: edge and cloud quality (one metric in these files).
    const y = new Float64Array(m * 2);
    q.forEach((v, i) => {
      y[i * 2] = v.edge;
      y[i * 2 + 1] = v.cloud;
    });
    const key = (o: Float64Array) => o[1]! - o[0]!;
    // Bag of words over hashed word ids: columns for words in ≥ 3 prompts of the whole file (text only, no labels);
    // each fit uses only the words in ≥ 3 of its own training prompts.
    const df = new Map<number, number>();
    data.encoded.forEach((e) => new Set(e.wordIds ?? []).forEach((w) => df.set(w, (df.get(w) ?? 0) + 1)));
    const vocab = [...df].filter(([, c]) => c >= 3).map(([w]) => w);
    const col = new Map(vocab.map((w, j) => [w, j]));
    const V = vocab.length;
    const bow = new Float64Array(m * V);
    data.encoded.forEach((e, i) => (e.wordIds ?? []).forEach((w) => col.has(w) && (bow[i * V + col.get(w)!]! += 1)));
    const wordFeatures: RidgeFeature[] = vocab.map((w) => ({
      name: `word:${w}`,
      kind: 'sum',
      group: 'words' as never,
    }));
    const both = new Float64Array(m * (p + V));
    for (let i = 0; i < m; i++) {
      both.set(x.subarray(i * p, (i + 1) * p), i * (p + V));
      both.set(bow.subarray(i * V, (i + 1) * V), i * (p + V) + p);
    }
    const main: RidgeData = { x, y, m, p, q: 2 };
    const words: RidgeData = { x: bow, y, m, p: V, q: 2 };
    const joint: RidgeData = { x: both, y, m, p: p + V, q: 2 };
    const jointFeatures = [...features, ...wordFeatures];
    const quality = { edge, cloud };
    const dfIn = (rows: number[]) => {
      const c = new Float64Array(V);
      for (const r of rows) for (let j = 0; j < V; j++) if (bow[r * V + j]! > 0) c[j]! += 1;
      return c;
    };
    let outerFold = 0;
    const fitScore = (
      d: RidgeData,
      f: readonly RidgeFeature[],
      train: number[],
      test: number[],
      groupChoices: readonly GroupWeights[],
      opts: { repeats?: number; top?: number } = {},
    ) => {
      const chosen = chooseRidge(d, train, f, key, quality, {
        seed: 1 + outerFold,
        groupChoices,
        ...(opts.repeats ? { repeats: opts.repeats } : {}),
      });
      const picks = opts.top ? chosen.ranking.slice(0, opts.top).map((r) => r.choice) : [chosen.choice];
      const models = picks.map((c) => fitChosen(d, train, f, c));
      const out = new Float64Array(2);
      return Float64Array.from(
        test,
        (r) =>
          models.reduce((s, model) => s + key(predictRidge(model, d.x.subarray(r * d.p, (r + 1) * d.p), out)), 0) /
          models.length,
      );
    };
    const all = (g: Partial<GroupWeights>): GroupWeights => ({
      length: 1,
      counts: 1,
      lexical: 1,
      numbers: 1,
      vectors: 1,
      ...g,
    });
    const countsOnly = [all({ lexical: 0, numbers: 0, vectors: 0 })];
    const wider: GroupWeights[] = [...RIDGE_GROUP_CHOICES];
    for (const vectors of [0, 0.5, 1]) for (const lexical of [0, 1]) wider.push(all({ lexical, numbers: 0, vectors }));
    const wordsOnly = [
      { ...all({ length: 0, counts: 0, lexical: 0, numbers: 0, vectors: 0 }), words: 1 } as GroupWeights,
    ];
    // The shipped choices (RIDGE_GROUP_CHOICES) include the counts-only setting; `without counts-only` is the earlier set.
    const previous = RIDGE_GROUP_CHOICES.slice(1);
    const variants: Record<string, Variant> = {
      current: (tr, te) => fitScore(main, features, tr, te, RIDGE_GROUP_CHOICES),
      'current repeats3': (tr, te) => fitScore(main, features, tr, te, RIDGE_GROUP_CHOICES, { repeats: 3 }),
      'current top5': (tr, te) => fitScore(main, features, tr, te, RIDGE_GROUP_CHOICES, { top: 5 }),
      'without counts-only': (tr, te) => fitScore(main, features, tr, te, previous),
      'ten counts only': (tr, te) => fitScore(main, features, tr, te, countsOnly),
      'wider groups (numbers in/out)': (tr, te) => fitScore(main, features, tr, te, wider),
      'bag of words only': (tr, te) => {
        const d = dfIn(tr);
        const wf = wordFeatures.map((f, j) => ({ ...f, group: (d[j]! >= 3 ? 'words' : 'off') as never }));
        return fitScore(words, wf, tr, te, wordsOnly);
      },
      'current + words group': (tr, te) => {
        const d = dfIn(tr);
        const jf = jointFeatures.map((f, j) =>
          j < p ? f : { ...f, group: (d[j - p]! >= 3 ? 'words' : 'off') as never },
        );
        const choices = RIDGE_GROUP_CHOICES.flatMap((g) =>
          [0, 0.5, 1].map((w) => ({ ...g, words: w }) as GroupWeights),
        );
        return fitScore(joint, jf, tr, te, choices);
      },
    };
    // Blend of current and words-only, weight chosen on inner folds of the outer training set.
    variants['blend current + words (inner β)'] = (tr, te) => {
      const inner = innerFolds(tr, 5, 7);
      const a = new Float64Array(tr.length);
      const b = new Float64Array(tr.length);
      for (const fold of inner) {
        const held = new Set(fold);
        const itr = tr.filter((_, j) => !held.has(j));
        const ite = fold.map((j) => tr[j]!);
        const sa = variants.current!(itr, ite);
        const sb = variants['bag of words only']!(itr, ite);
        fold.forEach((j, k) => {
          a[j] = sa[k]!;
          b[j] = sb[k]!;
        });
      }
      const z = (v: Float64Array) => {
        const mu = v.reduce((s, t) => s + t, 0) / v.length;
        const sd = Math.sqrt(v.reduce((s, t) => s + (t - mu) ** 2, 0) / v.length) || 1;
        return { mu, sd };
      };
      const za = z(a);
      const zb = z(b);
      let best = 0;
      let bestApgr = -1;
      for (const beta of [0, 0.25, 0.5, 0.75, 1]) {
        const s = Array.from(a, (v, j) => (1 - beta) * ((v - za.mu) / za.sd) + beta * ((b[j]! - zb.mu) / zb.sd));
        const apgr = routerFigures(
          s,
          tr.map((r) => edge[r]!),
          tr.map((r) => cloud[r]!),
        ).apgr;
        if (apgr > bestApgr + 1e-9) {
          bestApgr = apgr;
          best = beta;
        }
      }
      const ta = variants.current!(tr, te);
      const tb = variants['bag of words only']!(tr, te);
      return Float64Array.from(ta, (v, k) => (1 - best) * ((v - za.mu) / za.sd) + best * ((tb[k]! - zb.mu) / zb.sd));
    };
    const only = process.env.VARIANTS?.split(',');
    const rng = new Rng(1);
    const folds = kFolds(m, 5, (xs) => rng.shuffle(xs));
    const line: string[] = [];
    for (const [name, v] of Object.entries(variants)) {
      if (only && !only.includes(name)) continue;
      const started = Date.now();
      const score = new Array<number>(m).fill(0);
      for (const [f, fold] of folds.entries()) {
        outerFold = f;
        const held = new Set(fold);
        const train = Array.from({ length: m }, (_, i) => i).filter((i) => !held.has(i));
        const s = v(train, fold);
        fold.forEach((i, k) => (score[i] = s[k]!));
      }
      const apgr = routerFigures(score, edge, cloud).apgr;
      (totals[name] ??= []).push(apgr);
      line.push(`${name} ${apgr.toFixed(3)} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
    process.stdout.write(`${path.basename(file)} [${V} words]: ${line.join(' · ')}\n`);
  }
  for (const [name, v] of Object.entries(totals))
    console.log(`mean ${name}: ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(3)}`);
}

void main();
