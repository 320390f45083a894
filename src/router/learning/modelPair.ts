/**
 * Which pair of models a predictor was calibrated on, and whether that is the pair in use. Routing is a property of
 * the pair (a predictor trained on one pair routes another about as well as chance), so the editor and the CLI say
 * "uncalibrated" when the configured models are not the predictor's recorded pair.
 */
import type { ModelFile } from '../model/format';
import type { LabelledPair } from '../types';
import type { ModelPair } from './workPairs';

function side(v: unknown): string | undefined {
  if (typeof v === 'string' && v) return v;
  // `collect` records each side as {backend, model}.
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    if (typeof o.backend === 'string' && typeof o.model === 'string') return modelId(o.backend, o.model);
  }
  return undefined;
}

/** The identity of one side's model: "backend:model". */
export function modelId(backend: string, model: string): string {
  return `${backend}:${model}`;
}

function pairOf(p: LabelledPair): ModelPair | undefined {
  const source = (p.models ?? p.generated) as Record<string, unknown> | undefined;
  if (typeof source !== 'object' || source === null) return undefined;
  const edge = side(source.edge);
  const cloud = side(source.cloud);
  return edge && cloud ? { edge, cloud } : undefined;
}

/** The model pair every one of these pairs records (`models`, or `generated` from collect); undefined if they differ or say nothing. */
export function recordedModelPair(pairs: readonly LabelledPair[]): ModelPair | undefined {
  let found: ModelPair | undefined;
  for (const p of pairs) {
    const pair = pairOf(p);
    if (!pair) return undefined;
    if (found && (found.edge !== pair.edge || found.cloud !== pair.cloud)) return undefined;
    found = pair;
  }
  return found;
}

/** The pair a predictor file says it was trained on, if it says. */
export function predictorPair(file: Pick<ModelFile, 'training'>): ModelPair | undefined {
  const p = file.training?.data?.pair as Partial<ModelPair> | undefined;
  return p && typeof p.edge === 'string' && typeof p.cloud === 'string' ? { edge: p.edge, cloud: p.cloud } : undefined;
}

export type Calibration = { calibrated: true; pair: ModelPair } | { calibrated: false; why: string; pair?: ModelPair };

/**
 * Whether the predictor was calibrated on the models in use. Unknown models in use (no backend configured) compare with
 * nothing, so they count as uncalibrated too: nothing shows the predictor knows them.
 */
export function calibrationFor(file: Pick<ModelFile, 'training'>, inUse: Partial<ModelPair>): Calibration {
  const pair = predictorPair(file);
  if (!pair) return { calibrated: false, why: 'the predictor does not record which models it was trained on' };
  if (!inUse.edge || !inUse.cloud)
    return {
      calibrated: false,
      why: `no edge and cloud models are configured to compare with its pair (${pair.edge} → ${pair.cloud})`,
      pair,
    };
  if (pair.edge !== inUse.edge || pair.cloud !== inUse.cloud)
    return {
      calibrated: false,
      why: `it was trained on ${pair.edge} → ${pair.cloud}, not on ${inUse.edge} → ${inUse.cloud}`,
      pair,
    };
  return { calibrated: true, pair };
}
