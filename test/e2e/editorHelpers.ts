// What the editor scenarios read and do beyond the harness's helpers: the extension's own state through the probe,
// CodeLens text, the quick-fix menu, clicking a word, setting an API key, loopback backends and a local CLIP for a session,
// and a loopback AUTOMATIC1111 edge server that renders a real PNG.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import type { EngineInfo } from '../../src/extension/api';
import type { HeatStats } from '../../src/extension/heat/heat';
import type { DiagnosticJson } from './protocol';
import { startImagesApi, type ImagesApi } from '../support/imagesApi';
import { makePng } from '../support/png';
import { sendJson, TestServer } from '../support/server';
import { writeTinyClip } from '../support/tinyClip';
import type { Session } from './harness/session';

export const WORKSPACES = join(__dirname, 'workspaces');

/** The heat the extension reports through the probe: what it drew, per visible editor. */
export type HeatState = HeatStats;

export interface ExtensionState {
  extension: {
    restricted: boolean;
    coreLoaded: boolean;
    activation: { totalMs: number; loadMs: number; activateMs: number };
  };
  heat?: HeatState[];
  status?: {
    visible: boolean;
    text: string;
    tooltip: string;
    engine: { text: string; detail: string; busy: boolean; severity: string };
  };
  /** The predictor in use and the analysis progress, as `activate()`'s API answers them. */
  engine?: EngineInfo;
  settings?: { restricted: boolean; settings: Record<string, Record<string, unknown>> };
  generated?: Array<{ image: string; sidecar: string; route: string; cost: number }>;
}

export async function state(session: Session): Promise<ExtensionState> {
  return (await session.probe.call('state', {})) as unknown as ExtensionState;
}

/** Polls the extension's state until `check` returns something. */
export async function until<T>(
  session: Session,
  check: (s: ExtensionState) => T | undefined | false,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: ExtensionState | undefined;
  for (;;) {
    last = await state(session);
    const value = check(last);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`${what} did not happen within ${timeoutMs} ms; state: ${JSON.stringify(last).slice(0, 1500)}`);
    await session.page.waitForTimeout(150);
  }
}

/** The heat drawn in the editor of a file whose URI ends with `name`. */
export function heatOf(s: ExtensionState, name: string): HeatState | undefined {
  return s.heat?.find((h) => h.uri.endsWith(`/${name}`));
}

export function colouredWords(h: HeatState): string[] {
  return Object.values(h.buckets).flatMap((list) => list.map((r) => r.text));
}

export async function ourDiagnostics(session: Session, name: string): Promise<DiagnosticJson[]> {
  return (await session.probe.call('diagnostics', {})).filter(
    (d) => d.uri.endsWith(`/${name}`) && d.source === 'RouteT2I',
  );
}

/** The CodeLens texts shown in the active editor, one per lens (lenses on one line are separated by "|"). */
export async function codeLenses(page: Page): Promise<string[]> {
  const texts = await page
    .locator('.editor-group-container.active .monaco-editor .codelens-decoration')
    .allInnerTexts();
  return texts
    .flatMap((t) => t.replace(/\u00a0/g, ' ').split(/\s*\|\s*/))
    .map((t) => t.trim())
    .filter(Boolean);
}

export async function waitForLenses(page: Page, match: RegExp, timeoutMs = 20_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lenses = await codeLenses(page);
    if (lenses.some((l) => match.test(l))) return lenses;
    if (Date.now() > deadline) throw new Error(`no CodeLens matches ${match}; shown: ${JSON.stringify(lenses)}`);
    await page.waitForTimeout(200);
  }
}

/** Clicks the `occurrence`-th visible `word` in the active editor (places the cursor inside it). */
export async function clickWord(page: Page, word: string, occurrence = 1): Promise<void> {
  const editor = page.locator('.editor-group-container.active .editor-instance .monaco-editor').first();
  const box = await editor.evaluate(
    (el, { word, occurrence }) => {
      const doc = (globalThis as { document?: any }).document;
      let seen = 0;
      const lines = [...el.querySelectorAll('.view-line')].sort(
        (a: any, b: any) => parseFloat(a.style.top || '0') - parseFloat(b.style.top || '0'),
      );
      for (const line of lines) {
        const nodes: { node: unknown; start: number; text: string }[] = [];
        let full = '';
        const walker = doc.createTreeWalker(line, 4);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const text = String(node.textContent ?? '').replace(/\u00a0/g, ' ');
          nodes.push({ node, start: full.length, text });
          full += text;
        }
        for (let at = full.indexOf(word); at >= 0; at = full.indexOf(word, at + 1)) {
          const before = at === 0 ? ' ' : full[at - 1]!;
          const after = full[at + word.length] ?? ' ';
          if (/[\p{L}\p{N}]/u.test(before) || /[\p{L}\p{N}]/u.test(after)) continue;
          if (++seen < occurrence) continue;
          const first = nodes.find((n) => at < n.start + n.text.length)!;
          const range = doc.createRange();
          range.setStart(first.node, at - first.start + 1);
          range.setEnd(first.node, at - first.start + 2);
          const r = range.getBoundingClientRect();
          return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
        }
      }
      return null;
    },
    { word, occurrence },
  );
  if (!box) throw new Error(`"${word}" is not visible in the active editor`);
  await page.mouse.click(box.x, box.y);
}

