import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import type { DispatchOutcome } from './dispatcher';
import { sniffImage } from '../backends/image';

/**
 * Saving generated images with their sidecar JSON. Every file is written to a temporary name in the
 * same folder and renamed into place, so a crash or a full disk never leaves half a PNG or half a JSON
 * under the real name; the image is renamed before its sidecar, so a sidecar never points at nothing.
 */

export const SIDECAR_VERSION = 1;

/** Writes `data` to `path` atomically (temp file in the same folder, fsync, rename). */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = join(path, '..', `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (e) {
    await handle.close().catch(() => undefined);
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  try {
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/**
 * A prompt id as a file name, distinct for distinct ids on any file system: an id that is already a plain lower-case
 * name (letters, digits, `_`, `-`, at most 80) is used as it is; any other (`cat/1`, `ﬁsh`, `Cat`, `a.edge`, a long one)
 * is cleaned and given a hash of the exact id, so `cat/1` and `cat_1`, or `ﬁsh` and `fish`, never share a file (nor do
 * `Cat` and `cat` where case does not count). The sidecar and the JSON output say which file is whose.
 */
export function fileStem(id: string): string {
  if (/^[a-z0-9_-]{1,80}$/.test(id)) return id;
  const clean =
    id
      .normalize('NFKC')
      .replace(/[^\w-]+/g, '_')
      .slice(0, 60) || 'prompt';
  return `${clean}-${createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 10)}`;
}

export interface SidecarContext {
  mode: string;
  budget: number;
  alpha: number;
  negative?: string;
  source?: unknown;
  predicted?: { edge: Record<string, number>; cloud: Record<string, number>; prs: number; pareto: string };
  /** The gateway that routed and rendered it (its address and request id), where one did. */
  gateway?: { url: string; id: string; key?: string };
}

export interface SavedFiles {
  image: string;
  sidecar: string;
  /** The edge image a cascade replaced, kept beside the final one. */
  edgeImage?: string;
}

/** The sidecar document for one finished prompt. */
export function sidecar(
  outcome: DispatchOutcome,
  ctx: SidecarContext,
  files: { image: string; edgeImage?: string },
  now = new Date(),
): Record<string, unknown> {
  const r = outcome.result!;
  return {
    version: SIDECAR_VERSION,
    id: outcome.id,
    prompt: outcome.request.prompt,
    negative: outcome.request.negative ?? null,
    source: ctx.source ?? null,
    mode: ctx.mode,
    budget: ctx.budget,
    alpha: ctx.alpha,
    route: outcome.route,
    why: outcome.why,
    plan: { action: outcome.plan.action, why: outcome.plan.why, uncertain: outcome.plan.uncertain ?? null },
    predicted: ctx.predicted ?? null,
    measured: outcome.measured ?? null,
    unmeasured: outcome.unmeasured ?? false,
    escalation: outcome.escalation ?? null,
    backend: r.backend,
    model: r.model,
    seed: r.seed ?? null,
    size: { width: outcome.request.width, height: outcome.request.height },
    steps: outcome.request.steps ?? null,
    sent: r.sent ?? null,
    cost: outcome.cost,
    currency: 'USD',
    timings: r.timings,
    attempts: outcome.attempts.map((a) => ({
      side: a.side,
      backend: a.backend,
      role: a.role,
      ok: a.ok,
      cost: a.cost,
      estimate: a.estimate,
      error: a.error ?? null,
      measured: a.measured ?? null,
      image:
        a.ok && a.result === r ? files.image : a.ok && a.side === 'edge' && files.edgeImage ? files.edgeImage : null,
    })),
    image: files.image,
    mime: r.mime,
    createdAt: now.toISOString(),
    ...(ctx.gateway ? { gateway: ctx.gateway } : {}),
  };
}

/**
 * Saves the final image as `<id>.<ext>` and its sidecar as `<id>.json` in `dir` (created if needed);
 * a cascade's replaced edge image goes to `<id>.edge.<ext>`.
 */
export async function saveOutcome(dir: string, outcome: DispatchOutcome, ctx: SidecarContext): Promise<SavedFiles> {
  if (!outcome.result) throw new Error(`prompt ${outcome.id} has no image to save`);
  await fs.mkdir(dir, { recursive: true });
  const stem = fileStem(outcome.id);
  const ext = sniffImage(outcome.result.image)?.ext ?? 'png';
  const image = `${stem}.${ext}`;
  let edgeImage: string | undefined;
  const replaced =
    outcome.route === 'cloud' ? outcome.attempts.find((a) => a.side === 'edge' && a.ok && a.result) : undefined;
  if (replaced?.result) {
    edgeImage = `${stem}.edge.${sniffImage(replaced.result.image)?.ext ?? 'png'}`;
    await writeFileAtomic(join(dir, edgeImage), replaced.result.image);
  }
  await writeFileAtomic(join(dir, image), outcome.result.image);
  const doc = sidecar(outcome, ctx, { image, edgeImage });
  await writeFileAtomic(join(dir, `${stem}.json`), JSON.stringify(doc, null, 2) + '\n');
  return {
    image: join(dir, image),
    sidecar: join(dir, `${stem}.json`),
    edgeImage: edgeImage ? join(dir, edgeImage) : undefined,
  };
}
