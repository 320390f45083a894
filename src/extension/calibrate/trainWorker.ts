// The training worker (bundled as dist/trainWorker.js): training is synchronous number crunching for seconds to
// minutes, so it runs on its own thread; the extension host stays responsive and cancels by terminating the worker.
import { parentPort, workerData } from 'node:worker_threads';
import { trainFromPairs, type TrainProgress, type TrainRequest, type TrainResult } from './calibrationTrain';

export type WorkerMessage = { type: 'progress'; progress: TrainProgress } | { type: 'done'; result: TrainResult } | { type: 'error'; message: string; code?: string; hint?: string };

if (parentPort) {
  const port = parentPort;
  trainFromPairs(workerData as TrainRequest, (progress) => port.postMessage({ type: 'progress', progress } satisfies WorkerMessage))
    .then((result) => port.postMessage({ type: 'done', result } satisfies WorkerMessage))
    .catch((error: Error & { code?: string; hint?: string }) =>
      port.postMessage({ type: 'error', message: error.message, ...(error.code ? { code: error.code } : {}), ...(error.hint ? { hint: error.hint } : {}) } satisfies WorkerMessage),
    );
}
