// The heat must be redrawn within 50 ms of a pause in typing on a 200-prompt file. What makes that hold is checked here,
// without VS Code, on the whole path the editor runs after the pause: a redraw predicts only the prompt that changed (the
// others come from the cache) and colours only the prompts in view. The time it takes is logged, not asserted: speed is
// measured by `npm run bench -- --only heat` (BENCHMARKS.md, "Token heat").
import { strict as assert } from 'node:assert';
import { DocumentPrompts, heatRanges } from '../../../src/extension/prompts/promptCache';
import { CachedPredictor } from '../../../src/extension/predictor/cachedPredictor';
import { VERDICT } from '../../../src/shared/presentation';
import { defaultModelDir, Predictor } from '../../../src/router/predictor';
import { lineIndex, longPromptFile } from '../../support/promptFile';

describe('heat latency on a 200-prompt file', function () {
  this.timeout(60_000);

  it('redraws after an edit by predicting only the edited prompt and colouring only the prompts in view', async () => {
    const predictor = await Predictor.load(defaultModelDir());
    const engine = CachedPredictor.of(predictor, { sliceMs: Infinity });
    const docs = new DocumentPrompts();
    let text = longPromptFile(200);
    const weights = predictor.normalisation.weights;
    // Count the predictor's work: a redraw that re-predicted the file would be too slow on a long one.
    const predicted: string[] = [];
    const predictSync = predictor.predictSync.bind(predictor);
    predictor.predictSync = (prompt: string) => {
      predicted.push(prompt);
      return predictSync(prompt);
    };
    /** One redraw: about 60 visible lines plus the 20-line margins on both sides, around `line`. */
    const redraw = (version: number, line: number) => {
      const started = performance.now();
      const { prompts } = docs.of({
        key: 'file:///long.t2i',
        version,
        kind: 't2i',
        name: 'long.t2i',
        getText: () => text,
      });
      assert.equal(prompts.length, 200);
      const lines = text.split('\n');
      const offsetOf = (l: number) =>
        lines.slice(0, Math.max(0, Math.min(lines.length, l))).reduce((a, x) => a + x.length + 1, 0);
      const visible = [{ start: offsetOf(line - 20), end: offsetOf(line + 80) }];
      const heat = heatRanges(prompts, visible, engine, { metric: VERDICT, scale: 1 }, weights);
      const position = lineIndex(text);
      const ranges = heat.buckets.flat().map((r) => [position(r.start), position(r.end)]);
      return { ms: performance.now() - started, prompts: heat.prompts, ranges: ranges.length };
    };
    const cold = redraw(1, 0);
    // The first draw predicts the prompts in view and no others.
    assert.equal(predicted.length, cold.prompts);
    assert.ok(cold.prompts > 10 && cold.prompts < 60, `a screenful of prompts on first draw (${cold.prompts})`);
    // Type into prompts all over the file; each pause redraws the part of the file in view.
    const times: number[] = [];
    const seen = new Set(predicted);
    let version = 1;
    for (let k = 0; k < 40; k++) {
      const lines = text.split('\n');
      const line = 4 + ((k * 37) % (lines.length - 8));
      const target = lines.findIndex(
        (l, i) => i >= line && l.length > 0 && !l.startsWith('#') && !l.startsWith('negative:') && !l.startsWith('---'),
      );
      assert.ok(target >= 0, `a prompt line at or after line ${line}`);
      lines[target] = `${lines[target]}, extra${k}`;
      text = lines.join('\n');
      predicted.length = 0;
      const r = redraw(++version, target);
      assert.ok(r.prompts > 10 && r.prompts < 60, `the view holds a screenful of prompts, not the file (${r.prompts})`);
      assert.ok(r.ranges > 0, 'the words in view are coloured');
      // Only the edited prompt is new; a prompt in view that was seen before comes from the cache.
      assert.ok(
        predicted.length >= 1,
        `the edited prompt is predicted again (edit ${k}, line ${target}: ${text.split('\n')[target]})`,
      );
      assert.ok(
        predicted.every((p) => p.includes(`extra${k}`) || !seen.has(p)),
        `only new prompts predicted: ${predicted.length}`,
      );
      assert.ok(
        predicted.some((p) => p.includes(`extra${k}`)),
        'the edited prompt is among them',
      );
      for (const p of predicted) seen.add(p);
      times.push(r.ms);
    }
    times.sort((a, b) => a - b);
    const median = times[times.length >> 1]!;
    const worst = times[times.length - 1]!;
    console.log(
      `      heat redraw after an edit, 200 prompts: median ${median.toFixed(2)} ms, worst ${worst.toFixed(2)} ms (first draw ${cold.ms.toFixed(1)} ms for ${cold.prompts} prompts)`,
    );
  });
});
