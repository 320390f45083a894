import { existsSync } from 'node:fs';
import { calibrationFor } from '../../router/learning/modelPair';
import { uncalibratedNote } from '../../shared/calibration';
import * as path from 'node:path';
import { UsageError } from '../../router/errors';
import { inputIdPrefix, readPromptFile } from '../../router/inputs';
import { calibrateAlpha, decideRoute, explainDecision, validatePolicy } from '../../router/policy';
import { defaultModelDir, Predictor, shippedModelDir, shippedModelNames, weakTokens } from '../../router/predictor';
import { PARETO_WORDS } from '../../router/prs';
import { formatVersus } from '../../shared/presentation';
import type { Prediction, PromptEntry } from '../../router/types';
import { numberOption, parseCommandArgs } from '../args';
import { encoderContext, encoderFactories } from '../encoders';
import { fixed, percent, shorten, signed } from '../format';
import { writeJsonWithList, writeLine, type CliIO, type Command } from '../io';

const usage = `Usage: routet2i route <input…> [--budget ρ] [--model NAME|DIR] [--pair EDGE,CLOUD] [--json]

Predicts edge and cloud quality for every prompt, compares them (PRS and the Pareto relation) and
routes each prompt to the edge or the cloud, aiming at a share ρ of the prompts on the cloud. A
"# route: cloud" (or edge) comment line just above a prompt sets its route, as in the editor.

Inputs: .t2i, .txt (one prompt per line), .tsv/.csv (a "prompt" column), .jsonl ("prompt" field),
or - for standard input (one prompt per line). With several inputs, ids are prefixed by the file's
name (portraits-p1), as generate does. Limits on input size: docs/limits.md.

Options:
  --budget ρ      target share of prompts for the cloud, 0 to 1 (default 0.3): the PRS threshold α is
                  set so that about this share of prompts falls below it; a target, not a cap (it
                  holds over typical prompts, and "# route:" lines come on top)
  --model NAME|DIR  a shipped predictor by name (docs/predictors.md: ${shippedModelNames().join(', ')}) or a
                  predictor folder (default: default)
  --models-dir D  local folder of encoder models, for predictors trained on the clip encoder
  --pair E,C      the models in use, as backend:model (e.g. a1111:sd-turbo,openai:gpt-image-1): routing says
                  "uncalibrated" (and "calibrated": false in --json) unless the predictor was trained on this pair
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
    pair: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length === 0) throw new UsageError('name at least one prompt file (or - for standard input)');
  if (positionals.filter((p) => p === '-').length > 1) throw new UsageError('standard input (-) can be read only once');
  const budget = numberOption(values.budget, '--budget', 0, 1, 0.3);
  const policy = validatePolicy({ cloudShare: budget }, '--budget');
  const started = performance.now();
  const predictor = await loadPredictorFor(values.model, io, values['models-dir']);
  const calibration = calibrationFor(predictor.file, pairOption(values.pair));

  const entries: PromptEntry[] = [];
  for (const file of positionals) {
    const parsed = await readPromptFile(file, { cwd: io.cwd, stdin: io.stdin });
    const prefix = inputIdPrefix(file, positionals.length);
    // One by one, not push(...): 150,000 arguments overflow the stack.
    for (const entry of parsed.entries) entries.push(prefix ? { ...entry, id: prefix + entry.id } : entry);
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
    // The user's `# route:` line wins over the policy, as in the editor and generate.
    if (entry.route)
      return {
        entry,
        prediction: predictions[i]!,
        route: entry.route.side,
        reason: `"# route: ${entry.route.side}" in the file`,
      };
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
    const head = {
      model: predictor.name,
      modelDir: predictor.dir,
      metrics: predictor.metrics.map((m) => ({ id: m.id, label: m.label })),
      budget,
      calibrated: calibration.calibrated,
      calibratedOn: calibration.pair ?? null,
      ...(calibration.calibrated ? {} : { note: uncalibratedNote(predictor.name, calibration.why) }),
      alpha,
      cloudShare: summary.cloudShare,
      promptsPerSecond: summary.promptsPerSecond,
      seconds,
    };
    const prompts = routed.map(({ entry, prediction, route, reason }) => ({
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
      ...(prediction.truncated ? { truncated: prediction.truncated } : {}),
      tokens: prediction.tokens,
    }));
    await writeJsonWithList(io.stdout, head, 'prompts', prompts);
    return 0;
  }

  const weights = predictor.normalisation.weights;
  const label = (id: string) => predictor.metrics.find((m) => m.id === id)?.label.toLowerCase() ?? id;
  const scores = (s: Record<string, number>) =>
    predictor.metrics.map((m) => `${m.label.toLowerCase()} ${fixed(s[m.id])}`).join('  ');
  for (const { entry, prediction, route, reason } of routed) {
    const where =
      entry.source.file === '-' ? `stdin:${entry.source.line + 1}` : `${entry.source.file}:${entry.source.line + 1}`;
    writeLine(io.stdout, `${where}  "${shorten(entry.prompt)}"`);
    writeLine(io.stdout, `  edge   ${scores(prediction.edge)}`);
    writeLine(io.stdout, `  cloud  ${scores(prediction.cloud)}`);
    writeLine(
      io.stdout,
      `  PRS ${formatVersus(prediction.prs, alpha)[0]} · ${PARETO_WORDS[prediction.pareto]} · → ${route}: ${reason}`,
    );
    const weak = weakTokens(prediction, predictor.metrics, weights);
    if (prediction.truncated) writeLine(io.stdout, `  cut: ${prediction.truncated.reason}`);
    writeLine(
      io.stdout,
      `  weak tokens: ${weak.length ? weak.map((w) => `${w.token.text} (${label(w.worstMetric)} ${signed(w.token.impact[w.worstMetric]!)})`).join(', ') : 'none'}`,
    );
    writeLine(io.stdout);
  }
  writeLine(
    io.stdout,
    `${routed.length} prompt${routed.length === 1 ? '' : 's'} · budget ${percent(budget)} cloud (target) · α ${fixed(alpha)} · cloud share ${percent(summary.cloudShare)} (${cloud}) · ${Math.round(summary.promptsPerSecond).toLocaleString('en-US')} prompts/s · model ${predictor.name}`,
  );
  if (!calibration.calibrated) writeLine(io.stdout, uncalibratedNote(predictor.name, calibration.why));
  return 0;
}

/** `--pair edge,cloud`: the models in use, each "backend:model". */
function pairOption(value: string | undefined): { edge?: string; cloud?: string } {
  if (value === undefined) return {};
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length !== 2 || parts.some((p) => !/^[^:\s]+:\S+$/.test(p)))
    throw new UsageError(`--pair must be EDGE,CLOUD with each side as backend:model (got ${JSON.stringify(value)})`);
  return { edge: parts[0]!, cloud: parts[1]! };
}

export const routeCommand: Command = { usage, run };
