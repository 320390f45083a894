// `npx tsx scripts/transfer.ts`: how each shipped predictor routes the public pairs it was NOT trained on (APGR of
// its PRS ranking against the pairs' human ratings). The evidence for which predictor is the default
// (docs/predictors.md). Reads ../shared/data.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { evaluatePredictor } from '../src/router/training';
import { parsePairs } from '../src/router/pairs';
import { Predictor, shippedModelDir, shippedModelNames } from '../src/router/predictor';
import type { LabelledPair } from '../src/router/types';
import { loadAgiqa } from './agiqa';

const DATA = path.resolve(__dirname, '..', '..', 'shared', 'data');

async function main(): Promise<void> {
  const sets: Array<{ name: string; pairs: LabelledPair[] }> = [];
  for (const dir of ['genai-bench', 'geckonum']) {
    for (const f of readdirSync(path.join(DATA, dir)).filter(
      (x) => x.endsWith('.jsonl') && !x.includes('sdxl-turbo--sdxl.') && !x.includes('muse_a--muse_b'),
    )) {
      sets.push({
        name: `${dir === 'genai-bench' ? 'genai' : 'gecko'}-${f.replace(/^pairs-|\.jsonl$/g, '')}`,
        pairs: parsePairs(readFileSync(path.join(DATA, dir, f), 'utf8'), f),
      });
    }
  }
  for (const [cloud, short] of [
    ['xl2.2_normal', 'xl2.2'],
    ['midjourney_normal', 'midjourney'],
  ] as const) {
    sets.push({
      name: `agiqa-sd1.5--${short}`,
      pairs: (await loadAgiqa(path.join(DATA, 'agiqa3k', 'data.csv'), cloud)).pairs,
    });
  }
  const rows: string[] = [
    '| predictor | mean APGR on pairs it was not trained on | GenAI-Bench | GeckoNum | AGIQA-3K |',
    '|---|---|---|---|---|',
  ];
  for (const name of shippedModelNames()) {
    const predictor = await Predictor.load(shippedModelDir(name)!);
    const by: Record<string, number[]> = { genai: [], gecko: [], agiqa: [] };
    for (const set of sets) {
      // Its own pair (and, for the default, the AGIQA pair it was trained on) does not count.
      if (set.name === name || (name === 'default' && set.name === 'agiqa-sd1.5--xl2.2')) continue;
      // A predictor scores its own metrics; the pair's quality is the mean of the pair's metrics either way.
      const r = await evaluatePredictor(predictor, set.pairs);
      by[set.name.split('-')[0]!]!.push(r.routers.routet2i!.apgr);
    }
    const mean = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN);
    const all = [...by.genai!, ...by.gecko!, ...by.agiqa!];
    rows.push(
      `| ${name} | ${mean(all).toFixed(3)} | ${mean(by.genai!).toFixed(3)} | ${mean(by.gecko!).toFixed(3)} | ${mean(by.agiqa!).toFixed(3)} |`,
    );
    console.error(rows[rows.length - 1]);
  }
  console.log(rows.join('\n'));
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
