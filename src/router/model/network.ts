import { Rng } from './rng';

/**
 * The token-level multi-metric predictor (DESIGN.md, "Token-level predictor"), forward and backward.
 *
 * For metric i, with token features X (n × d, the encoder's features plus an optional learned word
 * embedding):
 *   selection   s_t = X_t·E_i/√d; the top-K tokens by s are metric i's key tokens, α = softmax(s) over them
 *   dual gate   T±_t = X_t·P±_i·S_i (h);  c_t = σ(T+_t − T−_t) says whether token t raises or lowers metric i
 *   message     m_t = c_t ⊙ T+_t + (1 − c_t) ⊙ T−_t
 *   heads       ℓ_side = b + W_side·Σ_t α_t m_t + V_side·g;  q_side = σ(ℓ_side), side ∈ {edge, cloud}
 * where g holds prompt-level features (log length). Token t's impact on a side's logit is α_t·W_side·m_t,
 * an exact additive part of the prediction — that is what the editor shows as heat.
 */

export interface Architecture {
  /** Metrics k. */
  metrics: number;
  /** Encoder feature width. */
  inputDim: number;
  /** Key tokens kept per metric (K). */
  topK: number;
  /** Rank l of the gate projections P±. */
  rank: number;
  /** Width h of the gate outputs. */
  hidden: number;
  /** Hash buckets of the learned word embedding (0: none). */
  wordBuckets: number;
  /** Width of the learned word embedding. */
  wordDim: number;
}

/** Prompt-level features g. */
export const GLOBAL_FEATURES = ['log-length'] as const;
const G = GLOBAL_FEATURES.length;
export const SIDES = 2; // 0 = edge, 1 = cloud

export function globalFeatures(n: number, out: Float64Array): void {
  out[0] = Math.log1p(n) / Math.log(78);
}

/** Parameter tensors, by name, with their shapes. */
export function parameterShapes(a: Architecture): Array<[string, number[]]> {
  const d = a.inputDim + (a.wordBuckets > 0 ? a.wordDim : 0);
  const shapes: Array<[string, number[]]> = [];
  if (a.wordBuckets > 0) shapes.push(['wordEmbedding', [a.wordBuckets, a.wordDim]]);
  shapes.push(
    ['experts', [a.metrics, d]],
    ['gatePositive', [a.metrics, d, a.rank]],
    ['gateNegative', [a.metrics, d, a.rank]],
    ['scoring', [a.metrics, a.rank, a.hidden]],
    ['headWeights', [SIDES, a.metrics, a.hidden]],
    ['headGlobal', [SIDES, a.metrics, G]],
    ['headBias', [SIDES, a.metrics]],
  );
  return shapes;
}

const size = (shape: number[]) => shape.reduce((x, y) => x * y, 1);

/** All parameters in one flat array (for Adam), with a named view per tensor. */
export class Parameters {
  readonly data: Float64Array;
  readonly wordEmbedding: Float64Array;
  readonly experts: Float64Array;
  readonly gatePositive: Float64Array;
  readonly gateNegative: Float64Array;
  readonly scoring: Float64Array;
  readonly headWeights: Float64Array;
  readonly headGlobal: Float64Array;
  readonly headBias: Float64Array;
  /** Which entries take weight decay (all but biases). */
  readonly decay: Uint8Array;

  constructor(
    readonly arch: Architecture,
    data?: Float64Array,
  ) {
    const shapes = parameterShapes(arch);
    const total = shapes.reduce((s, [, sh]) => s + size(sh), 0);
    this.data = data ?? new Float64Array(total);
    if (this.data.length !== total)
      throw new Error(`parameter count ${this.data.length} does not match the architecture (${total})`);
    this.decay = new Uint8Array(total).fill(1);
    const views: Record<string, Float64Array> = {};
    let offset = 0;
    for (const [name, shape] of shapes) {
      views[name] = this.data.subarray(offset, offset + size(shape));
      if (name === 'headBias') this.decay.fill(0, offset, offset + size(shape));
      offset += size(shape);
    }
    const empty = new Float64Array(0);
    this.wordEmbedding = views.wordEmbedding ?? empty;
    this.experts = views.experts!;
    this.gatePositive = views.gatePositive!;
    this.gateNegative = views.gateNegative!;
    this.scoring = views.scoring!;
    this.headWeights = views.headWeights!;
    this.headGlobal = views.headGlobal!;
    this.headBias = views.headBias!;
  }

