/**
 * Writes small ONNX graphs with protobufjs from the committed onnx.proto subset, so tests
 * can build real models that onnxruntime-node runs, with no download.
 */
import * as path from 'node:path';
import protobuf from 'protobufjs';

const ELEM = { float: 1, uint8: 2, int8: 3, int64: 7 } as const;
export type ElemType = keyof typeof ELEM;

let root: protobuf.Root | undefined;
function types() {
  root ??= protobuf.loadSync(path.join(__dirname, 'onnx.proto'));
  return { Model: root.lookupType('onnx.ModelProto') };
}

export interface TensorInit {
  name: string;
  type: ElemType;
  dims: number[];
  values: ArrayLike<number>;
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Integer, float and integer-list attributes (all the test graphs use). */
  attributes?: Record<string, number | number[] | { float: number }>;
}

export interface ValueSpec {
  name: string;
  type: ElemType;
  /** A number is a fixed size; a string a named dynamic one. */
  shape: Array<number | string>;
}

export interface GraphSpec {
  name: string;
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers: TensorInit[];
  nodes: NodeSpec[];
  opset: number;
}

function rawData(t: TensorInit): Uint8Array {
  if (t.values instanceof Uint8Array || t.values instanceof Int8Array)
    return new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength);
  if (t.type === 'float')
    return new Uint8Array((t.values instanceof Float32Array ? t.values : Float32Array.from(t.values)).buffer);
  if (t.type === 'uint8' || t.type === 'int8') return new Uint8Array(Int8Array.from(t.values).buffer);
  const big = BigInt64Array.from(Array.from(t.values, (v) => BigInt(v)));
  return new Uint8Array(big.buffer);
}

function valueInfo(v: ValueSpec) {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ELEM[v.type],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: number | number[] | { float: number }) {
  if (Array.isArray(value)) return { name, type: 7, ints: value };
  if (typeof value === 'object') return { name, type: 1, f: value.float };
  return { name, type: 2, i: value };
}

/** Serialises a graph to the bytes of an .onnx file. */
export function encodeModel(spec: GraphSpec): Uint8Array {
  const { Model } = types();
  const message = {
    irVersion: 8,
    producerName: 'routet2i-tests',
    opsetImport: [{ domain: '', version: spec.opset }],
    graph: {
      name: spec.name,
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: spec.initializers.map((t) => ({
        name: t.name,
        dims: t.dims,
        dataType: ELEM[t.type],
        rawData: rawData(t),
      })),
      node: spec.nodes.map((n, i) => ({
        name: `${n.op}_${i}`,
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      })),
    },
  };
  const error = Model.verify(message);
  if (error) throw new Error(`bad ONNX model message: ${error}`);
  return Model.encode(Model.fromObject(message)).finish();
}
