// Reading what generation left behind, for the panel: the sidecars in the output folder (the gallery) and this month's
// ledger entries. Read-only and tolerant: a file that is not ours is skipped. No `vscode` here.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { LedgerEntry } from '../../generation/ledger';
import { SIDECAR_VERSION } from '../../generation/output';
import type { Scores } from '../../router/types';
import type { GalleryItem } from './services';

const isScores = (v: unknown): v is Scores =>
  !!v && typeof v === 'object' && Object.values(v).every((x) => typeof x === 'number');

/**
 * The generations in `dir`, newest first: every `<stem>.json` sidecar of ours whose image is there. A sidecar's
 * `image` is the file's word, not ours to trust: one that leads outside the output folder (`../../etc/passwd`, an
 * absolute path, a link out) is skipped, so the gallery shows and the webview may load only files inside it.
 */
export async function readGallery(dir: string, limit: number): Promise<GalleryItem[]> {
  let names: string[];
  let root: string;
  try {
    names = await fs.readdir(dir);
    root = await fs.realpath(dir);
  } catch {
    return [];
  }
  const items: GalleryItem[] = [];
  await Promise.all(
    names
      .filter((n) => n.endsWith('.json') && !n.startsWith('.'))
      .map(async (name) => {
        const sidecar = path.join(dir, name);
        let doc: Record<string, unknown>;
        try {
          doc = JSON.parse(await fs.readFile(sidecar, 'utf8')) as Record<string, unknown>;
        } catch {
          return;
        }
        if (
          doc.version !== SIDECAR_VERSION ||
          typeof doc.image !== 'string' ||
          (doc.route !== 'edge' && doc.route !== 'cloud')
        )
          return;
        const image = path.resolve(dir, doc.image);
        try {
          if (!inside(root, await fs.realpath(image))) return;
        } catch {
          return;
        }
        const predicted = doc.predicted as { edge?: unknown; cloud?: unknown; prs?: unknown } | null;
        items.push({
          image,
          sidecar,
          id: String(doc.id ?? path.basename(name, '.json')),
          prompt: String(doc.prompt ?? ''),
          route: doc.route,
          why: String(doc.why ?? ''),
          backend: String(doc.backend ?? ''),
          model: String(doc.model ?? ''),
          cost: typeof doc.cost === 'number' ? doc.cost : 0,
          created: String(doc.createdAt ?? ''),
          ...(predicted && isScores(predicted.edge) && isScores(predicted.cloud) && typeof predicted.prs === 'number'
            ? { predicted: { edge: predicted.edge, cloud: predicted.cloud, prs: predicted.prs } }
            : {}),
          ...(isScores(doc.measured) ? { measured: doc.measured } : {}),
        });
      }),
  );
  items.sort((a, b) => b.created.localeCompare(a.created) || a.id.localeCompare(b.id));
  return items.slice(0, limit);
}

function inside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** This month's ledger entries, newest first ([] when the ledger does not exist or cannot be read). */
export async function readLedgerEntries(file: string, month: string): Promise<LedgerEntry[]> {
  try {
    const data = JSON.parse(await fs.readFile(file, 'utf8')) as {
      version?: number;
      months?: Record<string, { entries?: LedgerEntry[] }>;
    };
    if (data.version !== 1) return [];
    const entries = data.months?.[month]?.entries;
    return Array.isArray(entries) ? [...entries].reverse() : [];
  } catch {
    return [];
  }
}
