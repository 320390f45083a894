/**
 * `npm run bench -- --only hostile`: the hostile prompts of issue 13, each timed through the whole engine
 * (Predictor.predictSync: bounded to MAX_PROMPT_CHARS, syntax, words, tagger, network) and through the parser
 * alone on the full text (no bound: the linear-time claim itself), plus `routet2i route` over 150,000 prompts
 * end to end (the CLI in a child process: start-up, reading, predicting, streamed JSON).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promptTokens } from '../src/router/prompt';
import { defaultModelDir, Predictor } from '../src/router/predictor';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

export const HOSTILE: Record<string, () => string> = {
  '80,000-letter word': () => 'a'.repeat(80_000),
  '<a: + 80,000 letters': () => `<a:${'a'.repeat(80_000)}`,
  '100,000 nested [': () => '['.repeat(100_000),
  '80,000 BREAKs': () => 'BREAK '.repeat(80_000),
  '9 MB line': () => 'a photo of a (red:1.2) cat, '.repeat(Math.ceil(9_000_000 / 28)),
};

const ms = (t0: bigint) => Math.round((Number(process.hrtime.bigint() - t0) / 1e6) * 10) / 10;

export async function hostileBench(): Promise<Record<string, unknown>> {
  const predictor = await Predictor.load(defaultModelDir());
  predictor.predictSync('warm up the tagger');
  const cases: Record<string, { predictMs: number; parseFullMs: number; truncatedAt: number | null }> = {};
  for (const [name, make] of Object.entries(HOSTILE)) {
    const text = make();
    let t = process.hrtime.bigint();
    const p = predictor.predictSync(text);
    const predictMs = ms(t);
    t = process.hrtime.bigint();
    promptTokens(text);
    cases[name] = { predictMs, parseFullMs: ms(t), truncatedAt: p.truncated?.at ?? null };
    process.stderr.write(
      `bench: hostile ${name}: predict ${predictMs} ms, parse of the full text ${cases[name].parseFullMs} ms\n`,
    );
  }

  const dir = mkdtempSync(path.join(os.tmpdir(), 'routet2i-bench-'));
  try {
    const words = [
      'a red cat on a mat',
      'an old fisherman with a weathered face, oil painting',
      'neon city street in the rain at night',
      '(vivid:1.2) sunset over a castle, [blurry]',
    ];
    // Three sizes, so the figures show the time growing in proportion to the number of prompts.
    const route: Record<string, { seconds: number; promptsPerSecond: number }> = {};
    for (const count of [15_000, 50_000, 150_000]) {
      const file = path.join(dir, `many-${count}.txt`);
      writeFileSync(file, Array.from({ length: count }, (_, i) => `${words[i % words.length]} ${i}`).join('\n'));
      const t = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [CLI, 'route', file, '--json'], {
        encoding: 'utf8',
        maxBuffer: 2 ** 31 - 1,
      });
      const seconds = Number(process.hrtime.bigint() - t) / 1e9;
      if (r.status !== 0) throw new Error(`route over ${count} prompts exited ${r.status}: ${r.stderr.slice(0, 400)}`);
      const routed = (JSON.parse(r.stdout) as { prompts: unknown[] }).prompts.length;
      if (routed !== count) throw new Error(`route over ${count} prompts answered ${routed}`);
      process.stderr.write(`bench: route over ${routed} prompts: ${seconds.toFixed(1)} s\n`);
      route[String(count)] = { seconds: Math.round(seconds * 10) / 10, promptsPerSecond: Math.round(routed / seconds) };
    }
    return { cases, route };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
