/**
 * ONNX graphs with the architecture and sizes of CLIP ViT-B/32 (text: 12 layers, width 512, 8 heads,
 * causal; vision: 32×32 patches of 224×224, 12 layers, width 768, 12 heads; projections to 512),
 * with random weights and the same 8-bit dynamic quantization as transformers.js' *_quantized.onnx
 * (DynamicQuantizeLinear on activations, MatMulInteger on int8 weights). Compute does not depend
 * on weight values, so timing these estimates the real model's speed where its weights cannot be
 * had. Simplifications that cost nothing measurable: the text pooling is a mean instead of the
 * EOS position, and the vision tower is built for batch size 1.
 */
import { encodeModel, type GraphSpec, type NodeSpec, type TensorInit } from '../test/support/onnxGraph';

class Builder {
  nodes: NodeSpec[] = [];
  inits: TensorInit[] = [];
  private n = 0;
  private seed = 12345;
  constructor(private readonly quantized: boolean) {}

  name(prefix: string): string {
    return `${prefix}_${this.n++}`;
  }
  op(op: string, inputs: string[], attributes?: NodeSpec['attributes']): string {
    const out = this.name(op.toLowerCase());
    this.nodes.push({ op, inputs, outputs: [out], attributes });
    return out;
  }
  init(prefix: string, type: TensorInit['type'], dims: number[], values: ArrayLike<number>): string {
    const name = this.name(prefix);
    this.inits.push({ name, type, dims, values });
    return name;
  }
  random(prefix: string, dims: number[], scale: number): string {
    const size = dims.reduce((a, b) => a * b, 1);
    const v = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      this.seed = (Math.imul(this.seed, 1664525) + 1013904223) >>> 0;
      v[i] = ((this.seed >>> 8) / 0x1000000 - 0.5) * 2 * scale;
    }
    return this.init(prefix, 'float', dims, v);
  }
  const(values: number[], type: TensorInit['type'] = 'int64', dims = [values.length]): string {
    return this.init('c', type, dims, values);
  }

  /** x·W + b, as a float MatMul or dynamically quantized like transformers.js' exports. */
  linear(x: string, inDim: number, outDim: number): string {
    const scale = 1 / Math.sqrt(inDim);
    let y: string;
    if (this.quantized) {
      const w = new Int8Array(inDim * outDim);
      for (let i = 0; i < w.length; i++) {
        this.seed = (Math.imul(this.seed, 1664525) + 1013904223) >>> 0;
        w[i] = ((this.seed >>> 24) & 0xff) - 128;
      }
      const wq = this.init('wq', 'int8', [inDim, outDim], w);
      const wzp = this.init('wzp', 'int8', [], [0]);
      const q = this.name('dq');
      const s = this.name('dq_scale');
      const zp = this.name('dq_zp');
      this.nodes.push({ op: 'DynamicQuantizeLinear', inputs: [x], outputs: [q, s, zp] });
      const acc = this.op('MatMulInteger', [q, wq, zp, wzp]);
      const f = this.op('Cast', [acc], { to: 1 });
      const combined = this.op('Mul', [s, this.init('wscale', 'float', [], [scale / 128])]);
      y = this.op('Mul', [f, combined]);
    } else {
      y = this.op('MatMul', [x, this.random('w', [inDim, outDim], scale)]);
    }
    return this.op('Add', [y, this.random('b', [outDim], 0.02)]);
  }
  layerNorm(x: string, dim: number): string {
    return this.op(
      'LayerNormalization',
      [
        x,
        this.init('ln_g', 'float', [dim], new Float32Array(dim).fill(1)),
        this.init('ln_b', 'float', [dim], new Float32Array(dim)),
      ],
      {
        axis: -1,
        epsilon: { float: 1e-5 },
      },
    );
  }
  /** A pre-LN transformer block as in CLIP (QuickGELU MLP). `mask` is added to the attention scores. */
  block(x: string, dim: number, heads: number, mask?: string): string {
    const dh = dim / heads;
    const h = this.layerNorm(x, dim);
    const split = (t: string, perm: number[]) =>
      this.op('Transpose', [this.op('Reshape', [t, this.const([0, -1, heads, dh])])], { perm });
    const q = split(this.linear(h, dim, dim), [0, 2, 1, 3]);
    const k = split(this.linear(h, dim, dim), [0, 2, 3, 1]);
    const v = split(this.linear(h, dim, dim), [0, 2, 1, 3]);
    let scores = this.op('Mul', [this.op('MatMul', [q, k]), this.const([1 / Math.sqrt(dh)], 'float', [])]);
    if (mask) scores = this.op('Add', [scores, mask]);
    const attn = this.op('MatMul', [this.op('Softmax', [scores], { axis: -1 }), v]);
    const merged = this.op('Reshape', [this.op('Transpose', [attn], { perm: [0, 2, 1, 3] }), this.const([0, -1, dim])]);
    const x1 = this.op('Add', [x, this.linear(merged, dim, dim)]);
    const m = this.linear(this.layerNorm(x1, dim), dim, 4 * dim);
    const gelu = this.op('Mul', [m, this.op('Sigmoid', [this.op('Mul', [m, this.const([1.702], 'float', [])])])]);
    return this.op('Add', [x1, this.linear(gelu, 4 * dim, dim)]);
  }
}

