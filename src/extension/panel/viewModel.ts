// Turns what the core offers (services.ts) into the panel's plain-JSON views (protocol.ts). Pure: no `vscode`, so the
// conversion is unit-tested; the host passes in how a file path becomes a webview URI.
import { basename } from 'node:path';
import { escalationAllowance } from '../../router/policy';
import type { ActivePromptState, BudgetState, CalibrationState, GalleryItem } from './services';
import type {
  BudgetView,
  CalibrationView,
  GalleryItemView,
  PromptView,
  RouterFigures,
  Scores,
} from '../../shared/panel/protocol';

export { GALLERY_LIMIT } from '../../shared/panel/protocol';

/** Ledger entries the budget view lists. */
export const LEDGER_ROWS = 8;

/** Finite numbers only; anything else (NaN, ±Infinity, missing) is dropped, since JSON cannot carry it. */
function finiteScores(scores: Scores | undefined): Scores {
  const out: Scores = {};
  for (const [key, value] of Object.entries(scores ?? {})) if (Number.isFinite(value)) out[key] = value;
  return out;
}

const finiteOr = (value: number, fallback: number): number => (Number.isFinite(value) ? value : fallback);

export function promptView(state: ActivePromptState | undefined, heatScale = 1): PromptView | null {
  if (!state) return null;
  const { prediction, decision } = state;
  const path = state.uri.replace(/[?#].*$/, '');
  return {
    uri: state.uri,
    fileName: decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)) || state.uri,
    line: state.range.line,
    promptId: state.promptId,
    prompt: state.prompt,
    metrics: state.metrics.map((m) => ({ id: m.id, label: m.label })),
    weights: finiteScores(state.weights),
    edge: finiteScores(prediction.edge),
    cloud: finiteScores(prediction.cloud),
    prs: finiteOr(prediction.prs, 0.5),
    pareto: prediction.pareto,
    tokens: prediction.tokens
      .filter((t) => t.start >= 0 && t.end <= state.prompt.length && t.end > t.start)
      .map((t) => ({
        text: t.text,
        start: t.start,
        end: t.end,
        impact: finiteScores(t.impact),
        cloudGain: finiteScores(t.cloudGain),
      })),
    route: decision.route,
    reason: decision.reason,
    alpha: finiteOr(decision.alpha, 0),
    why: state.why,
    heatScale: Number.isFinite(heatScale) && heatScale > 0 ? heatScale : 1,
  };
}

export function budgetView(state: BudgetState, rows = LEDGER_ROWS): BudgetView {
  const { cloudShare, money } = state;
  const capped = money.cap !== null && Number.isFinite(money.cap);
  return {
    month: state.month,
    cloudShare: {
      used: finiteOr(cloudShare.used, 0),
      budget: finiteOr(cloudShare.budget, 0),
      edge: cloudShare.images.edge,
      cloud: cloudShare.images.cloud,
      cascaded: cloudShare.cascade?.cascaded ?? 0,
      escalated: cloudShare.cascade?.escalated ?? 0,
      // The policy's own rule: at most ⌈ρ·n⌉ of the n cascaded prompts.
      escalationLimit: escalationAllowance(
        finiteOr(cloudShare.budget, 0),
        { cascaded: 0, escalated: 0 },
        cloudShare.cascade?.cascaded ?? 0,
      ),
    },
    money: {
      spent: finiteOr(money.spent, 0),
      reserved: finiteOr(money.reserved, 0),
      cap: capped ? money.cap : null,
      // Without a cap the ledger reports Infinity left, which JSON cannot carry.
      left: capped && Number.isFinite(money.left) ? Math.max(0, money.left) : null,
      currency: money.currency,
    },
    latest: state.latest.slice(0, rows).map((e) => ({
      id: e.id,
      backend: e.backend,
      cost: e.cost,
      estimate: e.estimate,
      at: e.at,
      ...(e.note ? { note: e.note } : {}),
      ...(e.reconciled ? { reconciled: true } : {}),
    })),
  };
}

export function galleryItemView(item: GalleryItem, src: string): GalleryItemView {
  return {
    id: item.id,
    src,
    fileName: basename(item.image),
    prompt: item.prompt,
    route: item.route,
    why: item.why,
    backend: item.backend,
    model: item.model,
    cost: finiteOr(item.cost, 0),
    created: item.created,
    ...(item.predicted
      ? {
          predicted: {
            edge: finiteScores(item.predicted.edge),
            cloud: finiteScores(item.predicted.cloud),
            prs: finiteOr(item.predicted.prs, 0.5),
          },
        }
      : {}),
    ...(item.measured ? { measured: finiteScores(item.measured) } : {}),
  };
}

/**
 * Gallery items keyed by a unique id: the webview names an item by it, so two sidecars that share a prompt id (the
 * same prompt generated twice) must still be told apart.
 */
export function keyGallery(items: readonly GalleryItem[]): Array<{ key: string; item: GalleryItem }> {
  const seen = new Map<string, number>();
  return items.map((item) => {
    const n = seen.get(item.id) ?? 0;
    seen.set(item.id, n + 1);
    return { key: n === 0 ? item.id : `${item.id}#${n + 1}`, item };
  });
}

export function calibrationView(state: CalibrationState, running: boolean): CalibrationView {
  const orNull = (value: number): number | null => (Number.isFinite(value) ? value : null);
  const routers: Record<string, RouterFigures> = {};
  for (const [name, f] of Object.entries(state.evaluation?.routers ?? {})) {
    routers[name] = { apgr: orNull(f.apgr), cpt50: orNull(f.cpt50), pgr50: orNull(f.pgr50) };
  }
  return {
    modelName: state.modelName,
    modelDir: state.modelDir,
    encoder: state.encoder,
    metrics: state.metrics.map((m) => ({ id: m.id, label: m.label })),
    data: { source: state.data.source, pairs: state.data.pairs },
    ...(state.evaluation ? { evaluation: { n: state.evaluation.n, routers } } : {}),
    ...(state.curve?.length
      ? {
          curve: state.curve
            .filter((p) => Number.isFinite(p.share) && Number.isFinite(p.pgr))
            .map((p) => ({ share: p.share, pgr: p.pgr })),
        }
      : {}),
    running,
    pair: {
      calibrated: state.pair.calibrated,
      note: state.pair.note,
      trainedOn: state.pair.trainedOn ? { ...state.pair.trainedOn } : null,
      inUse: { ...state.pair.inUse },
    },
    mode: state.mode,
  };
}
