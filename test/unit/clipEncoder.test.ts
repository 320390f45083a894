import * as assert from 'node:assert/strict';
import { RouteT2IError } from '../../src/router/errors';
import { promptTokens } from '../../src/router/prompt';
import { clipEncoderFactory, ClipTokenEncoder, contextRuns } from '../../src/runtime/clipEncoder';
import { tempDirs } from '../support/tmp';
import { TEXT_HIDDEN, writeTinyClip, type TinyClip } from '../support/tinyClip';

describe('clip token encoder on the tiny CLIP', function () {
  this.timeout(60_000);
  const tmp = tempDirs();
  let tiny: TinyClip;
  let encoder: ClipTokenEncoder;
  before(async () => {
    tiny = writeTinyClip(tmp());
    encoder = (await clipEncoderFactory({ id: 'clip' }, { modelsDir: tiny.dir })) as ClipTokenEncoder;
  });
  after(async () => encoder?.dispose());

  /** Mean of the closed-form hidden states over positions [from, to) of a window of ids. */
  const mean = (window: number[], from: number, to: number) => {
    const rows = tiny.hiddenStates(window).slice(from, to);
    return Array.from({ length: TEXT_HIDDEN }, (_, j) => rows.reduce((s, r) => s + r[j]!, 0) / rows.length);
  };
  const row = (f: Float32Array, t: number) => Array.from(f.subarray(t * TEXT_HIDDEN, (t + 1) * TEXT_HIDDEN));
  const close = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) < 1e-6);

  it('records its spec: id, version, the width of the hidden states, the model', () => {
    assert.deepEqual(encoder.spec, {
      id: 'clip',
      version: 1,
      dim: TEXT_HIDDEN,
      config: { model: 'Xenova/clip-vit-base-patch32', dtype: 'q8' },
    });
  });

  it('averages the BPE pieces of each word, in context, with source ranges and weights', async () => {
    const prompt = 'a (photorealistic:1.3) cat, BREAK on the [sofa]';
    const [encoded] = await encoder.encode([prompt]);
    const { tokens, features } = encoded!;
    assert.deepEqual(
      tokens.map((t) => [t.text, prompt.slice(t.start, t.end), Math.round(t.weight * 1000) / 1000]),
      [
        ['a', 'a', 1],
        ['photorealistic', 'photorealistic', 1.3],
        ['cat', 'cat', 1],
        ['on', 'on', 1],
        ['the', 'the', 1],
        ['sofa', 'sofa', 0.909],
      ],
    );
    const ids = (w: string) => tiny.tokenize(w);
    assert.ok(ids('photorealistic').length > 1, 'the word falls into several pieces');
    assert.equal(ids('cat').length, 1);
    // window 1: a photorealistic cat , — window 2 (after BREAK): on the sofa
    const w1 = [tiny.bosId, ...ids('a'), ...ids('photorealistic'), ...ids('cat'), ...ids(','), tiny.eosId];
    const w2 = [tiny.bosId, ...ids('on'), ...ids('the'), ...ids('sofa'), tiny.eosId];
    const n = ids('photorealistic').length;
    const want = [
      mean(w1, 1, 2),
      mean(w1, 2, 2 + n),
      mean(w1, 2 + n, 3 + n),
      mean(w2, 1, 2),
      mean(w2, 2, 3),
      mean(w2, 3, 4),
    ];
    assert.equal(features.length, tokens.length * TEXT_HIDDEN);
    want.forEach((w, t) => assert.ok(close(row(features, t), w), `token ${t}: ${row(features, t)} vs ${w}`));
  });

  it('cuts long prompts into 75-piece windows at word boundaries', async () => {
    const word = 'zebra';
    const pieces = tiny.tokenize(word).length; // 5: z e b r a</w>
    const perWindow = Math.floor(75 / pieces);
    const prompt = Array.from({ length: perWindow + 3 }, () => word).join(' ');
    const [{ tokens, features }] = (await encoder.encode([prompt])) as [{ tokens: unknown[]; features: Float32Array }];
    assert.equal(tokens.length, perWindow + 3);
    const window = [tiny.bosId, ...Array.from({ length: perWindow }, () => tiny.tokenize(word)).flat(), tiny.eosId];
    assert.ok(close(row(features, 0), mean(window, 1, 1 + pieces)));
    assert.ok(close(row(features, perWindow - 1), mean(window, 1 + (perWindow - 1) * pieces, 1 + perWindow * pieces)));
    // the next word opens the second window, at its first position
    assert.ok(close(row(features, perWindow), mean(window, 1, 1 + pieces)));
  });

  it('tokenises word by word exactly as CLIP tokenises the whole prompt', async () => {
    const t = await import('@huggingface/transformers');
    const tokenizer = await t.AutoTokenizer.from_pretrained(tiny.dir, { local_files_only: true });
    for (const prompt of [
      "a cat's portrait, oil painting in the style of Vermeer",
      'close-up photo of 3 dogs!',
      'naïve café',
    ]) {
      const whole = tokenizer.encode(prompt, { add_special_tokens: false });
      assert.deepEqual(whole, tiny.tokenize(prompt));
      const { syntax, tokens } = promptTokens(prompt);
      const parts = [
        ...tokens.map((x) => ({ s: x.start, text: x.text })),
        ...contextRuns(syntax.masked, tokens).map((c) => ({ s: c.start, text: c.text })),
      ].sort((a, b) => a.s - b.s);
      assert.deepEqual(
        parts.flatMap((p) => tokenizer.encode(p.text, { add_special_tokens: false })),
        whole,
        prompt,
      );
    }
  });

  it('encodes a batch the same as one prompt at a time, and the empty prompt as nothing', async () => {
    const prompts = ['a red cat', 'portrait of a dog on the sofa with blue light', '', '((( )))'];
    const batch = await encoder.encode(prompts);
    for (const [i, p] of prompts.entries()) {
      const [single] = await encoder.encode([p]);
      assert.deepEqual(batch[i], single);
    }
    assert.equal(batch[2]!.tokens.length, 0);
    assert.equal(batch[2]!.features.length, 0);
  });

  it('refuses a predictor spec of another width or version', async () => {
    await assert.rejects(
      clipEncoderFactory({ id: 'clip', version: 1, dim: 512 }, { modelsDir: tiny.dir }),
      (e: unknown) =>
        e instanceof RouteT2IError && e.code === 'encoder-mismatch' && /512-wide clip features/.test(e.message),
    );
    await assert.rejects(
      clipEncoderFactory({ id: 'clip', version: 9 }, { modelsDir: tiny.dir }),
      (e: unknown) => e instanceof RouteT2IError && e.code === 'encoder-version',
    );
  });

  it('stops on a fired signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(encoder.encode(['a cat'], { signal: controller.signal }), { name: 'CancelledError' });
  });
});
