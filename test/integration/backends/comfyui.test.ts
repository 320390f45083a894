import { strict as assert } from 'node:assert';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackend } from '../../../src/backends/registry';
import type { GenerationProgress } from '../../../src/backends/types';
import { startComfy } from '../../fixtures/servers/comfyui';
import { rejectsWith } from '../../support/assert';
import { closedPort, fast, testDeps } from '../../support/deps';

const request = { prompt: 'a red fox in snow', negative: 'blurry', width: 512, height: 768, seed: 42, steps: 4 };

const rejects = rejectsWith;

describe('ComfyUI backend (loopback)', () => {
  let comfy: Awaited<ReturnType<typeof startComfy>>;
  afterEach(async () => comfy?.server.close());

  it('reads /history only after `executing` with node null, though execution_success comes before the history write', async () => {
    // Upstream order (execution.py, then main.py's q.task_done(), then executing {node: None}) with a slow worker.
    comfy = await startComfy({ historyLagMs: 150 });
    const { deps } = testDeps();
    const backend = createBackend('comfyui', fast(comfy.server.url), deps.secrets, deps);
    const result = await backend.generate(request);
    assert.deepEqual(Buffer.from(result.image), comfy.png);
    const reads = comfy.server.to('GET', /^\/history\//);
    assert.equal(reads.length, 1, 'one read, after the entry exists');
  });

  it('fills the default workflow, follows WebSocket progress and fetches the image from /history and /view', async () => {
    comfy = await startComfy();
    const { deps } = testDeps();
    const backend = createBackend('comfyui', fast(comfy.server.url), deps.secrets, deps);
    const progress: GenerationProgress[] = [];
    const result = await backend.generate(request, { onProgress: (p) => progress.push(p) });
    assert.deepEqual(Buffer.from(result.image), comfy.png);
    assert.equal(result.mime, 'image/png');
    assert.equal(result.seed, 42);
    assert.equal(result.cost, 0);
    assert.equal(result.model, 'v1-5-pruned-emaonly.safetensors');
    const [post] = comfy.server.to('POST', '/prompt');
    const wf = post!.json.prompt;
    assert.equal(wf['3'].class_type, 'KSampler');
    assert.equal(wf['3'].inputs.seed, 42);
    assert.equal(wf['3'].inputs.steps, 4);
    assert.equal(wf['5'].inputs.width, 512);
    assert.equal(wf['5'].inputs.height, 768);
    assert.equal(wf['6'].inputs.text, 'a red fox in snow');
    assert.equal(wf['7'].inputs.text, 'blurry');
    // The socket was opened with the same client id the prompt was posted with.
    assert.ok(comfy.clients.has(post!.json.client_id));
    const running = progress.filter((p) => p.status === 'running') as { fraction?: number }[];
    assert.ok(running.length >= 4, 'one progress event per step');
    assert.equal(running[running.length - 1]!.fraction, 1);
    assert.equal(progress[progress.length - 1]!.status, 'done');
    const view = comfy.server.to('GET', '/view')[0]!;
    assert.equal(view.query.get('type'), 'output');
  });

  it('fills a user workflow through {{placeholders}}, numbers as numbers', async () => {
    comfy = await startComfy({ checkpoints: ['sdxl.safetensors'] });
    const dir = mkdtempSync(join(tmpdir(), 'comfy-'));
    const wf = {
      '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sdxl.safetensors' } },
      '2': { class_type: 'CLIPTextEncode', inputs: { text: 'masterpiece, {{prompt}}', clip: ['1', 1] } },
      '3': { class_type: 'CLIPTextEncode', inputs: { text: '{{negative}}', clip: ['1', 1] } },
      '4': { class_type: 'EmptyLatentImage', inputs: { width: '{{width}}', height: '{{height}}', batch_size: 1 } },
      '5': {
        class_type: 'KSampler',
        inputs: {
          seed: '{{seed}}',
          steps: '{{steps}}',
          cfg: 5,
          sampler_name: 'euler',
          scheduler: 'normal',
          denoise: 1,
          model: ['1', 0],
          positive: ['2', 0],
          negative: ['3', 0],
          latent_image: ['4', 0],
        },
      },
      '6': { class_type: 'VAEDecode', inputs: { samples: ['5', 0], vae: ['1', 2] } },
      '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'x', images: ['6', 0] } },
    };
    writeFileSync(join(dir, 'flow.json'), JSON.stringify(wf));
    const { deps } = testDeps();
    const backend = createBackend('comfyui', fast(comfy.server.url, { workflow: 'flow.json' }), deps.secrets, {
      ...deps,
      baseDir: dir,
    });
    const result = await backend.generate(request);
    assert.equal(result.model, 'sdxl.safetensors');
    const sent = comfy.server.to('POST', '/prompt')[0]!.json.prompt;
    assert.equal(sent['2'].inputs.text, 'masterpiece, a red fox in snow');
    assert.equal(sent['3'].inputs.text, 'blurry');
    assert.equal(sent['4'].inputs.width, 512);
    assert.equal(sent['5'].inputs.seed, 42);
    assert.equal(sent['5'].inputs.steps, 4);
  });

  it('wires a workflow without placeholders through the sampler links', async () => {
    comfy = await startComfy();
    const wf = {
      '10': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5-pruned-emaonly.safetensors' } },
      '11': { class_type: 'CLIPTextEncode', inputs: { text: 'old', clip: ['10', 1] } },
      '12': { class_type: 'CLIPTextEncode', inputs: { text: 'old negative', clip: ['10', 1] } },
      '13': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } },
      '14': {
        class_type: 'KSampler',
        inputs: {
          seed: 1,
          steps: 30,
          cfg: 7,
          sampler_name: 'euler',
          scheduler: 'normal',
          denoise: 1,
          model: ['10', 0],
          positive: ['11', 0],
          negative: ['12', 0],
          latent_image: ['13', 0],
        },
      },
      '15': { class_type: 'VAEDecode', inputs: { samples: ['14', 0], vae: ['10', 2] } },
      '16': { class_type: 'SaveImage', inputs: { filename_prefix: 'x', images: ['15', 0] } },
    };
    const { deps } = testDeps();
    const backend = createBackend('comfyui', fast(comfy.server.url, { workflow: wf }), deps.secrets, deps);
    await backend.generate(request);
    const sent = comfy.server.to('POST', '/prompt')[0]!.json.prompt;
    assert.equal(sent['11'].inputs.text, 'a red fox in snow');
    assert.equal(sent['12'].inputs.text, 'blurry');
    assert.deepEqual([sent['13'].inputs.width, sent['13'].inputs.height], [512, 768]);
    assert.equal(sent['14'].inputs.seed, 42);
  });

  it('refuses a UI-format workflow with a message that says which format to save', () => {
    const { deps } = testDeps();
    assert.throws(
      () =>
        createBackend('comfyui', { url: 'http://127.0.0.1:1', workflow: { nodes: [], links: [] } }, deps.secrets, deps),
      /Save \(API Format\)/,
    );
  });

  it('reports a rejected workflow (unknown checkpoint) as a config error naming the node', async () => {
    comfy = await startComfy();
    const { deps } = testDeps();
    const backend = createBackend(
      'comfyui',
      fast(comfy.server.url, { model: 'missing.safetensors' }),
      deps.secrets,
      deps,
    );
    await rejects(
      backend.generate(request),
      'config',
      /^comfyui: ComfyUI rejected the workflow: .*node 4 \(CheckpointLoaderSimple\).*missing\.safetensors/,
    );
  });

  it('reports an execution error from the socket as failed', async () => {
    comfy = await startComfy({ behaviour: 'error' });
    const { deps } = testDeps();
    const backend = createBackend('comfyui', fast(comfy.server.url), deps.secrets, deps);
    await rejects(backend.generate(request), 'failed', /CUDA out of memory/);
  });

  it('cancellation interrupts our running prompt on the server', async () => {
    comfy = await startComfy({ behaviour: 'hang' });
    const { deps } = testDeps();
    const backend = createBackend('comfyui', fast(comfy.server.url), deps.secrets, deps);
    const ctl = new AbortController();
    const p = backend.generate(request, {
      signal: ctl.signal,
      onProgress: (e) => {
        if (e.status === 'running') ctl.abort();
      },
    });
    await rejects(p, 'cancelled');
    const interrupts = comfy.server.to('POST', '/interrupt');
    assert.equal(interrupts.length, 1);
    const promptId = comfy.server.to('POST', '/prompt').length && [...comfy.jobs.keys()][0];
    assert.equal(interrupts[0]!.json.prompt_id, promptId);
  });

  it('falls back to /history and /queue when the socket stays silent', async () => {
    comfy = await startComfy({ behaviour: 'silent-ws' });
    const { deps } = testDeps();
    const backend = createBackend('comfyui', fast(comfy.server.url, { idleTimeoutMs: 60 }), deps.secrets, deps);
    const result = await backend.generate(request);
    assert.deepEqual(Buffer.from(result.image), comfy.png);
    // The final read plus at least one check made when the socket fell silent.
    assert.ok(comfy.server.to('GET', /^\/history\//).length >= 2);
  });

  it('gives up with a timeout when the prompt never finishes', async () => {
    comfy = await startComfy({ behaviour: 'hang' });
    const { deps } = testDeps();
    const backend = createBackend(
      'comfyui',
      fast(comfy.server.url, { idleTimeoutMs: 50, maxWaitMs: 250 }),
      deps.secrets,
      deps,
    );
    await rejects(backend.generate(request), 'timeout', /did not finish within/);
  });

  it('names the address when nothing listens there', async () => {
    const { deps } = testDeps();
    const url = await closedPort();
    const backend = createBackend('comfyui', fast(url, { retries: 1 }), deps.secrets, deps);
    await rejects(
      backend.generate(request),
      'unreachable',
      new RegExp(`comfyui: cannot reach ${url.replace(/[.]/g, '\\.')} \\(ECONNREFUSED\\)`),
    );
  });

  it('health reads /system_stats', async () => {
    comfy = await startComfy();
    const { deps } = testDeps();
    const h = await createBackend('comfyui', fast(comfy.server.url), deps.secrets, deps).health();
    assert.equal(h.ok, true);
    assert.match(h.detail, /ComfyUI 0\.3\.40 on cuda:0 NVIDIA GeForce RTX 4090, 20\.0 GiB free/);
  });
});
