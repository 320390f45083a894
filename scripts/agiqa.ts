import { readFile } from 'node:fs/promises';
import { RouteT2IError } from '../src/router/errors';
import { readTable } from '../src/router/inputs';
import { decodeText } from '../src/router/text';
import type { LabelledPair, Scores } from '../src/router/types';

/**
 * AGIQA-3K (MIT; github.com/lcysyzxdxc/AGIQA-3k-Database, data.csv): human MOS for perceptual quality and
 * text alignment of 300 prompts rendered by up to 11 model settings. Pairs: edge = `sd1.5_normal`,
 * cloud = `xl2.2_normal`; each MOS rescaled to [0, 1] by the min and max over the whole table.
 */

export const AGIQA_DEFAULT_PATH = '../shared/data/agiqa3k/data.csv';
export const EDGE_SETTING = 'sd1.5_normal';
export const CLOUD_SETTING = 'xl2.2_normal';
/** Other renders by the edge's own model (other CFG and step settings): a prompt-level view of its difficulty. */
export const EDGE_SIBLINGS = ['sd1.5_highcorr', 'sd1.5_lowcorr', 'sd1.5_lowstep'];

export interface AgiqaRow {
  setting: string;
  index: number;
  prompt: string;
  adj1: string;
  adj2: string;
  style: string;
  quality: number;
  alignment: number;
}

export interface AgiqaData {
  rows: AgiqaRow[];
  pairs: LabelledPair[];
  /** Per pair: the edge model's scores averaged over all its renders of the prompt (`sd1.5_*`), and the cloud's own. */
  siblingTargets: Array<{ edge: Scores; cloud: Scores }>;
  /** Per pair: the mean of the edge model's other renders of the prompt (not the paired one). */
  edgeSiblings: Scores[];
}

export async function loadAgiqa(file: string, cloudSetting: string = CLOUD_SETTING): Promise<AgiqaData> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    throw new RouteT2IError(
      'no-data',
      `${file}: AGIQA-3K data.csv not found`,
      'it lives in ../shared/data/agiqa3k/ beside the project, or pass its path',
    );
  }
  const table = readTable(decodeText(bytes, file), ',').filter((r) => r.length > 1);
  const header = table[0]!.map((c) => c.value.trim());
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new RouteT2IError('bad-data', `${file}: no column "${name}"`);
    return i;
  };
  const [cName, cPrompt, cAdj1, cAdj2, cStyle, cQ, cA] = [
    'name',
    'prompt',
    'adj1',
    'adj2',
    'style',
    'mos_quality',
    'mos_align',
  ].map(col) as number[];
  const rows: AgiqaRow[] = table.slice(1).map((r) => {
    const name = r[cName!]!.value;
    const m = /^(.*)_(\d+)\.\w+$/.exec(name);
    if (!m) throw new RouteT2IError('bad-data', `${file}: unexpected image name ${name}`);
    return {
      setting: m[1]!,
      index: Number(m[2]),
      prompt: r[cPrompt!]!.value,
      adj1: r[cAdj1!]!.value,
      adj2: r[cAdj2!]!.value,
      style: r[cStyle!]!.value,
      quality: Number(r[cQ!]!.value),
      alignment: Number(r[cA!]!.value),
    };
  });
  const range = (key: 'quality' | 'alignment') => {
    const v = rows.map((r) => r[key]);
    return { min: Math.min(...v), max: Math.max(...v) };
  };
  const rq = range('quality');
  const ra = range('alignment');
  const scale = (r: AgiqaRow): Scores => ({
    quality: (r.quality - rq.min) / (rq.max - rq.min),
    alignment: (r.alignment - ra.min) / (ra.max - ra.min),
  });
  const byIndex = new Map<number, Map<string, AgiqaRow>>();
  for (const r of rows) {
    if (!byIndex.has(r.index)) byIndex.set(r.index, new Map());
    byIndex.get(r.index)!.set(r.setting, r);
  }
  const pairs: LabelledPair[] = [];
  const siblingTargets: Array<{ edge: Scores; cloud: Scores }> = [];
  const edgeSiblings: Scores[] = [];
  for (const [index, settings] of [...byIndex].sort((a, b) => a[0] - b[0])) {
    const e = settings.get(EDGE_SETTING);
    const c = settings.get(cloudSetting);
    if (!e || !c) continue;
    pairs.push({
      id: `agiqa-${String(index).padStart(3, '0')}`,
      prompt: e.prompt,
      edge: scale(e),
      cloud: scale(c),
      source: 'agiqa3k',
      style: e.style,
      adjectives: [e.adj1, e.adj2].filter(Boolean),
      // The model pair, as GenAI-Bench and GeckoNum pairs name it: the predictor records it (training.data.pair).
      models: { edge: EDGE_SETTING, cloud: cloudSetting },
    });
    const siblings = EDGE_SIBLINGS.map((s) => settings.get(s))
      .filter((r): r is AgiqaRow => r !== undefined)
      .map(scale);
    const mean = (renders: Scores[], key: string) => renders.reduce((s, r) => s + r[key]!, 0) / renders.length;
    const all = [scale(e), ...siblings];
    siblingTargets.push({
      edge: { quality: mean(all, 'quality'), alignment: mean(all, 'alignment') },
      cloud: scale(c),
    });
    edgeSiblings.push(
      siblings.length ? { quality: mean(siblings, 'quality'), alignment: mean(siblings, 'alignment') } : scale(e),
    );
  }
  return { rows, pairs, siblingTargets, edgeSiblings };
}
