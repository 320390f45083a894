import * as path from 'node:path';
import { loadGenerationConfig } from '../../generation/config';
import { Ledger } from '../../generation/ledger';
import { createBackend, envSecrets } from '../../backends/registry';
import type { Backend, BackendConfig, BackendName } from '../../backends/types';
import { RouteT2IError, UsageError } from '../../router/errors';
import { readPromptFile } from '../../router/inputs';
import { DEFAULT_METRICS } from '../../router/metrics';
import { MetricScorer } from '../../runtime/scorer';
import { integerOption, numberOption, parseCommandArgs } from '../args';
import { CLIP_FLAGS, CLIP_HELP, clipOptions, readMetricsFile } from '../clipOptions';
import { collectPairs, type CollectEvent } from '../../generation/collect';
import { writeLine, type CliIO, type Command } from '../io';
import { money } from '../format';
import { chooseToLabel } from '../../router/learning/labelChoice';
import { loadPredictorFor } from './route';

const usage = `Usage: routet2i collect --prompts FILE --out PAIRS [--edge NAME] [--cloud NAME] [--config FILE] [options]

Calibration data for your own pair of models: renders every prompt on the edge and the cloud
backend (same seed and size), scores both images with CLIP on every metric, and appends one
labelled pair per prompt to PAIRS (JSON Lines; what \`routet2i train --data\` reads). Run it again
after a crash or Ctrl-C: prompts already in PAIRS are skipped, nothing is written twice.

Backends (NAME): comfyui, a1111, openai-compatible, openai, stability, replicate, fal, bfl.
Keys come from the environment (OPENAI_API_KEY, STABILITY_API_KEY, REPLICATE_API_TOKEN, FAL_KEY,
BFL_API_KEY, OPENAI_COMPATIBLE_API_KEY, A1111_AUTH).

Options:
  --prompts FILE        .t2i, .txt, .tsv/.csv or .jsonl prompts (- for standard input)
  --edge NAME           the light-weight model's backend; --edge-url URL, --edge-model ID
  --cloud NAME          the large model's backend; --cloud-url URL, --cloud-model ID
  --config FILE         the generation config file (JSON or YAML, as \`generate\` reads; default: routet2i.config.yaml,
                        .yml or .json in the current folder): its edge, cloud, backends.<name> settings, defaults
                        (size, steps, negative), monthlyCap and ledger; flags win
  --out PAIRS           the pairs file to append to (created if missing)
  --size WxH            image size (default 1024x1024; a prompt's own settings win)
  --steps N             sampling steps, where the backend takes them
  --seed N              one seed for all prompts (default: a fixed seed per prompt id)
  --select K            render only the K prompts that teach the router most: diverse (they cover the kinds of
                        prompt in the file) and uncertain (the predictor is least sure of their route), most
                        informative first; deterministic, so a second run picks the same K and resumes
  --model NAME|DIR      the predictor whose features and uncertainty guide --select (default: default)
  --images DIR          also keep the rendered images, as <id>.edge.png / <id>.cloud.png
  --max-cost USD        stop before this run's booked money (failed calls a provider may have charged
                        included) would pass this; the ledger's monthly cap holds as well
  --metrics FILE        JSON or YAML metric list (default: the ten paper metrics + alignment)
  --json                print the summary as JSON
${CLIP_HELP}`;

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    prompts: { type: 'string' },
    edge: { type: 'string' },
    cloud: { type: 'string' },
    'edge-url': { type: 'string' },
    'cloud-url': { type: 'string' },
    'edge-model': { type: 'string' },
    'cloud-model': { type: 'string' },
    config: { type: 'string' },
    out: { type: 'string' },
    size: { type: 'string' },
    steps: { type: 'string' },
    seed: { type: 'string' },
    select: { type: 'string' },
    model: { type: 'string' },
    images: { type: 'string' },
    'max-cost': { type: 'string' },
    metrics: { type: 'string' },
    json: { type: 'boolean' },
    ...CLIP_FLAGS,
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  for (const flag of ['prompts', 'out'] as const) if (!values[flag]) throw new UsageError(`--${flag} is required`);
  const loaded = await loadGenerationConfig(values.config, io.cwd);
  const file = loaded.config;
  const names = { edge: values.edge ?? file.edge, cloud: values.cloud ?? file.cloud };
  for (const side of ['edge', 'cloud'] as const)
    if (!names[side]) throw new UsageError(`--${side} is required (or "${side}" in the --config file)`);
  const size = /^(\d{2,5})x(\d{2,5})$/.exec(
    values.size ?? `${file.defaults.width ?? 1024}x${file.defaults.height ?? 1024}`,
  );
  if (!size) throw new UsageError(`--size must be WIDTHxHEIGHT, e.g. 1024x1024 (got "${values.size}")`);
  const steps = values.steps === undefined ? file.defaults.steps : integerOption(values.steps, '--steps', 1, 1000, 0);
  const seed = values.seed === undefined ? undefined : integerOption(values.seed, '--seed', 0, 2 ** 32 - 1, 0);
  const maxCost =
    values['max-cost'] === undefined ? undefined : numberOption(values['max-cost'], '--max-cost', 0, 1e9, 0);
  const select = values.select === undefined ? undefined : integerOption(values.select, '--select', 1, 1_000_000, 0);
  if (values.model !== undefined && select === undefined) throw new UsageError('--model only guides --select K');

  // Cheap checks first: backend settings and the prompts, before CLIP loads.
  const secrets = envSecrets(io.env);
  const backend = (side: 'edge' | 'cloud'): Backend => {
    const name = names[side]!;
    const config: BackendConfig = { ...(file.backends[name as BackendName] ?? {}), side };
    if (values[`${side}-url`]) config.url = values[`${side}-url`];
    if (values[`${side}-model`]) config.model = values[`${side}-model`];
    return createBackend(name, config, secrets, { baseDir: loaded.dir });
  };
  const edge = backend('edge');
  const cloud = backend('cloud');
  const read = await readPromptFile(values.prompts!, { cwd: io.cwd, stdin: io.stdin });
  if (read.entries.length === 0) throw new RouteT2IError('no-prompts', `${values.prompts} holds no prompts`);
  let entries = read.entries;
  let selected: string[] | undefined;
  if (select !== undefined) {
    const predictor = await loadPredictorFor(values.model, io);
    const choice = await chooseToLabel(
      predictor,
      entries.map((e) => e.prompt),
      select,
      io.signal ? { signal: io.signal } : {},
    );
    entries = choice.picked.map((i) => read.entries[i]!);
    selected = entries.map((e) => e.id);
    if (!values.json)
      writeLine(
        io.stderr,
        `Selected ${entries.length} of ${read.entries.length} prompts that teach most (diverse, and uncertain under "${predictor.name}": PRS near ${choice.boundary.toFixed(2)}): ${selected.join(', ')}`,
      );
  }
  if (file.defaults.negative) for (const e of entries) e.negative ??= file.defaults.negative;
  const metrics = values.metrics ? readMetricsFile(values.metrics, io) : [...DEFAULT_METRICS];
  const out = path.resolve(io.cwd, values.out!);

  // The same ledger and monthly cap as \`generate\` with this config: collect's cloud calls are money too.
  const { ledger, reconciled } = await Ledger.open({ file: loaded.ledgerFile, monthlyCap: file.monthlyCap ?? null });
  if (reconciled.length)
    writeLine(
      io.stderr,
      `ledger: ${reconciled.length} reservation${reconciled.length === 1 ? '' : 's'} left by an interrupted run counted as spent ($${reconciled.reduce((a, e) => a + e.cost, 0).toFixed(2)})`,
    );
  const scorer = await MetricScorer.create({ ...clipOptions(values, io), metrics });
  const shown = values.json
    ? undefined
    : progress(io, values.out!, `${edge.name} (${edge.model})`, `${cloud.name} (${cloud.model})`);
  try {
    const summary = await collectPairs({
      entries,
      edge,
      cloud,
      score: (image, prompt, options) => scorer.score(image, prompt, options),
      metrics: metrics.map((m) => m.id),
      scorerModel: scorer.model,
      out,
      width: Number(size[1]),
      height: Number(size[2]),
      steps,
      seed,
      imagesDir: values.images ? path.resolve(io.cwd, values.images) : undefined,
      maxCost,
      ledger,
      signal: io.signal,
      onEvent: shown?.onEvent,
      onWarning: (message) => writeLine(io.stderr, `warning: ${message}`),
    });
    shown?.finish();
    if (values.json) {
      writeLine(io.stdout, JSON.stringify({ out: values.out, ...(selected ? { selected } : {}), ...summary }, null, 2));
    } else {
      const parts = [
        `wrote ${summary.written} pair${summary.written === 1 ? '' : 's'} to ${values.out} in ${duration(summary.seconds)}`,
      ];
      if (summary.already > 0) parts.push(`${summary.already} were there already`);
      if (summary.failed.length > 0) parts.push(`${summary.failed.length} failed (run again to retry them)`);
      parts.push(`spent ${money(summary.spent)}`);
      writeLine(io.stderr, parts.join('; ') + '.');
      if (summary.stopped) writeLine(io.stderr, `routet2i collect: stopped: ${summary.stopped}`);
    }
    return summary.failed.length > 0 || summary.stopped ? 1 : 0;
  } finally {
    shown?.finish();
    await scorer.dispose();
  }
}

