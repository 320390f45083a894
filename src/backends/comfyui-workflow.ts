import { BackendError } from './errors';
import type { GenerationRequest } from './types';

/**
 * ComfyUI workflows in the API format ("Save (API Format)"): an object of nodes
 * `{ "<id>": { class_type, inputs: { name: value | [nodeId, outputIndex] } } }`. A user's workflow is filled
 * in either through placeholders (`"{{prompt}}"`, `"{{negative}}"`, `"{{seed}}"`, `"{{width}}"`,
 * `"{{height}}"`, `"{{steps}}"`, `"{{cfg}}"`) or, where it has none, by finding the sampler and following
 * its positive/negative links to the text encoders, as ComfyUI's own default graph is wired.
 */

export interface WorkflowNode {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: { title?: string };
}
export type Workflow = Record<string, WorkflowNode>;

export interface WorkflowValues {
  prompt: string;
  negative: string;
  seed: number;
  width: number;
  height: number;
  steps: number;
  cfg: number;
  sampler: string;
  scheduler: string;
  checkpoint: string;
}

/** ComfyUI's stock text-to-image graph (checkpoint → two text encoders → KSampler → VAE decode → save). */
export function defaultWorkflow(v: WorkflowValues): Workflow {
  return {
    '3': {
      class_type: 'KSampler',
      inputs: {
        seed: v.seed,
        steps: v.steps,
        cfg: v.cfg,
        sampler_name: v.sampler,
        scheduler: v.scheduler,
        denoise: 1,
        model: ['4', 0],
        positive: ['6', 0],
        negative: ['7', 0],
        latent_image: ['5', 0],
      },
    },
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: v.checkpoint } },
    '5': { class_type: 'EmptyLatentImage', inputs: { width: v.width, height: v.height, batch_size: 1 } },
    '6': { class_type: 'CLIPTextEncode', inputs: { text: v.prompt, clip: ['4', 1] } },
    '7': { class_type: 'CLIPTextEncode', inputs: { text: v.negative, clip: ['4', 1] } },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
    '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'RouteT2I', images: ['8', 0] } },
  };
}

/** Checks that a parsed file is an API-format workflow; a UI-format save gets a message saying which to use. */
export function checkWorkflow(value: unknown, where: string): Workflow {
  const bad = (why: string): never => {
    throw new BackendError('config', 'comfyui', `${where}: ${why}`);
  };
  if (!value || typeof value !== 'object' || Array.isArray(value)) bad('a workflow must be a JSON object of nodes');
  const o = value as Record<string, unknown>;
  if (Array.isArray(o.nodes) && Array.isArray(o.links))
    bad('this is the UI format; in ComfyUI use "Save (API Format)" and give that file');
  const ids = Object.keys(o);
  if (ids.length === 0) bad('the workflow has no nodes');
  for (const id of ids) {
    const n = o[id] as Record<string, unknown> | null;
    if (!n || typeof n !== 'object' || typeof n.class_type !== 'string' || !n.inputs || typeof n.inputs !== 'object') {
      bad(`node "${id}" has no class_type and inputs (is this an API-format workflow?)`);
    }
  }
  return o as Workflow;
}

const PLACEHOLDER = /\{\{\s*(prompt|negative|seed|width|height|steps|cfg)\s*\}\}/g;
const NUMERIC = new Set(['seed', 'width', 'height', 'steps', 'cfg']);

function hasPlaceholders(w: Workflow): boolean {
  return JSON.stringify(w).match(PLACEHOLDER) !== null;
}

function isLink(v: unknown): v is [string, number] {
  return (
    Array.isArray(v) &&
    v.length === 2 &&
    (typeof v[0] === 'string' || typeof v[0] === 'number') &&
    typeof v[1] === 'number'
  );
}

const SAMPLERS = ['KSampler', 'KSamplerAdvanced', 'SamplerCustom', 'SamplerCustomAdvanced'];
const LATENTS = /^Empty.*Latent/;

