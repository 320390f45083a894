import { strict as assert } from 'node:assert';
import {
  credentialRefusal,
  isLoopbackHost,
  sameOrigin,
  scrub,
  SecretSet,
  withoutCredentials,
} from '../../../src/shared/secrets';

describe('secrets: the credential-origin rule and the scrubber', () => {
  const KEY = 'sk-proj-Abc123Def456Ghi789Jkl012Mno345';

  it('a key goes over https, or plain http to this machine only, unless the backend opts in', () => {
    assert.equal(credentialRefusal('https://api.openai.com/v1/images/generations'), undefined);
    for (const local of ['http://127.0.0.1:7860', 'http://localhost:8188', 'http://[::1]:1234', 'http://127.8.9.10'])
      assert.equal(credentialRefusal(local), undefined, local);
    assert.match(
      credentialRefusal('http://192.168.1.20:7860')!,
      /192\.168\.1\.20:7860 is reached over plain http.*allowInsecureHttp/,
    );
    assert.match(credentialRefusal('http://api.example.com')!, /plain http/);
    assert.equal(credentialRefusal('http://192.168.1.20:7860', { allowInsecureHttp: true }), undefined);
    assert.match(credentialRefusal('ftp://x.example')!, /not http/);
    assert.ok(isLoopbackHost('LOCALHOST') && !isLoopbackHost('127.example.com') && !isLoopbackHost('10.0.0.1'));
  });

  it('credential headers are dropped for another origin', () => {
    assert.ok(sameOrigin('https://api.bfl.ai/v1/x', 'https://api.bfl.ai/v1/get_result?id=1'));
    assert.ok(!sameOrigin('https://api.bfl.ai/v1/x', 'https://api.eu.bfl.ai/v1/x'));
    assert.ok(!sameOrigin('https://api.bfl.ai', 'http://api.bfl.ai'));
    assert.deepEqual(
      withoutCredentials({ 'x-key': 'k', Authorization: 'Bearer k', accept: 'application/json', Cookie: 'a=b' }),
      { accept: 'application/json' },
    );
  });

  it('scrubs a key as given, base64 at any alignment, URL-encoded, and any run of 8+ of its characters', () => {
    const text = [
      `key=${KEY}`,
      `Incorrect API key provided: ${KEY.slice(0, 11)}************${KEY.slice(-4)}`,
      `basic=${Buffer.from(`admin:${KEY}`).toString('base64')}`,
      `b64=${Buffer.from(KEY).toString('base64')}`,
      `x${Buffer.from(`xy${KEY}z`).toString('base64url')}`,
      `enc=${encodeURIComponent(KEY)}`,
      `tail=…${KEY.slice(-12)}`,
    ].join('\n');
    const out = scrub(text, [KEY]);
    assert.ok(!out.includes(KEY.slice(0, 8)), out);
    assert.ok(!out.includes(KEY.slice(-8)), out);
    for (const b of [Buffer.from(KEY).toString('base64'), Buffer.from(`admin:${KEY}`).toString('base64')])
      assert.ok(!out.includes(b.slice(8, 24)), out);
    assert.match(out, /Incorrect API key provided: \*\*\*/);
    // Ordinary text survives.
    assert.equal(scrub('a watercolour heron at dawn', [KEY]), 'a watercolour heron at dawn');
  });

  it('scrubs passwords written in URLs and echoed credential headers, known or not', () => {
    assert.equal(
      scrub('cannot reach http://alice:hunter2@192.168.1.5:7860/sdapi', []),
      'cannot reach http://alice:***@192.168.1.5:7860/sdapi',
    );
    assert.equal(scrub('{"authorization": "Bearer abc.def-123456789"}', []), '{"authorization": "Bearer ***"}');
    assert.equal(scrub('x-key=0123456789abcdef', []), 'x-key=***');
  });

  it('short secrets: 4–7 characters only as a whole, under 4 never (they would blank ordinary words)', () => {
    assert.equal(scrub('pass is abcd1 and abc', ['abcd1', 'abc']), 'pass is *** and abc');
    const set = new SecretSet();
    set.add(' r8_tokenvalue123 ', undefined, '');
    assert.deepEqual(set.list(), ['r8_tokenvalue123']);
    assert.equal(set.scrub('token r8_tokenvalue123 end'), 'token *** end');
  });
});