/** Opens the quick-fix menu at the cursor (Ctrl+.) and returns its entries' texts; asks again if it does not open. */
export async function openQuickFixes(
  page: Page,
  expect: RegExp,
  timeoutMs = 20_000,
): Promise<{ items: Locator; texts: string[] }> {
  const items = page.locator('.action-widget .monaco-list-row');
  const deadline = Date.now() + timeoutMs;
  let texts: string[] = [];
  while (Date.now() < deadline) {
    await page.keyboard.press('Control+Period');
    const asked = Date.now();
    while (Date.now() - asked < 4000) {
      texts = (await items.allInnerTexts()).map((t) => t.replace(/\u00a0/g, ' ').trim());
      if (texts.some((t) => expect.test(t))) return { items, texts };
      await page.waitForTimeout(150);
    }
    await page.keyboard.press('Escape');
  }
  throw new Error(`no quick fix matches ${expect}; shown: ${JSON.stringify(texts)}`);
}

/** Every file under `dir` (recursively) whose content contains `needle`. */
export function filesContaining(dir: string, needle: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else if (s.size < 50_000_000 && readFileSync(p).includes(needle)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * An AUTOMATIC1111 stand-in on loopback that renders a 256×256 gradient PNG, as a user's GPU server would answer:
 * POST /sdapi/v1/txt2img, GET /sdapi/v1/progress and /sdapi/v1/options.
 */
export async function startEdgeServer(): Promise<{ server: TestServer; png: Buffer }> {
  const png = makePng(256, 256, [40, 120, 200], true);
  const server = await TestServer.start();
  server
    .on('POST', '/sdapi/v1/txt2img', async (req, res) => {
      const b = req.json ?? {};
      if (typeof b.prompt !== 'string')
        return sendJson(res, 422, { detail: [{ loc: ['body', 'prompt'], msg: 'field required' }] });
      await new Promise((r) => setTimeout(r, 300));
      sendJson(res, 200, {
        images: [png.toString('base64')],
        parameters: b,
        info: JSON.stringify({
          prompt: b.prompt,
          seed: b.seed ?? 1,
          all_seeds: [b.seed ?? 1],
          sd_model_name: 'v1-5-pruned-emaonly',
          width: b.width,
          height: b.height,
        }),
      });
    })
    .on('GET', '/sdapi/v1/progress', (_req, res) =>
      sendJson(res, 200, {
        progress: 0.5,
        eta_relative: 1,
        state: { job_count: 1, sampling_step: 5, sampling_steps: 10 },
        current_image: null,
        textinfo: null,
      }),
    )
    .on('GET', '/sdapi/v1/options', (_req, res) =>
      sendJson(res, 200, { sd_model_checkpoint: 'v1-5-pruned-emaonly.safetensors [6ce0161689]' }),
    );
  return { server, png };
}

/** Stores an API key the way a user does: Set API Key…, the backend's row, the masked input. */
export async function setApiKey(session: Session, backendLabel: string, key: string): Promise<void> {
  await session.workbench.runCommand('RouteT2I: Set API Key…');
  await session.page.locator('.quick-input-widget .monaco-list-row', { hasText: backendLabel }).first().click();
  await session.page.locator('.quick-input-widget input[type="password"]').fill(key);
  await session.page.keyboard.press('Enter');
  await session.workbench.waitForNotification(/key is stored/);
}

type Rgb = [number, number, number];

export interface LoopbackModels {
  clipDir: string;
  edge: ImagesApi;
  cloud: ImagesApi;
  /** The cloud API's key. */
  key: string;
}

/**
 * Loopback images APIs for both sides (the cloud one wants a key) and a tiny CLIP copy, for the scenarios of a describe
 * block: started before them, closed and removed after. `colour` picks each side's solid image per prompt.
 */
export function useLoopbackModels(colour: {
  edge: (prompt: string) => Rgb;
  cloud: (prompt: string) => Rgb;
}): () => LoopbackModels {
  let models: LoopbackModels | undefined;
  before(async () => {
    const key = `sk-e2e-${randomBytes(8).toString('hex')}`;
    const clipDir = mkdtempSync(join(tmpdir(), 'routet2i-e2e-clip-'));
    writeTinyClip(clipDir);
    models = {
      clipDir,
      key,
      edge: await startImagesApi({ colour: colour.edge }),
      cloud: await startImagesApi({ key, colour: colour.cloud }),
    };
  });
  after(async () => {
    await models?.edge.close();
    await models?.cloud.close();
    if (models) rmSync(models.clipDir, { recursive: true, force: true });
  });
  return () => {
    if (!models) throw new Error('the loopback models are not started (call useLoopbackModels inside describe)');
    return models;
  };
}

/**
 * Points the workspace at the loopback models (openai-compatible on the edge, OpenAI DALL·E 3 on the cloud, its key in
 * SecretStorage) and the local CLIP copy, at 512×512 under a $5 cap: what calibration and cascade need.
 */
export async function configureLoopbackModels(session: Session, m: LoopbackModels): Promise<void> {
  const w = session.workbench;
  await w.setSetting('routet2i.model.modelsDir', m.clipDir);
  await w.setSetting('routet2i.backends.edge', 'openai-compatible');
  await w.setSetting('routet2i.backends.cloud', 'openai');
  await w.setSetting('routet2i.backends.settings', {
    'openai-compatible': { url: m.edge.url },
    openai: { url: m.cloud.url, model: 'gpt-image-2.6-flare', price: 0.04 },
  });
  await w.setSetting('routet2i.generation.width', 512);
  await w.setSetting('routet2i.generation.height', 512);
  await w.setSetting('routet2i.policy.monthlyCap', 5);
  await setApiKey(session, 'OpenAI Images', m.key);
}