  get inputWidth(): number {
    return this.arch.inputDim + (this.arch.wordBuckets > 0 ? this.arch.wordDim : 0);
  }

  /** A zeroed twin, for gradients. */
  zerosLike(): Parameters {
    return new Parameters(this.arch);
  }

  /** Scaled normal initialisation; biases start at the logit of the mean target. */
  static init(arch: Architecture, rng: Rng, meanTargets?: Float64Array): Parameters {
    const p = new Parameters(arch);
    const d = p.inputWidth;
    const fill = (a: Float64Array, scale: number) => {
      for (let i = 0; i < a.length; i++) a[i] = rng.normal() * scale;
    };
    fill(p.wordEmbedding, 0.1);
    fill(p.experts, 1 / Math.sqrt(d));
    fill(p.gatePositive, 1 / Math.sqrt(d));
    fill(p.gateNegative, 1 / Math.sqrt(d));
    fill(p.scoring, 1 / Math.sqrt(arch.rank));
    fill(p.headWeights, 0.1 / Math.sqrt(arch.hidden));
    if (meanTargets) {
      for (let j = 0; j < p.headBias.length; j++) {
        const y = Math.min(0.99, Math.max(0.01, meanTargets[j]!));
        p.headBias[j] = Math.log(y / (1 - y));
      }
    }
    return p;
  }
}

/** One encoded prompt, as the network consumes it. */
export interface NetInput {
  n: number;
  /** n × inputDim. */
  features: Float32Array;
  /** Hashed word ids (used only with a word embedding). */
  wordIds?: Uint32Array;
}

/** What the forward pass keeps per metric, for the backward pass and for impacts. */
export interface MetricTrace {
  /** Key token indices, in order of selection. */
  keys: Int32Array;
  /** Attention α over the key tokens. */
  alpha: Float64Array;
  /** Low-rank projections u± (|K| × l) and gate outputs T± (|K| × h), contrast c and messages m (|K| × h). */
  uPos: Float64Array;
  uNeg: Float64Array;
  tPos: Float64Array;
  tNeg: Float64Array;
  contrast: Float64Array;
  message: Float64Array;
  /** Pooled message z (h). */
  pooled: Float64Array;
}

