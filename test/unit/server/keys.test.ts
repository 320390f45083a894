import { strict as assert } from 'node:assert';
import { KeyRing, parseKeyEnv, parseKeyFile } from '../../../src/server/keys';
import { RouteT2IError } from '../../../src/router/errors';
import { parseImagesRequest } from '../../../src/server/openai';

describe('gateway keys', () => {
  const ring = new KeyRing([
    ...parseKeyFile({ keys: [{ name: 'alice', key: 'alice-key-0123456789', monthlyCap: 5 }] }, 'keys.yaml'),
    ...parseKeyEnv('ci=ci-key-0123456789abc,bob=bob-key-0123456789:2.5', 'ENV'),
  ]);

  it('matches a bearer key to its name and cap, and nothing else', () => {
    assert.deepEqual(
      [ring.match('Bearer alice-key-0123456789')?.id, ring.match('Bearer alice-key-0123456789')?.monthlyCap],
      ['alice', 5],
    );
    assert.deepEqual(
      [ring.match('bearer bob-key-0123456789')?.id, ring.match('Bearer bob-key-0123456789')?.monthlyCap],
      ['bob', 2.5],
    );
    assert.equal(ring.match('Bearer ci-key-0123456789abc')?.monthlyCap, null);
    for (const h of [
      undefined,
      '',
      'Bearer',
      'Bearer alice-key-012345678',
      'Basic alice-key-0123456789',
      'alice-key-0123456789',
    ])
      assert.equal(ring.match(h), undefined, String(h));
  });

  it('keeps no key in memory, only digests', () => {
    assert.ok(!JSON.stringify(ring.keys).includes('alice-key'));
  });

  it('refuses short keys, bad names, bad caps and duplicates, without quoting the key', () => {
    const refuses = (f: () => unknown, pattern: RegExp) =>
      assert.throws(
        f,
        (e: unknown) =>
          e instanceof RouteT2IError &&
          e.code === 'bad-keys' &&
          pattern.test(e.message) &&
          !e.message.includes('short'),
      );
    refuses(() => parseKeyEnv('x=short', 'ENV'), /at least 16 characters/);
    refuses(() => parseKeyFile({ keys: [{ name: 'a b', key: 'k'.repeat(20) }] }, 'f'), /"name"/);
    refuses(() => parseKeyFile({ keys: [{ name: 'a', key: 'k'.repeat(20), monthlyCap: -1 }] }, 'f'), /monthlyCap/);
    refuses(() => parseKeyFile({ keys: [{ name: 'a', key: 'k'.repeat(20), cap: 1 }] }, 'f'), /unknown field "cap"/);
    refuses(() => parseKeyFile({ nope: 1 }, 'f'), /expected "keys/);
    refuses(
      () => new KeyRing(parseKeyEnv(`a=${'k'.repeat(20)},a=${'j'.repeat(20)}`, 'ENV')),
      /two gateway keys are named "a"/,
    );
  });
});

describe('gateway: OpenAI Images request', () => {
  it('reads the documented fields with their defaults', () => {
    assert.deepEqual(parseImagesRequest({ prompt: 'a cat' }), { prompt: 'a cat', model: 'auto', n: 1 });
    assert.deepEqual(
      parseImagesRequest({
        prompt: 'a cat',
        model: 'cloud',
        n: 2,
        size: '512x768',
        quality: 'high',
        response_format: 'b64_json',
        user: 'u1',
      }),
      {
        prompt: 'a cat',
        model: 'cloud',
        n: 2,
        size: { width: 512, height: 768 },
        quality: 'high',
        user: 'u1',
      },
    );
    assert.equal(parseImagesRequest({ prompt: 'a', size: 'auto', quality: 'auto' }).size, undefined);
  });

  it('refuses what it cannot honour, naming the parameter', () => {
    for (const [body, param] of [
      [[], null],
      [{ prompt: '' }, 'prompt'],
      [{ prompt: 'a', n: 11 }, 'n'],
      [{ prompt: 'a', n: 1.5 }, 'n'],
      [{ prompt: 'a', size: '1024' }, 'size'],
      [{ prompt: 'a', size: '32x32' }, 'size'],
      [{ prompt: 'a', response_format: 'url' }, 'response_format'],
      [{ prompt: 'a', quality: 7 }, 'quality'],
      [{ prompt: 'a', seed: 1 }, 'seed'],
    ] as const) {
      assert.throws(
        () => parseImagesRequest(body),
        (e: { status?: number; param?: string | null }) => e.status === 400 && e.param === param,
        JSON.stringify(body),
      );
    }
  });
});
