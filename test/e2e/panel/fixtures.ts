// What the panel scenarios put into the session's workspace copy: generated images with their sidecars (as
// src/backends/output.ts writes them) and a ledger with this month's charges (through the real Ledger).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { Ledger } from '../../../src/generation/ledger';
import { SIDECAR_VERSION } from '../../../src/generation/output';

/** Where the core looks (its defaults): `routet2i.generation.outputFolder` and the workspace's ledger. */
export const LAYOUT = {
  images: 'generated',
  ledger: '.routet2i/ledger.json',
  monthlyCap: 10,
  cloudShare: 0.3,
} as const;

export interface GeneratedFixture {
  id: string;
  prompt: string;
  route: 'edge' | 'cloud';
  backend: string;
  model: string;
  cost: number;
  predicted: { edge: Record<string, number>; cloud: Record<string, number>; prs: number };
  measured: Record<string, number> | null;
  /** Two colours of the image's gradient. */
  colours: [string, string];
  minutesAgo: number;
}

export const GENERATED: GeneratedFixture[] = [
  {
    id: 'lighthouse',
    prompt: 'a watercolour of a lighthouse at dawn, gentle mist',
    route: 'edge',
    backend: 'comfyui',
    model: 'sd15',
    cost: 0,
    predicted: { edge: { quality: 0.64, alignment: 0.67 }, cloud: { quality: 0.7, alignment: 0.71 }, prs: 0.41 },
    measured: { quality: 0.69, alignment: 0.62 },
    colours: ['#f6d8a8', '#5b8db8'],
    minutesAgo: 5,
  },
  {
    id: 'fisherman',
    prompt: 'a portrait of an old fisherman, (weathered skin:1.2), soft window light, 85mm photograph',
    route: 'cloud',
    backend: 'openai',
    model: 'gpt-image-2.6-flare',
    cost: 0.04,
    predicted: { edge: { quality: 0.58, alignment: 0.63 }, cloud: { quality: 0.76, alignment: 0.74 }, prs: 0.18 },
    measured: { quality: 0.81, alignment: 0.72 },
    colours: ['#3b2f2a', '#c08a5b'],
    minutesAgo: 30,
  },
  {
    id: 'fox',
    prompt: '[cartoon] a red fox reading a newspaper in a cosy armchair, warm evening light',
    route: 'edge',
    backend: 'comfyui',
    model: 'sd15',
    cost: 0,
    predicted: { edge: { quality: 0.66, alignment: 0.7 }, cloud: { quality: 0.69, alignment: 0.72 }, prs: 0.47 },
    measured: null,
    colours: ['#e07b39', '#2d1e2f'],
    minutesAgo: 90,
  },
];

/** Ledger charges this month: settled calls, plus one reservation still open. */
export const CHARGES = [
  { backend: 'openai', cost: 0.04, note: 'fisherman' },
  { backend: 'fal', cost: 0.025, note: 'harbour at night' },
];
export const OPEN_RESERVATION = { backend: 'openai', estimate: 0.04 };
/** Cascade's tally this month: three edge images measured, the first redone on the cloud. */
export const CASCADE = { cascaded: 3, escalated: 1 };

export async function writePanelFixtures(workspace: string, now = new Date()): Promise<void> {
  const dir = join(workspace, LAYOUT.images);
  mkdirSync(dir, { recursive: true });
  for (const g of GENERATED) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${g.colours[0]}"/><stop offset="1" stop-color="${g.colours[1]}"/></linearGradient></defs><rect width="256" height="256" fill="url(#g)"/><circle cx="170" cy="90" r="36" fill="${g.colours[0]}" opacity="0.8"/></svg>`;
    writeFileSync(join(dir, `${g.id}.png`), await sharp(Buffer.from(svg)).png().toBuffer());
    const sidecar = {
      version: SIDECAR_VERSION,
      id: g.id,
      prompt: g.prompt,
      negative: null,
      source: null,
      mode: 'predict',
      budget: LAYOUT.cloudShare,
      alpha: 0.2,
      route: g.route,
      why: g.route === 'cloud' ? 'cloud gains most here' : 'edge predicted at least as good',
      predicted: { ...g.predicted, pareto: 'cloud-dominates' },
      measured: g.measured,
      backend: g.backend,
      model: g.model,
      cost: g.cost,
      currency: 'USD',
      image: `${g.id}.png`,
      mime: 'image/png',
      createdAt: new Date(now.getTime() - g.minutesAgo * 60_000).toISOString(),
    };
    writeFileSync(join(dir, `${g.id}.json`), `${JSON.stringify(sidecar, null, 2)}\n`);
  }
  const { ledger } = await Ledger.open({ file: join(workspace, LAYOUT.ledger), monthlyCap: LAYOUT.monthlyCap });
  for (const c of CHARGES) {
    const r = await ledger.reserve(c.cost, { backend: c.backend, note: c.note });
    if (!r) throw new Error('the fixture ledger refused a charge');
    await ledger.settle(r.id, c.cost);
  }
  for (let i = 0; i < CASCADE.cascaded; i++) await ledger.countCascade(LAYOUT.cloudShare, i < CASCADE.escalated);
  // Reserved by a live process (this one), so the extension's reconcile keeps it open while the test runs.
  await ledger.reserve(OPEN_RESERVATION.estimate, { backend: OPEN_RESERVATION.backend, note: 'in flight' });
}
