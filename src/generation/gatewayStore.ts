import { writeFileAtomic } from '../router/atomicWrite';
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { Ledger, type LedgerEntry } from './ledger';
import { PostgresLedger } from './ledgerPostgres';
import type { GatewayStore, KeyLimit, KeyStatus, MoneyLedger } from './ledgerStore';

/**
 * Where a gateway keeps what outlives a request: the JSON ledger of one machine (with the PRS history in a file beside
 * it), or PostgreSQL for replicas (`postgres://…`), which holds all of it.
 */

const HISTORY_LIMIT = 5000;

/** The JSON ledger, and the PRS history in `prs-history.json` next to it (one gateway process per file). */
export class JsonGatewayStore implements GatewayStore {
  private readonly historyFile: string;
  private history?: number[];
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly json: Ledger) {
    this.historyFile = join(dirname(json.file), 'prs-history.json');
  }

  get ledger(): MoneyLedger {
    return this.json;
  }

  keyStatus(key: KeyLimit): Promise<KeyStatus> {
    return this.json.keyStatus(key);
  }

  async month(): Promise<Awaited<ReturnType<GatewayStore['month']>>> {
    const d = await this.json.details();
    return {
      status: d.status,
      entries: d.entries,
      reservations: d.reservations.map((r) => ({
        id: r.id,
        backend: r.backend,
        estimate: r.estimate,
        at: r.at,
        ...(r.note ? { note: r.note } : {}),
      })),
    };
  }

  async recordPrs(values: readonly number[]): Promise<void> {
    const history = await this.load();
    for (const v of values) if (Number.isFinite(v)) history.push(v);
    if (history.length > HISTORY_LIMIT) history.splice(0, history.length - HISTORY_LIMIT);
    const text = JSON.stringify({ version: 1, prs: history }) + '\n';
    // Writes in order; each is a whole file renamed into place, so a crash leaves the old or the new one.
    this.writing = this.writing.then(async () => {
      await writeFileAtomic(this.historyFile, text, { mkdir: true });
    });
    await this.writing;
  }

  async recentPrs(limit: number): Promise<number[]> {
    return (await this.load()).slice(-limit);
  }

  async close(): Promise<void> {
    await this.writing.catch(() => undefined);
  }

  private async load(): Promise<number[]> {
    if (this.history) return this.history;
    try {
      const d = JSON.parse(await fs.readFile(this.historyFile, 'utf8')) as { prs?: unknown };
      this.history = Array.isArray(d.prs)
        ? d.prs.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
        : [];
    } catch {
      // No history yet (or an unreadable one: it only calibrates α, which then starts from the model's reference).
      this.history = [];
    }
    return this.history;
  }
}

export function isDatabaseUrl(ledger: string): boolean {
  return /^postgres(ql)?:\/\//i.test(ledger);
}

/** Opens the store a `--ledger` value names: a postgres:// URL, or a JSON file path (already resolved). */
export async function openGatewayStore(
  ledger: string,
  monthlyCap: number | null,
  options: { leaseMs?: number; reconnectMs?: number; poolSize?: number; onWarning?: (message: string) => void } = {},
): Promise<{ store: GatewayStore; reconciled: LedgerEntry[] }> {
  if (isDatabaseUrl(ledger)) {
    const { ledger: pg, reconciled } = await PostgresLedger.open({ url: ledger, monthlyCap, ...options });
    return { store: pg, reconciled };
  }
  const { ledger: json, reconciled } = await Ledger.open({ file: ledger, monthlyCap });
  return { store: new JsonGatewayStore(json), reconciled };
}