export function clipShapedText(vocabSize: number, quantized: boolean): Uint8Array {
  const b = new Builder(quantized);
  const D = 512;
  const tok = b.op('Gather', [b.random('token_embedding', [vocabSize, D], 0.02), 'input_ids'], { axis: 0 });
  // positions and the causal mask, cut to the sequence length
  const length = b.op('Unsqueeze', [
    b.op('Gather', [b.op('Shape', ['input_ids']), b.const([1], 'int64', [])], { axis: 0 }),
    b.const([0]),
  ]);
  const pos = b.op('Slice', [b.random('position_embedding', [77, D], 0.01), b.const([0]), length, b.const([0])]);
  const causal = new Float32Array(77 * 77);
  for (let i = 0; i < 77; i++) for (let j = i + 1; j < 77; j++) causal[i * 77 + j] = -1e4;
  const mask = b.op('Slice', [
    b.init('causal', 'float', [77, 77], causal),
    b.const([0, 0]),
    b.op('Concat', [length, length], { axis: 0 }),
    b.const([0, 1]),
  ]);
  let x = b.op('Add', [tok, pos]);
  for (let l = 0; l < 12; l++) x = b.block(x, D, 8, mask);
  const hidden = b.layerNorm(x, D);
  b.nodes.push({ op: 'Identity', inputs: [hidden], outputs: ['last_hidden_state'] });
  const pooled = b.op('ReduceMean', [hidden, b.const([1])], { keepdims: 0 });
  b.nodes.push({
    op: 'MatMul',
    inputs: [pooled, b.random('text_projection', [D, 512], 0.04)],
    outputs: ['text_embeds'],
  });
  const spec: GraphSpec = {
    name: 'clip_shaped_text',
    opset: 18,
    inputs: [{ name: 'input_ids', type: 'int64', shape: ['batch_size', 'sequence_length'] }],
    outputs: [
      { name: 'text_embeds', type: 'float', shape: ['batch_size', 512] },
      { name: 'last_hidden_state', type: 'float', shape: ['batch_size', 'sequence_length', D] },
    ],
    initializers: b.inits,
    nodes: b.nodes,
  };
  return encodeModel(spec);
}

export function clipShapedVision(quantized: boolean): Uint8Array {
  const b = new Builder(quantized);
  const D = 768;
  const patches = b.op('Conv', ['pixel_values', b.random('patch', [D, 3, 32, 32], 0.02)], {
    kernel_shape: [32, 32],
    strides: [32, 32],
  });
  const seq = b.op('Transpose', [b.op('Reshape', [patches, b.const([1, D, 49])])], { perm: [0, 2, 1] });
  const withClass = b.op('Concat', [b.random('class_embedding', [1, 1, D], 0.02), seq], { axis: 1 });
  let x = b.layerNorm(b.op('Add', [withClass, b.random('position_embedding', [50, D], 0.01)]), D);
  for (let l = 0; l < 12; l++) x = b.block(x, D, 12);
  const cls = b.layerNorm(b.op('Gather', [x, b.const([0], 'int64', [])], { axis: 1 }), D);
  b.nodes.push({
    op: 'MatMul',
    inputs: [cls, b.random('visual_projection', [D, 512], 0.04)],
    outputs: ['image_embeds'],
  });
  return encodeModel({
    name: 'clip_shaped_vision',
    opset: 18,
    inputs: [{ name: 'pixel_values', type: 'float', shape: [1, 3, 224, 224] }],
    outputs: [{ name: 'image_embeds', type: 'float', shape: [1, 512] }],
    initializers: b.inits,
    nodes: b.nodes,
  });
}
