import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { loadGenerationConfig } from '../../generation/config';
import { Ledger, monthKey, type LedgerEntry, type Reservation } from '../../generation/ledger';
import { monthView } from '../../generation/monthView';
import { UsageError } from '../../router/errors';
import { parseCommandArgs } from '../args';
import { money, table } from '../format';
import { writeLine, type CliIO, type Command } from '../io';

const usage = `Usage: routet2i ledger [--config FILE] [--ledger FILE] [--month YYYY-MM] [--reconcile | --repair] [--json]

Shows the money ledger that \`generate\` and \`collect\` book every paid call in: the month's spent and
reserved money, the monthly cap, what is left, and every entry. Nothing is written unless you ask:

  --reconcile     settle, at their estimates, reservations left by runs that are gone (a crash, a
                  killed process): the provider may have charged them, so they count as spent
  --repair        make a damaged ledger usable again: every readable entry and reservation is kept in
                  a new file, the damaged file is renamed aside (never deleted), and what could not be
                  kept is listed. Until then no paid call is made.

Options:
  --config FILE   the generation config whose ledger to show (default: routet2i.config.yaml, .yml or
                  .json in the current folder); its "ledger" is relative to the config file, else
                  .routet2i/ledger.json beside it
  --ledger FILE   this ledger file instead
  --month M       the month to show, YYYY-MM (default: this month, UTC)
  --json          machine-readable output
  -h, --help      this help`;

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, {
    config: { type: 'string' },
    ledger: { type: 'string' },
    month: { type: 'string' },
    reconcile: { type: 'boolean' },
    repair: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.reconcile && values.repair)
    throw new UsageError('--reconcile and --repair are separate steps: repair first, then reconcile');
  if (values.month !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(values.month))
    throw new UsageError(`--month must be YYYY-MM (got "${values.month}")`);
  const loaded = await loadGenerationConfig(values.config, io.cwd);
  const file = values.ledger ? path.resolve(io.cwd, values.ledger) : loaded.ledgerFile;
  const ledger = Ledger.at({ file, monthlyCap: loaded.config.monthlyCap ?? null });
  // What --repair and --reconcile did, then the month (the view GET /v1/ledger answers too).
  const out: Record<string, unknown> = {};

  if (values.repair) {
    const repaired = await ledger.repair();
    out.repaired = repaired ?? null;
    if (!values.json) {
      if (!repaired) writeLine(io.stderr, `${file} is sound: nothing to repair.`);
      else {
        writeLine(io.stderr, `Moved the damaged ledger to ${repaired.movedTo}.`);
        writeLine(
          io.stderr,
          `Wrote a new ${path.basename(file)} with the ${repaired.entries} entr${repaired.entries === 1 ? 'y' : 'ies'} and ${repaired.reservations} reservation${repaired.reservations === 1 ? '' : 's'} that could be read.`,
        );
        if (repaired.dropped.length) {
          writeLine(io.stderr, `Could not keep (check ${path.basename(repaired.movedTo)} for money these held):`);
          for (const d of repaired.dropped) writeLine(io.stderr, `  - ${d}`);
        }
      }
    }
  }
  if (values.reconcile) {
    mkdirSync(path.dirname(file), { recursive: true });
    const done = await ledger.reconcile();
    out.reconciled = done;
    if (!values.json) {
      writeLine(
        io.stderr,
        done.length
          ? `Settled ${done.length} leftover reservation${done.length === 1 ? '' : 's'} at ${done.length === 1 ? 'its estimate' : 'their estimates'} (${money(done.reduce((a, e) => a + e.cost, 0))}).`
          : 'No leftover reservations: nothing to reconcile.',
      );
    }
  }

  const month = values.month ?? monthKey(new Date());
  const { status, entries, reservations } = await ledger.details(month);
  if (values.json) {
    writeLine(
      io.stdout,
      JSON.stringify({ ...monthView(ledger.where, { status, entries, reservations }), ...out }, null, 2),
    );
    return 0;
  }
  writeLine(io.stdout, `${file}`);
  writeLine(
    io.stdout,
    `${month}: spent ${money(status.spent)}, reserved ${money(status.reserved)}, cap ${status.cap === null ? 'none' : money(status.cap)}${status.cap === null ? '' : `, left ${money(status.left)}`}`,
  );
  if (status.cascade.cascaded)
    writeLine(
      io.stdout,
      `cascade: ${status.cascade.escalated} of ${status.cascade.cascaded} cascaded prompts escalated to the cloud`,
    );
  if (reservations.length) {
    writeLine(
      io.stdout,
      `\nreservations (calls in flight, or left by a run that stopped; --reconcile settles those whose run is gone):`,
    );
    writeLine(
      io.stdout,
      table(
        reservations.map((r: Reservation) => [
          r.at,
          r.backend,
          money(r.estimate),
          `pid ${r.pid} on ${r.host}`,
          r.note ?? '',
        ]),
      ),
    );
  }
  writeLine(io.stdout, entries.length ? `\nentries (${entries.length}):` : '\nno entries this month');
  if (entries.length)
    writeLine(
      io.stdout,
      table(
        entries.map((e: LedgerEntry) => [
          e.at,
          e.backend,
          money(e.cost),
          e.cost !== e.estimate ? `estimate ${money(e.estimate)}` : '',
          e.reconciled ? 'reconciled' : '',
          e.note ?? '',
        ]),
      ),
    );
  return 0;
}

export const ledgerCommand: Command = { usage, run };
