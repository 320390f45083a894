import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../../router/errors';
import { readPromptFile } from '../../router/inputs';
import { calibrateAlpha, decideRoute, explainDecision, validatePolicy } from '../../router/policy';
import { defaultModelDir, Predictor, shippedModelDir, shippedModelNames, weakTokens } from '../../router/predictor';
import { PARETO_WORDS } from '../../router/prs';
import type { Prediction, PromptEntry } from '../../router/types';
import { numberOption, parseCommandArgs } from '../args';
import { encoderContext, encoderFactories } from '../encoders';
import { fixed, percent, shorten, signed } from '../format';
import { writeLine, type CliIO, type Command } from '../io';

const usage = `Usage: routet2i route <input…> [--budget ρ] [--model NAME|DIR] [--json]

Predicts edge and cloud quality for every prompt, compares them (PRS and the Pareto relation) and
routes each prompt to the edge or the cloud so that at most a share ρ goes to the cloud.

Inputs: .t2i, .txt (one prompt per line), .tsv/.csv (a "prompt" column), .jsonl ("prompt" field),
or - for standard input (one prompt per line).

Options:
  --budget ρ      share of prompts that may go to the cloud, 0 to 1 (default 0.3)
  --model NAME|DIR  a shipped predictor by name (see docs/predictors.md; ${shippedModelNames().join(', ')}) or a predictor folder (default: default)
  --models-dir D  local folder of encoder models, for predictors trained on the clip encoder
  --json          machine-readable output (the shape is documented in the README)
  -h, --help      this help`;

export async function loadPredictorFor(model: string | undefined, io: CliIO, modelsDir?: string): Promise<Predictor> {
  // A name of a shipped predictor (models/<name>) unless a folder of that name exists here.
  const local = model ? path.resolve(io.cwd, model) : undefined;
  const dir = !model ? defaultModelDir() : existsSync(local!) ? local! : (shippedModelDir(model) ?? local!);
  return Predictor.load(dir, { encoders: encoderFactories, context: encoderContext(io, modelsDir) });
}

export interface RoutedPrompt {
  entry: PromptEntry;
  prediction: Prediction;
  route: 'edge' | 'cloud';
  reason: string;
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    budget: { type: 'string' },
    model: { type: 'string' },
    'models-dir': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length === 0) throw new UsageError('name at least one prompt file (or - for standard input)');
  if (positionals.filter((p) => p === '-').length > 1) throw new UsageError('standard input (-) can be read only once');
  const budget = numberOption(values.budget, '--budget', 0, 1, 0.3);
  const policy = validatePolicy({ cloudShare: budget }, '--budget');
  const started = performance.now();
  const predictor = await loadPredictorFor(values.model, io, values['models-dir']);

  const entries: PromptEntry[] = [];
  for (const file of positionals) {
    const parsed = await readPromptFile(file, { cwd: io.cwd, stdin: io.stdin });
    entries.push(...parsed.entries);
  }
  const predictStart = performance.now();
  const predictions = await predictor.predict(
    entries.map((e) => e.prompt),
    { signal: io.signal },
  );
  const predictSeconds = (performance.now() - predictStart) / 1000;
  const prs = predictions.map((p) => p.prs);
  // α is calibrated as generate and the editor do: on the model's reference sample (its training prompts' PRS)
  // plus the prompts routed together, so a small file is judged against typical prompts, a large one by itself.
  const alpha = calibrateAlpha([...predictor.prsReference, ...prs], budget);
  const routed: RoutedPrompt[] = entries.map((entry, i) => {
    const d = decideRoute(prs[i]!, alpha, budget, policy);
    return { entry, prediction: predictions[i]!, route: d.route, reason: explainDecision(d, budget) };
  });
  const cloud = routed.filter((r) => r.route === 'cloud').length;
  const seconds = (performance.now() - started) / 1000;
  const summary = {
    model: predictor.name,
    budget,
    alpha,
    cloudShare: cloud / routed.length,
    prompts: routed.length,
    seconds,
    promptsPerSecond: routed.length / Math.max(predictSeconds, 1e-9),
  };

  if (values.json) {
    const out = {
      model: predictor.name,
      modelDir: predictor.dir,
      metrics: predictor.metrics.map((m) => ({ id: m.id, label: m.label })),
      budget,
      alpha,
      cloudShare: summary.cloudShare,
      promptsPerSecond: summary.promptsPerSecond,
      seconds,
      prompts: routed.map(({ entry, prediction, route, reason }) => ({
        id: entry.id,
        prompt: entry.prompt,
        ...(entry.negative !== undefined ? { negative: entry.negative } : {}),
        source: entry.source,
        edge: prediction.edge,
        cloud: prediction.cloud,
        prs: prediction.prs,
        pareto: prediction.pareto,
        route,
        reason,
        tokens: prediction.tokens,
      })),
    };
    writeLine(io.stdout, JSON.stringify(out));
    return 0;
  }

  const weights = predictor.normalisation.weights;
  const label = (id: string) => predictor.metrics.find((m) => m.id === id)?.label.toLowerCase() ?? id;
  const scores = (s: Record<string, number>) => predictor.metrics.map((m) => `${m.label.toLowerCase()} ${fixed(s[m.id]!)}`).join('  ');
  for (const { entry, prediction, route, reason } of routed) {
    const where = entry.source.file === '-' ? `stdin:${entry.source.line + 1}` : `${entry.source.file}:${entry.source.line + 1}`;
    writeLine(io.stdout, `${where}  "${shorten(entry.prompt)}"`);
    writeLine(io.stdout, `  edge   ${scores(prediction.edge)}`);
    writeLine(io.stdout, `  cloud  ${scores(prediction.cloud)}`);
    writeLine(io.stdout, `  PRS ${fixed(prediction.prs)} · ${PARETO_WORDS[prediction.pareto]} · → ${route}: ${reason}`);
    const weak = weakTokens(prediction, predictor.metrics, weights);
    writeLine(io.stdout, `  weak tokens: ${weak.length ? weak.map((w) => `${w.token.text} (${label(w.worstMetric)} ${signed(w.token.impact[w.worstMetric]!)})`).join(', ') : 'none'}`);
    writeLine(io.stdout);
  }
  writeLine(
    io.stdout,
    `${routed.length} prompt${routed.length === 1 ? '' : 's'} · budget ${percent(budget)} cloud · α ${fixed(alpha)} · cloud share ${percent(summary.cloudShare)} (${cloud}) · ${Math.round(summary.promptsPerSecond).toLocaleString('en-US')} prompts/s · model ${predictor.name}`,
  );
  return 0;
}

export const routeCommand: Command = { usage, run };

