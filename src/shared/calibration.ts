// How the product says that the predictor was not calibrated on the pair of models in use: one word, and one note,
// for the CLI, the editor (CodeLens, status, hover) and the panel alike. Pure: no Node built-ins, no `vscode`.

/** The word a user reads wherever the pair in use is not the predictor's pair. */
export const UNCALIBRATED = 'uncalibrated';

/** What works on an uncalibrated pair, in words (the editor offers both as commands). */
export const UNCALIBRATED_REMEDY =
  'cascade mode measures the edge image and escalates only when it falls short; calibration teaches the router your pair';

/** Why the pair is uncalibrated and what to do, as a sentence for a place already headed "Uncalibrated" (hover, panel). */
export function uncalibratedReason(predictor: string, why: string): string {
  return `Routing with "${predictor}", which ${why.startsWith('it ') ? why.slice(3) : `is not calibrated here (${why})`}; ${UNCALIBRATED_REMEDY}.`;
}

/** The note under a route: the word, why the pair is uncalibrated, and what to do. */
export function uncalibratedNote(predictor: string, why: string): string {
  const reason = uncalibratedReason(predictor, why);
  return `${UNCALIBRATED}: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`;
}
