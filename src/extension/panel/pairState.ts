// The Predictor tab's word on the pair in use: the same rule (calibrationFor) and note (src/shared/calibration.ts) as
// the CodeLens, hover and status item. Pure: no `vscode`.
import { calibrationFor } from '../../router/learning/modelPair';
import type { ModelFile } from '../../router/model/format';
import { uncalibratedReason } from '../../shared/calibration';
import type { CalibrationState } from './services';

/** Calibrated on the configured pair (`backend:model` per side) or not, with the note a user reads. */
export function pairState(
  file: Pick<ModelFile, 'training'>,
  name: string,
  inUse: { edge?: string; cloud?: string },
): CalibrationState['pair'] {
  const c = calibrationFor(file, inUse);
  return {
    calibrated: c.calibrated,
    note: c.calibrated ? '' : uncalibratedReason(name, c.why),
    trainedOn: c.pair ?? null,
    inUse: { edge: inUse.edge ?? null, cloud: inUse.cloud ?? null },
  };
}
