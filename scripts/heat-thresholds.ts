// Prints the heat bucket edges (src/extension/heat/heatScale.ts, THRESHOLDS) from the distribution of token impacts that a
// predictor gives on prompts: examples/*.t2i, plus the PartiPrompts in ../shared/data when present.
// Usage: npx tsx scripts/heat-thresholds.ts [--model DIR] [more prompt files…]
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { VERDICT, heatValue } from '../src/shared/presentation';
import { parsePromptInput } from '../src/router/inputs';
import { defaultModelDir, Predictor } from '../src/router/predictor';

const root = resolve(__dirname, '..');
const args = process.argv.slice(2);
const modelAt = args.indexOf('--model');
const modelDir = modelAt >= 0 ? resolve(args[modelAt + 1]!) : defaultModelDir();
const files = args.filter((_, i) => i !== modelAt && i !== modelAt + 1);
const examples = join(root, 'examples');
for (const f of readdirSync(examples)) if (f.endsWith('.t2i')) files.push(join(examples, f));
const parti = join(root, '..', 'shared', 'data', 'partiprompts', 'PartiPrompts.tsv');

async function main(): Promise<void> {
  const predictor = await Predictor.load(modelDir);
  const prompts: string[] = [];
  for (const f of files) prompts.push(...parsePromptInput(readFileSync(f, 'utf8'), f).entries.map((e) => e.prompt));
  if (existsSync(parti))
    prompts.push(...parsePromptInput(readFileSync(parti, 'utf8'), parti).entries.map((e) => e.prompt));
  const weights = predictor.normalisation.weights;
  const kinds: Record<string, number[]> = { metric: [], [VERDICT]: [] };
  for (const p of prompts) {
    for (const t of predictor.predictSync(p).tokens) {
      for (const m of predictor.metrics) {
        const v = Math.abs(heatValue(t, m.id, weights));
        if (v > 0) kinds.metric!.push(v);
      }
      const v = Math.abs(heatValue(t, VERDICT, weights));
      if (v > 0) kinds[VERDICT]!.push(v);
    }
  }
  console.log(`${prompts.length} prompts, predictor ${predictor.name} (${modelDir})`);
  for (const [kind, values] of Object.entries(kinds)) {
    values.sort((a, b) => a - b);
    const q = (f: number) => values[Math.min(values.length - 1, Math.floor(f * values.length))]!;
    console.log(
      `${kind.padEnd(8)} n=${values.length}  p50 ${q(0.5).toFixed(4)}  p80 ${q(0.8).toFixed(4)}  p95 ${q(0.95).toFixed(4)}  max ${values[values.length - 1]!.toFixed(4)}`,
    );
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
