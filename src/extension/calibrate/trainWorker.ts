// The training worker (bundled as dist/trainWorker.js): training is synchronous number crunching for seconds to
// minutes, so it runs on its own thread; the extension host stays responsive and cancels by terminating the worker.
// It runs a calibration's training, or the background retrain that the workspace's pairs log triggers.
import { parentPort, workerData } from 'node:worker_threads';
import { trainFromPairs, type TrainProgress, type TrainRequest, type TrainResult } from './calibrationTrain';
import { retrainAndCompare, type RetrainRequest, type RetrainResult } from './retrainJob';

export type WorkerRequest = TrainRequest | RetrainRequest;

export type WorkerMessage =
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'done'; result: TrainResult | RetrainResult }
  | { type: 'error'; message: string; code?: string; hint?: string };

function run(request: WorkerRequest, onProgress: (p: TrainProgress) => void): Promise<TrainResult | RetrainResult> {
  return 'kind' in request && request.kind === 'retrain'
    ? retrainAndCompare(request, onProgress)
    : trainFromPairs(request as TrainRequest, onProgress);
}

if (parentPort) {
  const port = parentPort;
  run(workerData as WorkerRequest, (progress) =>
    port.postMessage({ type: 'progress', progress } satisfies WorkerMessage),
  )
    .then((result) => port.postMessage({ type: 'done', result } satisfies WorkerMessage))
    .catch((error: Error & { code?: string; hint?: string }) =>
      port.postMessage({
        type: 'error',
        message: error.message,
        ...(error.code ? { code: error.code } : {}),
        ...(error.hint ? { hint: error.hint } : {}),
      } satisfies WorkerMessage),
    );
}
