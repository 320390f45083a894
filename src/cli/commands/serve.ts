import * as path from 'node:path';
import { createBackend, envSecrets, REQUIRED_SECRETS } from '../../backends/registry';
import { DEFAULT_SIDES } from '../../backends/registry';
import type { Backend, BackendConfig, BackendName } from '../../backends/types';
import { loadGenerationConfig } from '../../generation/config';
import { isDatabaseUrl, openGatewayStore } from '../../generation/gatewayStore';
import { safeUrl } from '../../generation/ledgerPostgres';
import { RouteT2IError, UsageError } from '../../router/errors';
import { validatePolicy } from '../../router/policy';
import { defaultModelDir, Predictor } from '../../router/predictor';
import { createGateway } from '../../server/gateway';
import { loadKeys } from '../../server/keys';
import { integerOption, numberOption, parseCommandArgs } from '../args';
import { encoderFactories } from '../encoders';
import { writeLine, type CliIO, type Command } from '../io';

const usage = `Usage: routet2i serve [--config FILE] [--port N] [--host H] [--ledger FILE|URL] [--keys FILE]

Runs the routing gateway: an HTTP server that speaks the OpenAI Images API (POST /v1/images/generations, with
model auto, edge, cloud or a backend name) and routes each prompt as \`generate\` does, under the same config
file (backends, prices, budget, mode, monthly cap, fallback). Also POST /v1/route, GET /v1/ledger, GET /healthz
and GET /metrics (Prometheus). Images come back as b64_json; the gateway keeps none.

Options:
  --config FILE   JSON or YAML settings, as for generate (default: routet2i.config.yaml, .yml or .json here)
  --port N        port to listen on (default 8787; 0 picks a free one)
  --host H        address to listen on (default 127.0.0.1; use 0.0.0.0 only with --keys)
  --ledger L      the money ledger: a JSON file (one machine; default: the config's "ledger", else
                  .routet2i/ledger.json beside the config file) or postgres://user@host/db (replicas share it)
  --keys FILE     the gateway's own API keys (YAML or JSON: keys: [{name, key, monthlyCap}]); also read from
                  ROUTET2I_GATEWAY_KEYS=name=key[:cap],…  Without keys only loopback addresses are allowed.
  --lease S       seconds a replica's reservations stay its own without renewal (PostgreSQL; default 30)
  --model DIR     predictor folder (default: the shipped model)
  -h, --help      this help

Provider keys come from the environment, as for generate (OPENAI_API_KEY, …).`;

function loopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    config: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    ledger: { type: 'string' },
    keys: { type: 'string' },
    lease: { type: 'string' },
    model: { type: 'string' },
    'models-dir': { type: 'string' },
  });
  if (positionals.length) throw new UsageError(`serve takes no arguments (got "${positionals[0]}")`);
  const port = integerOption(values.port, '--port', 0, 65535, 8787);
  const host = values.host ?? '127.0.0.1';
  const leaseMs = Math.round(numberOption(values.lease, '--lease', 0.2, 3600, 30) * 1000);
  const keys = await loadKeys(values.keys ? path.resolve(io.cwd, values.keys) : undefined, io.env);
  if (!keys && !loopback(host))
    throw new UsageError(
      `--host ${host} opens the gateway to the network: give it keys (--keys FILE or ROUTET2I_GATEWAY_KEYS)`,
    );

  const { config, dir: configDir, ledgerFile } = await loadGenerationConfig(values.config, io.cwd);
  if (!config.edge && !config.cloud)
    throw new RouteT2IError(
      'no-backend',
      'the gateway needs an edge and/or a cloud backend ("edge"/"cloud" in the config file)',
      'pass --config FILE',
    );
  const mode = config.mode ?? 'predict';
  if (mode !== 'predict' && !(config.edge && config.cloud))
    throw new RouteT2IError('bad-config', `mode ${mode} needs both an edge and a cloud backend`);
  const policy = validatePolicy({ cloudShare: config.budget ?? 0.3, monthlyCap: config.monthlyCap ?? null }, 'config');

  const secrets = envSecrets(io.env);
  const build = (name: BackendName, side: 'edge' | 'cloud'): Backend => {
    const own = (config.backends as Record<string, BackendConfig>)[name] ?? {};
    return createBackend(name, { ...own, side }, secrets, { baseDir: configDir });
  };
  const edge = config.edge ? build(config.edge, 'edge') : undefined;
  const cloud = config.cloud ? build(config.cloud, 'cloud') : undefined;
  // A request may name any configured backend; it renders on the side the config (or the backend's default) gives it.
  const named = new Map<string, Backend>();
  for (const b of [edge, cloud]) if (b) named.set(b.name, b);
  for (const name of Object.keys(config.backends) as BackendName[]) {
    if (!named.has(name)) named.set(name, build(name, config.backends[name]?.side ?? DEFAULT_SIDES[name]));
  }
  for (const b of named.values()) {
    if (REQUIRED_SECRETS[b.name as BackendName] && !(await secrets.get(b.secretName!)))
      throw new RouteT2IError('no-key', `${b.name}: no API key: set ${b.secretName} in the environment`);
  }

  const ledgerSpec = values.ledger ?? config.ledger;
  // A database URL is used as given; a file named by --ledger is relative to the current folder, the config's own
  // ledger (or the default) to the config file, as for generate.
  const ledger =
    ledgerSpec && isDatabaseUrl(ledgerSpec)
      ? ledgerSpec
      : values.ledger !== undefined
        ? path.resolve(io.cwd, values.ledger)
        : ledgerFile;
  const warn = (m: string) => writeLine(io.stderr, m);
  const modelDir = values.model ? path.resolve(io.cwd, values.model) : defaultModelDir();
  const modelsDir = values['models-dir'] ? path.resolve(io.cwd, values['models-dir']) : undefined;
  const predictor = await Predictor.load(modelDir, {
    encoders: encoderFactories,
    context: { signal: io.signal, ...(modelsDir ? { modelsDir } : {}) },
  });
  const { store, reconciled } = await openGatewayStore(ledger, policy.monthlyCap, { leaseMs, onWarning: warn });
  if (reconciled.length)
    warn(
      `ledger: ${reconciled.length} reservation${reconciled.length === 1 ? '' : 's'} left by a stopped gateway or run counted as spent`,
    );

  const gateway = createGateway({
    store,
    predictor,
    mode,
    policy,
    edge,
    cloud,
    named,
    fallback: config.fallback ?? 'edge',
    cascadeThreshold: config.cascadeThreshold ?? null,
    hybridBand: config.hybridBand ?? 0.1,
    defaults: config.defaults,
    keys,
    log: warn,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      gateway.server.once('error', reject);
      gateway.server.listen(port, host, () => resolve());
    });
  } catch (e) {
    await store.close();
    const code = (e as NodeJS.ErrnoException).code;
    throw new RouteT2IError(
      'listen',
      `cannot listen on ${host}:${port} (${code === 'EADDRINUSE' ? 'the port is in use' : code === 'EACCES' ? 'permission denied' : (e as Error).message})`,
    );
  }
  const address = gateway.server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  const shown = host.includes(':') ? `[${host}]` : host;
  writeLine(
    io.stderr,
    `routet2i gateway listening on http://${shown}:${actual} — ${edge ? `edge ${edge.name}` : 'no edge'}, ${cloud ? `cloud ${cloud.name}` : 'no cloud'}, mode ${mode}, ledger ${isDatabaseUrl(ledger) ? safeUrl(ledger) : ledger}${keys ? `, ${keys.keys.length} key${keys.keys.length === 1 ? '' : 's'}` : ', no keys (loopback only)'}`,
  );
  // Runs until Ctrl-C / SIGTERM: then requests in flight get a grace period, and the lease is given back.
  await new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  writeLine(io.stderr, 'routet2i gateway: stopping');
  await gateway.close();
  return 0;
}

export const serveCommand: Command = { usage, run };
