import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Ledger } from '../../../src/generation/ledger';
import { makePng } from '../../support/png';
import { TestServer, sendJson } from '../../support/server';

/**
 * Several `routet2i generate` processes at once, sharing one config, one ledger and one monthly cap, against an OpenAI
 * Images stand-in that charges for every submit it answers and then answers with something unusable. The provider may
 * never charge more than the cap allows, and the ledger must always hold at least what was charged. Half the processes
 * run from a subfolder: the ledger follows the config file, not the current folder.
 */

const ROOT = join(__dirname, '../../..');
const KEY = 'sk-shared-cap-000001';
const PRICE = 0.04;
const CAP = 0.28; // seven images
const PROMPTS =
  [
    'a lighthouse at dusk',
    'a red fox in snow',
    'a bowl of ramen, top view',
    'an old map of a harbour',
    'a glass chess set',
  ].join('\n\n') + '\n';

function runGenerate(cwd: string, config: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href,
        join(ROOT, 'src/cli/main.ts'),
        'generate',
        'prompts.t2i',
        '--config',
        config,
        '--json',
      ],
      {
        cwd,
        env: { PATH: process.env.PATH, OPENAI_API_KEY: KEY },
      },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdout.resume();
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('several generate processes sharing one ledger and cap (loopback provider)', function () {
  this.timeout(180_000);
  let server: TestServer;
  afterEach(async () => server?.close());

  for (const fault of ['a reply without data', 'a 503'] as const) {
    it(`the provider never charges past the cap and the ledger holds every charge: ${fault}`, async () => {
      let charged = 0;
      const png = makePng(4, 4, [1, 2, 3]);
      let n = 0;
      server = await TestServer.start();
      server.on('POST', '/v1/images/generations', (_req, res) => {
        charged++; // the provider bills every submit it answers
        n++;
        // Every other answer is good, the rest misbehave: the ledger must count both.
        if (n % 2 === 0) return sendJson(res, 200, { created: 1, data: [{ b64_json: png.toString('base64') }] });
        if (fault === 'a reply without data') return sendJson(res, 200, { created: 1 });
        sendJson(res, 503, { error: { message: 'overloaded' } });
      });
      const dir = mkdtempSync(join(tmpdir(), 'shared-cap-'));
      const sub = join(dir, 'sub');
      mkdirSync(sub);
      writeFileSync(
        join(dir, 'routet2i.config.json'),
        JSON.stringify({
          cloud: 'openai',
          monthlyCap: CAP,
          concurrency: 2,
          backends: {
            openai: { url: server.url, model: 'gpt-image-2.6-flare', price: PRICE, retries: 1, retryDelayMs: 1 },
          },
        }),
      );
      for (const d of [dir, sub]) writeFileSync(join(d, 'prompts.t2i'), PROMPTS);
      const runs = await Promise.all([
        runGenerate(dir, 'routet2i.config.json'),
        runGenerate(dir, 'routet2i.config.json'),
        runGenerate(sub, '../routet2i.config.json'),
        runGenerate(sub, '../routet2i.config.json'),
      ]);
      for (const r of runs) assert.ok((r.code === 0 || r.code === 1) && !/\n\s+at /.test(r.stderr), r.stderr);
      assert.ok(
        runs.some((r) => /money cap/.test(r.stderr)),
        'the cap stopped some calls',
      );
      assert.equal(existsSync(join(sub, '.routet2i')), false, 'one ledger, beside the config file');
      const month = await Ledger.peek({ file: join(dir, '.routet2i', 'ledger.json'), monthlyCap: CAP });
      assert.ok(charged * PRICE <= CAP + 1e-9, `charged ${charged} images, the cap allows ${CAP / PRICE}`);
      assert.ok(
        month.spent + month.reserved >= charged * PRICE - 1e-9,
        `the ledger holds $${month.spent + month.reserved}, the provider charged $${charged * PRICE}`,
      );
      assert.equal(month.reserved, 0, 'every process settled what it reserved');
    });
  }
});