/** Fills a workflow (a deep copy) with the request's values; errors name what could not be found. */
export function fillWorkflow(template: Workflow, v: WorkflowValues, where: string): Workflow {
  const w = structuredClone(template);
  if (hasPlaceholders(w)) {
    for (const node of Object.values(w)) {
      for (const [k, val] of Object.entries(node.inputs)) {
        if (typeof val !== 'string') continue;
        const whole = /^\{\{\s*(\w+)\s*\}\}$/.exec(val);
        if (whole && NUMERIC.has(whole[1]!)) node.inputs[k] = v[whole[1] as keyof WorkflowValues];
        else node.inputs[k] = val.replace(PLACEHOLDER, (_, name: string) => String(v[name as keyof WorkflowValues]));
      }
    }
    return w;
  }
  const samplers = Object.values(w).filter((n) => SAMPLERS.includes(n.class_type));
  let positiveSet = false;
  for (const s of samplers) {
    if ('seed' in s.inputs) s.inputs.seed = v.seed;
    if ('noise_seed' in s.inputs) s.inputs.noise_seed = v.seed;
    if ('steps' in s.inputs) s.inputs.steps = v.steps;
    for (const [input, text] of [
      ['positive', v.prompt],
      ['negative', v.negative],
    ] as const) {
      const link = s.inputs[input];
      if (!isLink(link)) continue;
      const target = w[String(link[0])];
      if (!target) continue;
      for (const key of ['text', 'text_g', 'text_l']) {
        if (typeof target.inputs[key] === 'string') {
          target.inputs[key] = text;
          if (input === 'positive') positiveSet = true;
        }
      }
    }
  }
  // A custom-sampler graph keeps its seed on a RandomNoise node.
  for (const n of Object.values(w)) {
    if (n.class_type === 'RandomNoise' && 'noise_seed' in n.inputs) n.inputs.noise_seed = v.seed;
    if (LATENTS.test(n.class_type)) {
      if ('width' in n.inputs) n.inputs.width = v.width;
      if ('height' in n.inputs) n.inputs.height = v.height;
    }
  }
  if (!positiveSet) {
    throw new BackendError(
      'config',
      'comfyui',
      `${where}: found no place for the prompt; put "{{prompt}}" in the text input of your prompt node, or wire a KSampler's positive input to a CLIPTextEncode`,
    );
  }
  return w;
}

/** The checkpoint a workflow loads, for the sidecar's "model". */
export function workflowCheckpoint(w: Workflow): string | undefined {
  for (const n of Object.values(w)) {
    const c = n.inputs.ckpt_name ?? n.inputs.unet_name;
    if (typeof c === 'string' && !c.includes('{{')) return c;
  }
  return undefined;
}

export interface ComfyImageRef {
  filename: string;
  subfolder: string;
  type: string;
}

/** The images a finished prompt produced, from its /history entry; saved outputs before previews. */
export function historyImages(outputs: unknown): ComfyImageRef[] {
  if (!outputs || typeof outputs !== 'object') return [];
  const found: ComfyImageRef[] = [];
  for (const out of Object.values(outputs as Record<string, unknown>)) {
    const images = (out as { images?: unknown })?.images;
    if (!Array.isArray(images)) continue;
    for (const im of images) {
      if (im && typeof im === 'object' && typeof (im as ComfyImageRef).filename === 'string') {
        const r = im as ComfyImageRef;
        found.push({
          filename: r.filename,
          subfolder: typeof r.subfolder === 'string' ? r.subfolder : '',
          type: typeof r.type === 'string' ? r.type : 'output',
        });
      }
    }
  }
  return found.sort((a, b) => Number(b.type === 'output') - Number(a.type === 'output'));
}

/** Request → workflow values, with the backend's defaults where the request leaves something out. */
export function workflowValues(
  req: GenerationRequest,
  seed: number,
  d: { steps: number; cfg: number; sampler: string; scheduler: string; checkpoint: string; negative: string },
): WorkflowValues {
  const extra = req.extra ?? {};
  const num = (k: string, fallback: number) =>
    typeof extra[k] === 'number' && Number.isFinite(extra[k]) ? extra[k] : fallback;
  const str = (k: string, fallback: string) => (typeof extra[k] === 'string' && extra[k] ? extra[k] : fallback);
  return {
    prompt: req.prompt,
    negative: req.negative ?? d.negative,
    seed,
    width: req.width,
    height: req.height,
    steps: req.steps ?? d.steps,
    cfg: num('cfg', d.cfg),
    sampler: str('sampler', d.sampler),
    scheduler: str('scheduler', d.scheduler),
    checkpoint: str('checkpoint', d.checkpoint),
  };
}
