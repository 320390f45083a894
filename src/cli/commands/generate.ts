import * as path from 'node:path';
import { loadGenerationConfig } from '../../generation/config';
import {
  Dispatcher,
  type DispatchEvent,
  type DispatchItem,
  type DispatchOutcome,
  type Plan,
} from '../../generation/dispatcher';
import { Ledger, type LedgerStatus } from '../../generation/ledger';
import { saveOutcome, type SavedFiles } from '../../generation/output';
import { createBackend, envSecrets, fileBackend, isBackendName, REQUIRED_SECRETS } from '../../backends/registry';
import { requestFor } from '../../generation/request';
import { BACKEND_NAMES, type Backend, type BackendConfig } from '../../backends/types';
import { RouteT2IError, UsageError } from '../../router/errors';
import { inputIdPrefix, readPromptFile } from '../../router/inputs';
import { GENERATION_MODES, validatePolicy, type GenerationMode } from '../../router/policy';
import { defaultModelDir, Predictor } from '../../router/predictor';
import type { PromptEntry } from '../../router/types';
import { numberOption, parseCommandArgs } from '../args';
import { encoderFactories } from '../encoders';
import { fixed, money, percent, shorten } from '../format';
import { writeLine, type CliIO, type Command } from '../io';
import { scorerLoaders, type ScorerHandle } from '../scorers';

const usage = `Usage: routet2i generate <input…> [--mode predict|cascade|hybrid] [--budget ρ] [--edge NAME] [--cloud NAME]
                         [--edge-url URL] [--cloud-url URL] [--config FILE] [--model DIR] [--out DIR]
                         [--dry-run] [--json]

Generates every prompt where the cost policy sends it — the edge (your GPU server) or the cloud (a paid
API) — and saves each image with a sidecar JSON (prompt, route and why, predicted and measured scores,
backend, model, seed, cost, timings). Money is reserved in the ledger before every cloud call, so the
monthly cap is never passed, and a call the provider may have taken stays booked (docs/money.md); the
ledger is .routet2i/ledger.json beside the config file (\`routet2i ledger\` shows it).

Backends (NAME): ${BACKEND_NAMES.join(', ')}. Keys come from the environment: OPENAI_API_KEY,
STABILITY_API_KEY, REPLICATE_API_TOKEN, FAL_KEY, BFL_API_KEY (A1111_AUTH, OPENAI_COMPATIBLE_API_KEY optional).
A .t2i file's front matter "backend: NAME" renders that file's prompts on NAME, on the side it serves.
With several inputs, ids and image names start with the file's name (portraits-p1).

Options:
  --mode M        predict (route before generating), cascade (edge first, measured, cloud when it falls
                  short), hybrid (cascade only where the prediction is uncertain); default predict
  --budget ρ      share of prompts that may go to the cloud, 0 to 1 (default 0.3)
  --edge NAME     edge backend          --edge-url URL   its server address
  --cloud NAME    cloud backend         --cloud-url URL  its API base address
  --config FILE   JSON or YAML settings: backends, monthly cap, fallback… (default: routet2i.config.yaml,
                  .yml or .json in the current folder, if present); see the README, "Backends"
  --model DIR     predictor folder (default: the shipped model)
  --models-dir D  local folder of encoder and scorer models (offline use)
  --scorer NAME   metric scorer for cascade/hybrid: clip (default) or none
  --out DIR       where images and sidecars go (default: generated)
  --dry-run       print the plan and the estimated cost; no network call, nothing written
  --json          machine-readable output on stdout (progress stays on stderr)
  -h, --help      this help`;

function backendName(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (!isBackendName(value))
    throw new UsageError(`${flag} must be one of ${BACKEND_NAMES.join(', ')} (got "${value}")`);
  return value;
}

function urlOption(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    const u = new URL(value);
    if (u.protocol === 'http:' || u.protocol === 'https:') return value;
  } catch {
    // fall through
  }
  throw new UsageError(`${flag} must be an http(s) URL (got "${value}")`);
}

function monthLine(m: LedgerStatus): string {
  return m.cap === null
    ? `this month ${money(m.spent)} spent (no cap)`
    : `this month ${money(m.spent)} spent of ${money(m.cap)} (${money(m.left)} left)`;
}