/** Progress on stderr: a redrawn line on a terminal, one line per prompt otherwise. */
function progress(
  io: CliIO,
  out: string,
  edge: string,
  cloud: string,
): { onEvent: (e: CollectEvent) => void; finish: () => void } {
  let drawn = false;
  const clear = () => {
    if (drawn) io.stderr.write('\r\x1b[2K');
    drawn = false;
  };
  const onEvent = (e: CollectEvent) => {
    switch (e.type) {
      case 'plan':
        if (e.repaired > 0)
          writeLine(io.stderr, `${out}: cut off a torn last line (${e.repaired} bytes) left by an interrupted run`);
        writeLine(
          io.stderr,
          `Collecting ${e.todo} of ${e.total} prompts${e.already > 0 ? ` (${e.already} already in ${out})` : ''}: edge ${edge}, cloud ${cloud}; estimated cost ${money(e.estimatedCost)}.`,
        );
        break;
      case 'start':
        if (io.interactive) {
          clear();
          io.stderr.write(`[${e.index}/${e.todo}] ${e.id}: rendering…`);
          drawn = true;
        }
        break;
      case 'pair': {
        const line = `[${e.index}/${e.todo}] ${e.id} done — ${duration(e.secondsLeft)} and ${money(e.costLeft)} left (${money(e.spent)} spent)`;
        if (io.interactive) {
          clear();
          io.stderr.write(line);
          drawn = true;
        } else writeLine(io.stderr, line);
        break;
      }
      case 'failed':
        clear();
        writeLine(io.stderr, `[${e.index}/${e.todo}] ${e.id} failed: ${e.message}`);
        break;
    }
  };
  const finish = () => {
    if (drawn) io.stderr.write('\n'); // keep the last status line
    drawn = false;
  };
  return { onEvent, finish };
}

function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.round(seconds / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export const collectCommand: Command = { usage, run };