export interface ForwardResult {
  /** X (n × d), the features the network saw (with the word embedding). */
  x: Float64Array;
  /** Non-zero columns of each row of X (CSR: row t's are nz[nzStart[t]..nzStart[t+1]]): lexical features are sparse. */
  nz: Int32Array;
  nzStart: Int32Array;
  g: Float64Array;
  /** Logits and qualities, [side][metric] flattened as side*k + i. */
  logits: Float64Array;
  quality: Float64Array;
  traces: MetricTrace[];
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** Indices of the K largest values (ties: earlier token first). */
function topK(scores: Float64Array, n: number, k: number): Int32Array {
  const idx = Array.from({ length: n }, (_, i) => i);
  if (n > k) idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
  return Int32Array.from(idx.slice(0, Math.min(n, k)));
}

export function forward(p: Parameters, input: NetInput): ForwardResult {
  const a = p.arch;
  const { n } = input;
  const F = a.inputDim;
  const d = p.inputWidth;
  const { rank: l, hidden: h, metrics: k } = a;
  const x = new Float64Array(n * d);
  for (let t = 0; t < n; t++) {
    for (let f = 0; f < F; f++) x[t * d + f] = input.features[t * F + f]!;
    if (a.wordBuckets > 0 && input.wordIds) {
      const row = (input.wordIds[t]! % a.wordBuckets) * a.wordDim;
      for (let j = 0; j < a.wordDim; j++) x[t * d + F + j] = p.wordEmbedding[row + j]!;
    }
  }
  const nzStart = new Int32Array(n + 1);
  const nzList: number[] = [];
  for (let t = 0; t < n; t++) {
    for (let f = 0; f < d; f++) if (x[t * d + f] !== 0) nzList.push(f);
    nzStart[t + 1] = nzList.length;
  }
  const nz = Int32Array.from(nzList);
  const g = new Float64Array(G);
  globalFeatures(n, g);
  const invSqrtD = 1 / Math.sqrt(d);
  const logits = new Float64Array(SIDES * k);
  const quality = new Float64Array(SIDES * k);
  const traces: MetricTrace[] = [];
  const scores = new Float64Array(n);
  for (let i = 0; i < k; i++) {
    const E = i * d;
    for (let t = 0; t < n; t++) {
      let s = 0;
      for (let q = nzStart[t]!; q < nzStart[t + 1]!; q++) {
        const f = nz[q]!;
        s += x[t * d + f]! * p.experts[E + f]!;
      }
      scores[t] = s * invSqrtD;
    }
    const keys = topK(scores, n, a.topK);
    const K = keys.length;
    const alpha = new Float64Array(K);
    let max = -Infinity;
    for (let j = 0; j < K; j++) max = Math.max(max, scores[keys[j]!]!);
    let sum = 0;
    for (let j = 0; j < K; j++) sum += alpha[j] = Math.exp(scores[keys[j]!]! - max);
    for (let j = 0; j < K; j++) alpha[j]! /= sum;

    const uPos = new Float64Array(K * l);
    const uNeg = new Float64Array(K * l);
    const tPos = new Float64Array(K * h);
    const tNeg = new Float64Array(K * h);
    const contrast = new Float64Array(K * h);
    const message = new Float64Array(K * h);
    const pooled = new Float64Array(h);
    const P = i * d * l;
    const S = i * l * h;
    for (let j = 0; j < K; j++) {
      const t = keys[j]!;
      for (let q = nzStart[t]!; q < nzStart[t + 1]!; q++) {
        const f = nz[q]!;
        const xv = x[t * d + f]!;
        const row = P + f * l;
        for (let r = 0; r < l; r++) {
          uPos[j * l + r]! += xv * p.gatePositive[row + r]!;
          uNeg[j * l + r]! += xv * p.gateNegative[row + r]!;
        }
      }
      for (let c = 0; c < h; c++) {
        let tp = 0;
        let tn = 0;
        for (let r = 0; r < l; r++) {
          const sv = p.scoring[S + r * h + c]!;
          tp += uPos[j * l + r]! * sv;
          tn += uNeg[j * l + r]! * sv;
        }
        const cc = sigmoid(tp - tn);
        const m = cc * tp + (1 - cc) * tn;
        tPos[j * h + c] = tp;
        tNeg[j * h + c] = tn;
        contrast[j * h + c] = cc;
        message[j * h + c] = m;
        pooled[c]! += alpha[j]! * m;
      }
    }
    for (let side = 0; side < SIDES; side++) {
      const o = side * k + i;
      let z = p.headBias[o]!;
      for (let c = 0; c < h; c++) z += p.headWeights[o * h + c]! * pooled[c]!;
      for (let q = 0; q < G; q++) z += p.headGlobal[o * G + q]! * g[q]!;
      logits[o] = z;
      quality[o] = sigmoid(z);
    }
    traces.push({ keys, alpha, uPos, uNeg, tPos, tNeg, contrast, message, pooled });
  }
  return { x, nz, nzStart, g, logits, quality, traces };
}

/**
 * Accumulates into `grad` the gradient of a loss whose derivative with respect to the logits is
 * `dLogits` ([side*k + i]).
 */
export function backward(
  p: Parameters,
  input: NetInput,
  fw: ForwardResult,
  dLogits: Float64Array,
  grad: Parameters,
): void {
  const a = p.arch;
  const { n } = input;
  const F = a.inputDim;
  const d = p.inputWidth;
  const { rank: l, hidden: h, metrics: k } = a;
  const invSqrtD = 1 / Math.sqrt(d);
  const dx = a.wordBuckets > 0 ? new Float64Array(n * d) : undefined;
  const dz = new Float64Array(h);
  for (let i = 0; i < k; i++) {
    const tr = fw.traces[i]!;
    const K = tr.keys.length;
    dz.fill(0);
    for (let side = 0; side < SIDES; side++) {
      const o = side * k + i;
      const dl = dLogits[o]!;
      if (dl === 0) continue;
      grad.headBias[o]! += dl;
      for (let c = 0; c < h; c++) {
        grad.headWeights[o * h + c]! += dl * tr.pooled[c]!;
        dz[c]! += dl * p.headWeights[o * h + c]!;
      }
      for (let q = 0; q < G; q++) grad.headGlobal[o * G + q]! += dl * fw.g[q]!;
    }
    if (K === 0) continue;
    const dAlpha = new Float64Array(K);
    const P = i * d * l;
    const S = i * l * h;
    const E = i * d;
    const duPos = new Float64Array(l);
    const duNeg = new Float64Array(l);
    for (let j = 0; j < K; j++) {
      const xt = tr.keys[j]! * d;
      let da = 0;
      duPos.fill(0);
      duNeg.fill(0);
      for (let c = 0; c < h; c++) {
        const m = tr.message[j * h + c]!;
        da += m * dz[c]!;
        const dm = tr.alpha[j]! * dz[c]!;
        const cc = tr.contrast[j * h + c]!;
        const diff = tr.tPos[j * h + c]! - tr.tNeg[j * h + c]!;
        const cross = diff * cc * (1 - cc);
        const dtp = dm * (cc + cross);
        const dtn = dm * (1 - cc - cross);
        for (let r = 0; r < l; r++) {
          grad.scoring[S + r * h + c]! += tr.uPos[j * l + r]! * dtp + tr.uNeg[j * l + r]! * dtn;
          const sv = p.scoring[S + r * h + c]!;
          duPos[r]! += sv * dtp;
          duNeg[r]! += sv * dtn;
        }
      }
      dAlpha[j] = da;
      const t = tr.keys[j]!;
      for (let q = fw.nzStart[t]!; q < fw.nzStart[t + 1]!; q++) {
        const f = fw.nz[q]!;
        const xv = fw.x[xt + f]!;
        const row = P + f * l;
        for (let r = 0; r < l; r++) {
          grad.gatePositive[row + r]! += xv * duPos[r]!;
          grad.gateNegative[row + r]! += xv * duNeg[r]!;
        }
      }
      // Only the learned word-embedding columns of X need a gradient.
      if (dx) {
        for (let f = F; f < d; f++) {
          let dxv = 0;
          for (let r = 0; r < l; r++)
            dxv += p.gatePositive[P + f * l + r]! * duPos[r]! + p.gateNegative[P + f * l + r]! * duNeg[r]!;
          dx[xt + f]! += dxv;
        }
      }
    }
    // Softmax over the key tokens.
    let mean = 0;
    for (let j = 0; j < K; j++) mean += tr.alpha[j]! * dAlpha[j]!;
    for (let j = 0; j < K; j++) {
      const ds = tr.alpha[j]! * (dAlpha[j]! - mean) * invSqrtD;
      if (ds === 0) continue;
      const t = tr.keys[j]!;
      const xt = t * d;
      for (let q = fw.nzStart[t]!; q < fw.nzStart[t + 1]!; q++) {
        const f = fw.nz[q]!;
        grad.experts[E + f]! += fw.x[xt + f]! * ds;
      }
      if (dx) for (let f = F; f < d; f++) dx[xt + f]! += p.experts[E + f]! * ds;
    }
  }
  if (dx && input.wordIds) {
    for (let t = 0; t < n; t++) {
      const row = (input.wordIds[t]! % a.wordBuckets) * a.wordDim;
      for (let j = 0; j < a.wordDim; j++) grad.wordEmbedding[row + j]! += dx[t * d + F + j]!;
    }
  }
}

/** Token t's additive part of each logit: α_t·W_side·m_t, [side*k + i][t] flattened as (side*k+i)*n + t. */
export function tokenContributions(p: Parameters, fw: ForwardResult, n: number): Float64Array {
  const { metrics: k, hidden: h } = p.arch;
  const out = new Float64Array(SIDES * k * n);
  for (let i = 0; i < k; i++) {
    const tr = fw.traces[i]!;
    for (let j = 0; j < tr.keys.length; j++) {
      const t = tr.keys[j]!;
      for (let side = 0; side < SIDES; side++) {
        const o = side * k + i;
        let v = 0;
        for (let c = 0; c < h; c++) v += p.headWeights[o * h + c]! * tr.message[j * h + c]!;
        out[o * n + t] = tr.alpha[j]! * v;
      }
    }
  }
  return out;
}
