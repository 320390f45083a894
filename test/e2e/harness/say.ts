// One place for the harness's progress lines, so a long CI log shows where time went.
const started = Date.now();

export function say(message: string): void {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stderr.write(`[e2e +${seconds}s] ${message}\n`);
}
