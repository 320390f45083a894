// `npm run bench -- --only heat`: the editor's heat redraw after a pause in typing, on a 200-prompt file, measured
// without VS Code (the same path test/unit/extension/heatLatency.test.ts bounds at 50 ms): re-parse the edited
// document, predict the edited prompt (the rest from the per-prompt cache), bucket the words in view and map their
// offsets to lines and characters.
import { DocumentPrompts, heatRanges } from '../src/extension/prompts/promptCache';
import { CachedPredictor } from '../src/extension/predictor/cachedPredictor';
import { VERDICT } from '../src/shared/presentation';
import { defaultModelDir, Predictor } from '../src/router/predictor';
import { lineIndex, longPromptFile } from '../test/support/promptFile';

export async function heatBench(): Promise<Record<string, unknown>> {
  const predictor = await Predictor.load(defaultModelDir());
  const engine = CachedPredictor.of(predictor);
  const docs = new DocumentPrompts();
  let text = longPromptFile(200);
  const weights = predictor.normalisation.weights;
  const redraw = (version: number, line: number): number => {
    const started = performance.now();
    const { prompts } = docs.of({
      key: 'file:///long.t2i',
      version,
      kind: 't2i',
      name: 'long.t2i',
      getText: () => text,
    });
    const lines = text.split('\n');
    const offsetOf = (l: number) =>
      lines.slice(0, Math.max(0, Math.min(lines.length, l))).reduce((a, x) => a + x.length + 1, 0);
    const heat = heatRanges(
      prompts,
      [{ start: offsetOf(line - 20), end: offsetOf(line + 80) }],
      engine,
      { metric: VERDICT, scale: 1 },
      weights,
    );
    const position = lineIndex(text);
    for (const r of heat.buckets.flat()) void [position(r.start), position(r.end)];
    return performance.now() - started;
  };
  const first = redraw(1, 0);
  const times: number[] = [];
  let version = 1;
  for (let k = 0; k < 200; k++) {
    const lines = text.split('\n');
    // Wrap around inside the file: an edit past its end would change nothing and time a cache hit.
    const from = 4 + ((k * 37) % (lines.length - 8));
    const target = lines.findIndex(
      (l, i) => i >= from && l.length > 0 && !l.startsWith('#') && !l.startsWith('negative:') && !l.startsWith('---'),
    );
    if (target < 0) throw new Error(`bench heat: no prompt line after line ${from}`);
    lines[target] = `${lines[target]}, extra${k}`;
    text = lines.join('\n');
    times.push(redraw(++version, target));
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => Math.round(times[Math.min(times.length - 1, Math.floor(p * times.length))]! * 1000) / 1000;
  process.stderr.write(`bench: heat redraw after an edit, 200-prompt file: p50 ${at(0.5)} ms, p95 ${at(0.95)} ms\n`);
  return {
    prompts: 200,
    redrawMs: { p50: at(0.5), p95: at(0.95), max: at(1) },
    firstDrawMs: Math.round(first * 10) / 10,
    note: 'after a pause in typing: re-parse, predict the edited prompt, bucket the words in view (~100 lines), offsets to positions; 200 edits; no VS Code (setDecorations not included; the e2e scenario measures it in the editor)',
  };
}
