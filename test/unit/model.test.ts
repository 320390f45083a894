import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { LexicalEncoder } from '../../src/router/encoders';
import { RouteT2IError } from '../../src/router/errors';
import { isRidge, loadModel, saveModel } from '../../src/router/model/format';
import type { Parameters as NetParameters } from '../../src/router/model/network';
import { defaultModelDir, Predictor, weakTokens } from '../../src/router/predictor';
import { crossValidate, fitPredictor, prepareData } from '../../src/router/training';
import { syntheticPairs } from '../support/pairs';
import { tempDirs } from '../support/tmp';

describe('predictor: training, files and predictions', function () {
  // The network trains for up to 120 epochs per model: slow on a busy 2-core machine.
  this.timeout(180_000);
  const tmp = tempDirs();
  // The network tests use the version-1 features (45 per word; the network's cost grows with them); the ridge head the default.
  const encoderV1 = new LexicalEncoder(1);
  const encoder = new LexicalEncoder();
  const pairs = syntheticPairs(160, 3);

  // Trained once per seed and head: the tests read them, never change them.
  const cache = new Map<string, ReturnType<typeof fitPredictor>>();
  async function trained(seed = 1, head: 'network' | 'ridge' = 'network') {
    const key = `${seed}/${head}`;
    if (!cache.has(key)) {
      const enc = head === 'network' ? encoderV1 : encoder;
      const data = await prepareData(pairs, enc);
      cache.set(key, fitPredictor(data, enc, { hyperparameters: { seed, maxEpochs: 120 }, name: 'synthetic', head }));
    }
    return cache.get(key)!;
  }
  const net = (p: { params: unknown }) => (p.params as NetParameters).data;

  it('is deterministic for a seed', async () => {
    const a = await trained(5);
    const b = await trained(5);
    assert.deepEqual(Array.from(net(a.predictor)), Array.from(net(b.predictor)));
    const c = await trained(6);
    assert.notDeepEqual(Array.from(net(a.predictor)), Array.from(net(c.predictor)));
  });

  for (const head of ['network', 'ridge'] as const) {
    it(`learns a known signal: the cloud gains on prompts with people, and the person words carry it (${head} head)`, async () => {
      const { predictor, report } = await trained(1, head);
      if (head === 'network') assert.ok(report.bestEpoch > 1, `stopped at epoch ${report.bestEpoch}`);
      else
        assert.ok(
          isRidge(predictor.params) && predictor.file.ridge!.selection.tried > 0,
          'λ and groups chosen by inner cross-validation',
        );
      const withPerson = predictor.predictSync('a woman with a red lamp, photo');
      const without = predictor.predictSync('a red lamp, photo');
      const gap = (p: typeof withPerson) => p.cloud.quality! - p.edge.quality!;
      assert.ok(gap(withPerson) > gap(without) + 0.05, `gap ${gap(withPerson)} vs ${gap(without)}`);
      assert.ok(withPerson.prs < without.prs);
      const woman = withPerson.tokens.find((t) => t.text === 'woman')!;
      assert.ok(woman.cloudGain.quality! > 0, 'the person word favours the cloud');
      const weak = weakTokens(withPerson, predictor.metrics, predictor.normalisation.weights, 3, 0);
      assert.equal(weak[0]?.token.text, 'woman', 'the person word is the weakest for the edge');
    });
  }

  it('ridge head: word impacts are additive (they sum, with the prompt part, to the prediction)', async () => {
    const { predictor } = await trained(1, 'ridge');
    const a = predictor.predictSync('a woman with a red lamp, photo');
    const b = predictor.predictSync('a man with a red lamp, photo');
    // Swapping one word changes the edge prediction by exactly that word's change of share (same length, same prompt part),
    // up to the logit factor at each prediction.
    const slope = (q: number) => 1 / (Math.min(0.98, Math.max(0.02, q)) * (1 - Math.min(0.98, Math.max(0.02, q))));
    const share = (p: typeof a, word: string) =>
      p.tokens.find((t) => t.text === word)!.impact.quality! / slope(p.edge.quality!);
    const others = (p: typeof a, skip: string) =>
      p.tokens.filter((t) => t.text !== skip).reduce((s, t) => s + t.impact.quality! / slope(p.edge.quality!), 0);
    const diff = a.edge.quality! - b.edge.quality!;
    const byShares = share(a, 'woman') + others(a, 'woman') - share(b, 'man') - others(b, 'man');
    assert.ok(Math.abs(diff - byShares) < 1e-6, `${diff} vs ${byShares}`);
  });

  it('ridge head: saved and loaded, it predicts the same; training refuses mixed label sources', async () => {
    const { predictor } = await trained(1, 'ridge');
    const dir = tmp();
    const { format: _f, version: _v, weights: _w, ...draft } = predictor.file;
    const saved = await saveModel(dir, draft, predictor.params);
    assert.equal(saved.version, 2);
    assert.equal(saved.head, 'ridge');
    const loaded = await Predictor.load(dir);
    const p = 'two men (fishing:1.2) on a boat at night';
    assert.ok(Math.abs(predictor.predictSync(p).prs - loaded.predictSync(p).prs) < 1e-5);
    const mixed = pairs.map((pr, i) => (i % 2 ? { ...pr, scoredWith: 'clip-vit-b32' } : pr));
    await assert.rejects(prepareData(mixed, encoder), (e: unknown) => e instanceof RouteT2IError);
  });

  it('beats random routing in cross-validation on learnable data', async () => {
    const data = await prepareData(pairs, encoderV1);
    const r = await crossValidate(data, encoderV1, {
      folds: 4,
      seed: 2,
      hyperparameters: { maxEpochs: 80 },
      head: 'network',
    });
    assert.ok(r.routers.routet2i!.apgr > 0.7, `APGR ${r.routers.routet2i!.apgr}`);
    assert.ok(Math.abs(r.routers.random!.apgr - 0.5) < 1e-9);
    assert.ok(r.routers.oracle!.apgr >= r.routers.routet2i!.apgr);
  });

  it('saves and loads a predictor that predicts the same', async () => {
    const { predictor } = await trained();
    const dir = tmp();
    const { format: _f, version: _v, weights: _w, ...draft } = predictor.file;
    await saveModel(dir, draft, predictor.params);
    const loaded = await Predictor.load(dir);
    const p = 'two men (fishing:1.2) on a boat at night';
    const a = predictor.predictSync(p);
    const b = loaded.predictSync(p);
    assert.ok(Math.abs(a.prs - b.prs) < 1e-5, 'float32 storage keeps predictions');
    assert.deepEqual(
      b.tokens.map((t) => t.text),
      ['two', 'men', 'fishing', 'on', 'a', 'boat', 'at', 'night'],
    );
    assert.deepEqual(
      loaded.metrics.map((m) => m.id),
      ['quality', 'alignment'],
    );
    const heat = loaded.file.heat!;
    assert.ok(
      heat.metric[0] > 0 && heat.metric[0] <= heat.metric[1] && heat.metric[1] <= heat.metric[2],
      'impact percentiles in order',
    );
    assert.ok(heat.verdict[2] > 0);
  });

  it('saves all or nothing: a full disk halfway through leaves the predictor already there as it was', async () => {
    const { predictor } = await trained();
    const dir = await savedCopy();
    const { readdirSync } = await import('node:fs');
    const before = Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(path.join(dir, f))]));
    // The CommonJS object is the one the code under test calls through; its ES module view follows on sync.
    const { createRequire, syncBuiltinESMExports } = await import('node:module');
    const fsp = createRequire(__filename)('node:fs/promises') as typeof import('node:fs/promises');
    const real = fsp.writeFile;
    let calls = 0;
    // The second file fails as a full disk does, after the first was written in full.
    (fsp as { writeFile: unknown }).writeFile = async (...args: Parameters<typeof real>) => {
      if (++calls === 2) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return real(...args);
    };
    syncBuiltinESMExports();
    try {
      const { format: _f, version: _v, weights: _w, ...draft } = predictor.file;
      await assert.rejects(
        saveModel(dir, { ...draft, name: 'replacement' }, predictor.params, () => ({ 'README.md': '# card' })),
        /ENOSPC/,
      );
    } finally {
      (fsp as { writeFile: unknown }).writeFile = real;
      syncBuiltinESMExports();
    }
    assert.equal(calls, 2);
    const after = Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(path.join(dir, f))]));
    assert.deepEqual(Object.keys(after).sort(), Object.keys(before).sort(), 'no temporary file left behind');
    for (const f of Object.keys(before)) assert.ok(after[f]!.equals(before[f]!), `${f} unchanged`);
    assert.equal((await Predictor.load(dir)).name, predictor.name);
  });

  // Training is the slow part (seconds on a loaded machine): train once, save as many copies as a test damages.
  let once: ReturnType<typeof trained> | undefined;
  async function savedCopy(): Promise<string> {
    const { predictor } = await (once ??= trained());
    const dir = tmp();
    const { format: _f, version: _v, weights: _w, ...draft } = predictor.file;
    await saveModel(dir, draft, predictor.params);
    return dir;
  }

  function editJson(dir: string, edit: (j: Record<string, any>) => void): void {
    const file = path.join(dir, 'model.json');
    const j = JSON.parse(readFileSync(file, 'utf8'));
    edit(j);
    writeFileSync(file, JSON.stringify(j));
  }

  const refuses = async (dir: string, pattern: RegExp) => {
    await assert.rejects(Predictor.load(dir), (e: unknown) => e instanceof RouteT2IError && pattern.test(e.message));
  };

  it('refuses damaged, foreign and other-version files with a clear error', async () => {
    const dir = await savedCopy();
    const weights = readFileSync(path.join(dir, 'weights.bin'));
    weights[10] = weights[10]! ^ 0xff;
    writeFileSync(path.join(dir, 'weights.bin'), weights);
    await refuses(dir, /weights\.bin is damaged/);

    const v3 = await savedCopy();
    editJson(v3, (j) => (j.version = 3));
    await refuses(v3, /format version 3 is not supported/);

    const foreign = await savedCopy();
    editJson(foreign, (j) => (j.format = 'onnx'));
    await refuses(foreign, /not a RouteT2I predictor/);

    const noMu = await savedCopy();
    editJson(noMu, (j) => delete j.normalisation.muEdge.quality);
    await refuses(noMu, /muEdge has no number for metric "quality"/);

    const badShape = await savedCopy();
    editJson(badShape, (j) => (j.architecture.hidden = 9));
    await refuses(badShape, /holds \d+ numbers but the architecture needs/);

    const encoder2 = await savedCopy();
    editJson(encoder2, (j) => (j.encoder.id = 'mystery'));
    await refuses(encoder2, /needs the "mystery" encoder/);

    const lexV = await savedCopy();
    editJson(lexV, (j) => (j.encoder.version = 99));
    await refuses(lexV, /lexical encoder version 99/);

    const truncated = await savedCopy();
    writeFileSync(path.join(truncated, 'model.json'), '{"format": "routet2i-pred');
    await refuses(truncated, /not valid JSON/);

    await refuses(tmp(), /no predictor here/);
    await loadModel(await savedCopy());
  });

  it('ships a default model that loads and predicts both metrics', async () => {
    const p = await Predictor.load(defaultModelDir());
    const r = p.predictSync('a portrait of a woman, oil painting');
    assert.deepEqual(Object.keys(r.edge).sort(), ['alignment', 'quality']);
    assert.ok(r.prs > 0 && r.prs < 1);
    assert.ok(p.file.evaluation, 'the shipped model carries its evaluation');
  });
});
