// The heat must be redrawn within 50 ms of a pause in typing on a 200-prompt file. This measures the whole path the
// editor runs after the pause, without VS Code: re-parse the edited document, predict the prompt that changed (the
// others come from the cache), bucket the visible prompts' words and map their offsets to lines and characters.
import { strict as assert } from 'node:assert';
import { DocumentPrompts, heatRanges } from '../../../src/extension/analysis';
import { Engine } from '../../../src/extension/engine';
import { VERDICT } from '../../../src/extension/heatScale';
import { defaultModelDir, Predictor } from '../../../src/router/predictor';
import { lineIndex, longPromptFile } from '../../support/promptFile';

describe('heat latency on a 200-prompt file', function () {
  this.timeout(60_000);

  it('redraws the visible heat within 50 ms of a pause after an edit', async () => {
    const predictor = await Predictor.load(defaultModelDir());
    const engine = Engine.of(predictor);
    const docs = new DocumentPrompts();
    let text = longPromptFile(200);
    const weights = predictor.normalisation.weights;
    /** One redraw: about 60 visible lines plus the 20-line margins on both sides, around `line`. */
    const redraw = (version: number, line: number) => {
      const started = performance.now();
      const { prompts } = docs.of({ key: 'file:///long.t2i', version, kind: 't2i', name: 'long.t2i', getText: () => text });
      assert.equal(prompts.length, 200);
      const lines = text.split('\n');
      const offsetOf = (l: number) => lines.slice(0, Math.max(0, Math.min(lines.length, l))).reduce((a, x) => a + x.length + 1, 0);
      const visible = [{ start: offsetOf(line - 20), end: offsetOf(line + 80) }];
      const heat = heatRanges(prompts, visible, engine, { metric: VERDICT, scale: 1 }, weights);
      const position = lineIndex(text);
      const ranges = heat.buckets.flat().map((r) => [position(r.start), position(r.end)]);
      return { ms: performance.now() - started, prompts: heat.prompts, ranges: ranges.length };
    };
    const cold = redraw(1, 0);
    // Type into prompts all over the file; each pause redraws the part of the file in view.
    const times: number[] = [];
    let version = 1;
    for (let k = 0; k < 40; k++) {
      const line = 4 + ((k * 37) % 700);
      const lines = text.split('\n');
      const target = lines.findIndex((l, i) => i >= line && l.length > 0 && !l.startsWith('#') && !l.startsWith('negative:') && !l.startsWith('---'));
      lines[target] = `${lines[target]}, extra${k}`;
      text = lines.join('\n');
      const r = redraw(++version, target);
      assert.ok(r.prompts > 10, 'the view holds a screenful of prompts');
      times.push(r.ms);
    }
    times.sort((a, b) => a - b);
    const median = times[times.length >> 1]!;
    const worst = times[times.length - 1]!;
    // The figures this bound rests on, in the test log (BENCHMARKS.md, "Token heat").
    console.log(`      heat redraw after an edit, 200 prompts: median ${median.toFixed(2)} ms, worst ${worst.toFixed(2)} ms (first draw ${cold.ms.toFixed(1)} ms for ${cold.prompts} prompts)`);
    assert.ok(median < 50, `median redraw ${median.toFixed(1)} ms`);
    assert.ok(worst < 100, `worst redraw ${worst.toFixed(1)} ms`);
  });
});
