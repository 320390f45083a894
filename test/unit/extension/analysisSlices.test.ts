// The editor's analysis never holds the extension host's thread for long: predictions are made in time slices of the
// event loop, newest first, and work for a superseded document version is dropped. A fake clock makes the slices
// deterministic (each prediction "takes" 10 ms of it); the real one is never asserted on.
import { strict as assert } from 'node:assert';
import { CachedPredictor } from '../../../src/extension/predictor/cachedPredictor';
import { CancelledError } from '../../../src/router/errors';
import { defaultModelDir, Predictor } from '../../../src/router/predictor';
import { MAX_PROMPT_CHARS } from '../../../src/router/prompt';

describe('analysis in time slices', function () {
  this.timeout(60_000);
  let predictor: Predictor;
  let made: string[];
  let clock: number;
  before(async () => {
    predictor = await Predictor.load(defaultModelDir());
    const predictSync = predictor.predictSync.bind(predictor);
    predictor.predictSync = (prompt: string) => {
      made.push(prompt);
      clock += 10;
      return predictSync(prompt);
    };
  });
  beforeEach(() => {
    made = [];
    clock = 0;
  });
  const engineOf = () => CachedPredictor.of(predictor, { sliceMs: 20, now: () => clock });
  /** Resolves once the engine has nothing queued, counting the turns of the event loop that ran meanwhile. */
  const settled = async (engine: CachedPredictor): Promise<number> => {
    let turns = 0;
    while (engine.queued > 0) {
      await new Promise((r) => setImmediate(r));
      turns++;
    }
    return turns;
  };

  it('predicts only what fits in a slice now, queues the rest and finishes it over later turns', async () => {
    const engine = engineOf();
    const prompts = Array.from({ length: 10 }, (_, i) => `a red cat number ${i}`);
    const arrived: string[] = [];
    engine.onDidPredict((p) => arrived.push(...p));
    const now = prompts.map((p) => engine.prediction(p));
    assert.equal(now.filter(Boolean).length, 2, 'two predictions of 10 ms fit in a 20 ms slice');
    assert.equal(engine.queued, 8);
    const turns = await settled(engine);
    assert.ok(turns >= 4, `the other eight took several turns of the event loop (${turns})`);
    assert.deepEqual(new Set(arrived), new Set(prompts.slice(2)), 'onDidPredict told about each queued prompt');
    for (const p of prompts) assert.ok(engine.prediction(p), `${p} is cached`);
    assert.equal(made.length, 10, 'each prompt predicted once');
    engine.dispose();
  });

  it('answers awaited predictions from the queue, the newest asked first', async () => {
    const engine = engineOf();
    engine.prediction('warm the slice up'); // 10 ms
    engine.prediction('and spend it'); // 20 ms: the slice is spent
    made.length = 0;
    const older = engine.predict('an older prompt');
    const newer = engine.predict('the prompt in view');
    assert.equal(made.length, 0, 'nothing more this turn');
    const [a, b] = await Promise.all([older, newer]);
    assert.equal(a.tokens.length > 0 && b.tokens.length > 0, true);
    assert.deepEqual(made, ['the prompt in view', 'an older prompt']);
    engine.dispose();
  });

  it('drops the queued work of a superseded document version, and rejects its waiters as cancelled', async () => {
    const engine = engineOf();
    engine.prediction('one');
    engine.prediction('two');
    made.length = 0;
    const version1 = new AbortController();
    const version2 = new AbortController();
    assert.equal(engine.prediction('old text of the prompt', version1.signal), undefined);
    const awaited = engine.predict('another old prompt', version1.signal);
    assert.equal(engine.prediction('new text of the prompt', version2.signal), undefined);
    version1.abort();
    await assert.rejects(awaited, CancelledError);
    await settled(engine);
    assert.deepEqual(made, ['new text of the prompt'], 'only the current version was predicted');
    engine.dispose();
  });

  it('keeps a prompt queued by two documents while one of them still wants it', async () => {
    const engine = engineOf();
    engine.prediction('one');
    engine.prediction('two');
    made.length = 0;
    const a = new AbortController();
    const b = new AbortController();
    engine.prediction('shared prompt', a.signal);
    engine.prediction('shared prompt', b.signal);
    a.abort();
    await settled(engine);
    assert.deepEqual(made, ['shared prompt']);
    engine.dispose();
  });

  it('cuts a hostile prompt at the engine bound and says so', async () => {
    const engine = CachedPredictor.of(predictor);
    const hostile = `<a:${'abcdefghij'.repeat(4_000)}`;
    const p = await engine.predict(hostile);
    assert.ok(p.truncated, 'the prediction carries its cut note');
    assert.ok(p.truncated.at <= MAX_PROMPT_CHARS);
    assert.match(p.truncated.reason, /40,003 characters/);
    engine.dispose();
  });
});