function progressWriter(io: CliIO, total: number, order: Map<string, number>) {
  let open = false;
  const clear = () => {
    if (open) io.stderr.write('\r\x1b[K');
    open = false;
  };
  return (e: DispatchEvent) => {
    const n = (id: string) => `[${(order.get(id) ?? 0) + 1}/${total}] ${id}`;
    switch (e.type) {
      case 'start':
        clear();
        writeLine(io.stderr, `${n(e.id)}: ${e.role === 'planned' ? '' : `${e.role}: `}${e.side} (${e.backend})…`);
        break;
      case 'progress':
        if (!io.interactive) break;
        if (e.progress.status === 'running' && e.progress.fraction !== undefined) {
          io.stderr.write(`\r\x1b[K  ${e.id} ${percent(e.progress.fraction)}`);
          open = true;
        } else if (e.progress.status === 'queued') {
          io.stderr.write(
            `\r\x1b[K  ${e.id} queued${e.progress.position !== undefined ? ` (${e.progress.position} ahead)` : ''}`,
          );
          open = true;
        }
        break;
      case 'escalate':
        clear();
        writeLine(io.stderr, `${n(e.id)}: ${e.why}: escalating to the cloud`);
        break;
      case 'fallback':
        clear();
        writeLine(io.stderr, `${n(e.id)}: the ${e.from} failed (${e.error}); trying the ${e.to}`);
        break;
      case 'warning':
        clear();
        writeLine(io.stderr, `warning: ${e.message}`);
        break;
      case 'scored':
      case 'done':
        clear();
        break;
    }
  };
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    mode: { type: 'string' },
    budget: { type: 'string' },
    edge: { type: 'string' },
    cloud: { type: 'string' },
    'edge-url': { type: 'string' },
    'cloud-url': { type: 'string' },
    config: { type: 'string' },
    model: { type: 'string' },
    'models-dir': { type: 'string' },
    scorer: { type: 'string' },
    out: { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (positionals.length === 0) throw new UsageError('name at least one prompt file (or - for standard input)');
  if (positionals.filter((p) => p === '-').length > 1) throw new UsageError('standard input (-) can be read only once');
  if (values.mode !== undefined && !GENERATION_MODES.includes(values.mode as GenerationMode))
    throw new UsageError(`--mode must be one of ${GENERATION_MODES.join(', ')} (got "${values.mode}")`);
  const edgeFlag = backendName(values.edge, '--edge');
  const cloudFlag = backendName(values.cloud, '--cloud');
  const edgeUrl = urlOption(values['edge-url'], '--edge-url');
  const cloudUrl = urlOption(values['cloud-url'], '--cloud-url');
  const budgetFlag = values.budget === undefined ? undefined : numberOption(values.budget, '--budget', 0, 1, 0.3);
  const dryRun = Boolean(values['dry-run']);

  const { config, dir: configDir, ledgerFile } = await loadGenerationConfig(values.config, io.cwd);
  const mode: GenerationMode = (values.mode as GenerationMode | undefined) ?? config.mode ?? 'predict';
  const budget = budgetFlag ?? config.budget ?? 0.3;
  const edgeName = edgeFlag ?? config.edge;
  const cloudName = cloudFlag ?? config.cloud;
  if (!edgeName && !cloudName)
    throw new UsageError(
      'name an edge and/or a cloud backend: --edge NAME, --cloud NAME (or "edge"/"cloud" in the config file)',
    );
  if (edgeUrl && !edgeName) throw new UsageError('--edge-url needs an edge backend (--edge NAME)');
  if (cloudUrl && !cloudName) throw new UsageError('--cloud-url needs a cloud backend (--cloud NAME)');
  if (mode !== 'predict' && !(edgeName && cloudName))
    throw new UsageError(`--mode ${mode} needs both an edge and a cloud backend`);
  const policy = validatePolicy(
    { cloudShare: budget, monthlyCap: config.monthlyCap ?? null },
    values.budget !== undefined ? '--budget' : 'config',
  );

  const secrets = envSecrets(io.env);
  const build = (name: string | undefined, url: string | undefined, side: 'edge' | 'cloud'): Backend | undefined => {
    if (!name) return undefined;
    const own = (config.backends as Record<string, BackendConfig>)[name] ?? {};
    // The role decides the side: an OpenAI-compatible server may well be a paid cloud.
    const cfg: BackendConfig = { ...own, side, ...(url ? { url } : {}) };
    return createBackend(name, cfg, secrets, { baseDir: configDir });
  };
  const edge = build(edgeName, edgeUrl, 'edge');
  const cloud = build(cloudName, cloudUrl, 'cloud');

  const entries: { entry: PromptEntry; settings: Record<string, unknown> }[] = [];
  for (const file of positionals) {
    const parsed = await readPromptFile(file, { cwd: io.cwd, stdin: io.stdin });
    // Every .t2i file numbers its prompts p1, p2…: with several inputs the file's name keeps ids (and images) apart.
    const prefix = inputIdPrefix(file, positionals.length);
    for (const entry of parsed.entries)
      entries.push({ entry: prefix ? { ...entry, id: prefix + entry.id } : entry, settings: parsed.settings });
  }
  if (entries.length === 0) throw new RouteT2IError('no-prompts', `no prompts in ${positionals.join(', ')}`);
  const seen = new Set<string>();
  for (const { entry } of entries) {
    if (seen.has(entry.id))
      throw new RouteT2IError(
        'duplicate-id',
        `prompt id "${entry.id}" appears twice (${entry.source.file}); ids name the output files`,
        positionals.length > 1 ? 'two inputs share a file name; rename one' : undefined,
      );
    seen.add(entry.id);
  }

  const modelDir = values.model ? path.resolve(io.cwd, values.model) : defaultModelDir();
  const modelsDir = values['models-dir'] ? path.resolve(io.cwd, values['models-dir']) : undefined;
  const predictor = await Predictor.load(modelDir, {
    encoders: encoderFactories,
    context: { signal: io.signal, ...(modelsDir ? { modelsDir } : {}) },
  });
  const predictions = await predictor.predict(
    entries.map((e) => e.entry.prompt),
    { signal: io.signal },
  );
  // A file's `backend:` front matter replaces the run's backend on that side for the file's prompts (one client per name).
  const named = new Map<string, Backend>();
  const backendsOf = (settings: Record<string, unknown>, where: string): DispatchItem['backends'] => {
    const wanted = fileBackend(settings.backend, where);
    if (!wanted || (wanted.side === 'edge' ? edge : cloud)?.name === wanted.name) return undefined;
    let backend = named.get(wanted.name);
    if (!backend) named.set(wanted.name, (backend = build(wanted.name, undefined, wanted.side)!));
    return { [wanted.side]: backend };
  };
  const items: DispatchItem[] = entries.map(({ entry, settings }, i) => {
    const backends = backendsOf(settings, entry.source.file);
    return {
      id: entry.id,
      request: requestFor(entry, { ...settings, ...entry.settings }, config.defaults, entry.source.file),
      prediction: predictions[i],
      ...(entry.route ? { force: { side: entry.route.side, why: `"# route: ${entry.route.side}" in the file` } } : {}),
      ...(backends ? { backends } : {}),
    };
  });
  const byId = new Map(entries.map(({ entry }, i) => [entry.id, { entry, prediction: predictions[i]! }]));
  const order = new Map(entries.map(({ entry }, i) => [entry.id, i]));
  const outDir = path.resolve(io.cwd, values.out ?? 'generated');
  const dispatchBase = {
    mode,
    policy,
    edge,
    cloud,
    normalisation: predictor.normalisation,
    history: predictor.prsReference,
    cascadeThreshold: config.cascadeThreshold === undefined ? null : config.cascadeThreshold,
    hybridBand: config.hybridBand ?? 0.1,
    fallback: config.fallback ?? 'edge',
    concurrency: config.concurrency ?? 1,
  } as const;

  if (dryRun) {
    const month = await Ledger.peek({ file: ledgerFile, monthlyCap: policy.monthlyCap });
    const plan = new Dispatcher(dispatchBase).plan(items, month.spent + month.reserved, month.cascade);
    printPlan(io, plan, {
      mode,
      budget,
      edge,
      cloud,
      month,
      byId,
      json: Boolean(values.json),
      predictor: predictor.name,
    });
    return 0;
  }

  for (const b of [edge, cloud, ...named.values()]) {
    if (b && REQUIRED_SECRETS[b.name as keyof typeof REQUIRED_SECRETS] && !(await secrets.get(b.secretName!))) {
      throw new RouteT2IError('no-key', `${b.name}: no API key: set ${b.secretName} in the environment`);
    }
  }
  const { ledger, reconciled } = await Ledger.open({ file: ledgerFile, monthlyCap: policy.monthlyCap });
  if (reconciled.length) {
    const total = reconciled.reduce((a, e) => a + e.cost, 0);
    writeLine(
      io.stderr,
      `ledger: ${reconciled.length} reservation${reconciled.length === 1 ? '' : 's'} left by an interrupted run counted as spent (${money(total)})`,
    );
  }
  let scorer: ScorerHandle | undefined;
  if (mode !== 'predict') {
    // `--scorer none` opts out of measuring: cascade then keeps edge images as rendered, and says so.
    const name = values.scorer === 'none' ? undefined : (values.scorer ?? (scorerLoaders.clip ? 'clip' : undefined));
    if (values.scorer && values.scorer !== 'none' && !scorerLoaders[values.scorer]) {
      throw new UsageError(
        `--scorer must be none or one of ${Object.keys(scorerLoaders).join(', ') || '(none available in this build)'} (got "${values.scorer}")`,
      );
    }
    if (name)
      scorer = await scorerLoaders[name]!({
        cwd: io.cwd,
        env: io.env,
        signal: io.signal,
        modelsDir,
        metrics: predictor.metrics,
      });
  }
  const dispatcher = new Dispatcher({ ...dispatchBase, ledger, scorer: scorer?.scorer });
  const saved = new Map<string, SavedFiles>();
  const outcomes: DispatchOutcome[] = [];
  const progress = progressWriter(io, items.length, order);
  const alphaBox = { alpha: 0 };
  try {
    await dispatcher.run(items, {
      signal: io.signal,
      onPlan: (plan) => {
        alphaBox.alpha = plan.alpha;
      },
      onEvent: progress,
      onOutcome: async (o) => {
        outcomes.push(o);
        const { entry, prediction } = byId.get(o.id)!;
        const n = `[${order.get(o.id)! + 1}/${items.length}] ${o.id}`;
        if (!o.result) {
          writeLine(io.stderr, `${n}: failed — ${o.why.replace(/^no image: /, '')}`);
          return;
        }
        const files = await saveOutcome(outDir, o, {
          mode,
          budget,
          alpha: alphaBox.alpha,
          source: entry.source,
          predicted: { edge: prediction.edge, cloud: prediction.cloud, prs: prediction.prs, pareto: prediction.pareto },
        });
        saved.set(o.id, files);
        writeLine(
          io.stderr,
          `${n}: ${o.route} ${o.result.backend} ${((o.result.timings.totalMs ?? 0) / 1000).toFixed(1)} s ${money(o.cost)} → ${path.relative(io.cwd, files.image) || files.image}`,
        );
      },
    });
  } finally {
    await scorer?.dispose();
  }
  const month = await ledger.status();
  const edgeCount = outcomes.filter((o) => o.route === 'edge').length;
  const cloudCount = outcomes.filter((o) => o.route === 'cloud').length;
  const failed = outcomes.filter((o) => !o.result);
  const spent = Math.round(outcomes.reduce((a, o) => a + o.cost, 0) * 1e9) / 1e9;
  if (values.json) {
    writeLine(
      io.stdout,
      JSON.stringify({
        mode,
        budget,
        alpha: alphaBox.alpha,
        dryRun: false,
        model: predictor.name,
        edge: edge ? { backend: edge.name, model: edge.model } : null,
        cloud: cloud ? { backend: cloud.name, model: cloud.model } : null,
        out: outDir,
        prompts: outcomes.map((o) => {
          const { entry, prediction } = byId.get(o.id)!;
          const files = saved.get(o.id);
          return {
            id: o.id,
            prompt: entry.prompt,
            source: entry.source,
            action: o.plan.action,
            route: o.route ?? null,
            why: o.why,
            prs: prediction.prs,
            predicted: { edge: prediction.edge, cloud: prediction.cloud },
            measured: o.measured ?? null,
            backend: o.result?.backend ?? null,
            model: o.result?.model ?? null,
            seed: o.result?.seed ?? null,
            cost: o.cost,
            image: files?.image ?? null,
            sidecar: files?.sidecar ?? null,
            error: o.error ? { code: (o.error as RouteT2IError).code ?? 'error', message: o.error.message } : null,
          };
        }),
        summary: {
          images: { edge: edgeCount, cloud: cloudCount },
          failed: failed.length,
          spent,
          month: { ...month, left: Number.isFinite(month.left) ? month.left : null },
        },
      }),
    );
  } else {
    writeLine(
      io.stdout,
      `${outcomes.length - failed.length} image${outcomes.length - failed.length === 1 ? '' : 's'}: ${edgeCount} edge, ${cloudCount} cloud${failed.length ? `, ${failed.length} failed` : ''} → ${path.relative(io.cwd, outDir) || '.'}`,
    );
    writeLine(io.stdout, `spent ${money(spent)}; ${monthLine(month)}`);
  }
  return failed.length ? 1 : 0;
}

function printPlan(
  io: CliIO,
  plan: Plan,
  o: {
    mode: GenerationMode;
    budget: number;
    edge?: Backend;
    cloud?: Backend;
    month: LedgerStatus;
    byId: Map<string, { entry: PromptEntry; prediction: { prs: number } }>;
    json: boolean;
    predictor: string;
  },
): void {
  if (o.json) {
    writeLine(
      io.stdout,
      JSON.stringify({
        mode: o.mode,
        budget: o.budget,
        alpha: plan.alpha,
        dryRun: true,
        model: o.predictor,
        edge: o.edge ? { backend: o.edge.name, model: o.edge.model } : null,
        cloud: o.cloud ? { backend: o.cloud.name, model: o.cloud.model } : null,
        // Field names as route --json: `route` (here also "cascade"), costs named `…Cost` as in the summary.
        prompts: plan.entries.map((e) => ({
          id: e.id,
          prompt: o.byId.get(e.id)!.entry.prompt,
          route: e.action,
          why: e.why,
          prs: o.byId.get(e.id)!.prediction.prs,
          estimatedCost: e.estimate,
          maxCost: e.maxEstimate,
        })),
        summary: {
          estimatedCost: plan.estimatedCost,
          maxCost: plan.maxCost,
          escalationBudget: plan.escalationBudget,
          month: { ...o.month, left: Number.isFinite(o.month.left) ? o.month.left : null },
        },
      }),
    );
    return;
  }
  const count = (a: string) => plan.entries.filter((e) => e.action === a).length;
  const parts = [
    `${count('edge')} edge`,
    `${count('cloud')} cloud`,
    ...(count('cascade') ? [`${count('cascade')} cascade`] : []),
  ];
  writeLine(
    io.stdout,
    `plan (${o.mode}, budget ${percent(o.budget)}, α ${fixed(plan.alpha)}): ${plan.entries.length} prompt${plan.entries.length === 1 ? '' : 's'} → ${parts.join(', ')}`,
  );
  for (const e of plan.entries) {
    const p = o.byId.get(e.id)!;
    writeLine(
      io.stdout,
      `  ${e.id.padEnd(8)} ${e.action.padEnd(7)} ${money(e.action === 'cascade' ? e.maxEstimate : e.estimate).padStart(7)}  "${shorten(p.entry.prompt, 48)}" — ${e.why}`,
    );
  }
  const upTo =
    plan.maxCost > plan.estimatedCost
      ? ` (up to ${money(plan.maxCost)} if cascades escalate: at most ${plan.escalationBudget} may)`
      : '';
  writeLine(io.stdout, `estimated cost ${money(plan.estimatedCost)}${upTo}; ${monthLine(o.month)}`);
  writeLine(io.stdout, 'dry run: no request was sent, nothing was written');
}

export const generateCommand: Command = { usage, run };
