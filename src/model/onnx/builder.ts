/**
 * GraphBuilder: emits an ONNX graph (opset 18, IR 8) node by node, with deduplicated constants and
 * fresh value names. It knows nothing about the model; `src/model/autodiff.ts` and
 * `src/model/llama.ts` drive it. Only standard `ai.onnx` ops are emitted, and only through the
 * typed helpers below, so the op set stays the one ort-webgpu.md §6 measured on the WebGPU EP.
 */
import { DataType, type DataTypeCode, type AttributeProto, type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto } from './proto.ts';

export const OPSET_VERSION = 18;
export const IR_VERSION = 8;

/** Attribute values the builder can encode: float, int, int list, or string. */
export type AttributeValue = number | readonly number[] | string | { readonly float: number };

const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_INTS = 7;

function encodeAttribute(name: string, value: AttributeValue): AttributeProto {
  if (typeof value === 'string') return { name, type: ATTR_STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new TypeError(`attribute ${name}: use { float: ${value} } for float attributes`);
    return { name, type: ATTR_INT, i: value };
  }
  if ('float' in value) return { name, type: ATTR_FLOAT, f: value.float };
  return { name, type: ATTR_INTS, ints: [...value] };
}

function valueInfo(name: string, dataType: DataTypeCode, dims: readonly number[]): ValueInfoProto {
  return { name, type: { tensorType: { elemType: dataType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}

export class GraphBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly constants = new Map<string, string>();
  private counter = 0;

  constructor(readonly graphName: string) {}

  /** Number of nodes emitted so far. */
  get nodeCount(): number {
    return this.nodes.length;
  }

  /** A fresh value name with a readable prefix. */
  fresh(prefix: string): string {
    this.counter += 1;
    return `${prefix}_${this.counter}`;
  }

  input(name: string, dataType: DataTypeCode, dims: readonly number[]): string {
    this.inputs.push(valueInfo(name, dataType, dims));
    return name;
  }

  output(name: string, dataType: DataTypeCode, dims: readonly number[]): void {
    this.outputs.push(valueInfo(name, dataType, dims));
  }

  /** Renames a value everywhere (producer output and every consumer input): used to give final gradients their `grad.<param>` names without an Identity node. */
  rename(from: string, to: string): void {
    for (const node of this.nodes) {
      if (node.output) node.output = node.output.map((n) => (n === from ? to : n));
      if (node.input) node.input = node.input.map((n) => (n === from ? to : n));
    }
  }

  /** Emits one node with `outputCount` fresh outputs. */
  node(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}, outputCount = 1): string[] {
    const outputs = Array.from({ length: outputCount }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push({
      opType,
      name: `${opType}_${this.nodes.length}`,
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attributes).map(([key, value]) => encodeAttribute(key, value)),
    });
    return outputs;
  }

  /** Emits a single-output node. */
  op(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}): string {
    const [out] = this.node(opType, inputs, attributes, 1);
    if (out === undefined) throw new Error('unreachable: node without output');
    return out;
  }

  private constant(key: string, make: (name: string) => TensorProto): string {
    const existing = this.constants.get(key);
    if (existing !== undefined) return existing;
    const name = this.fresh('const');
    this.initializers.push(make(name));
    this.constants.set(key, name);
    return name;
  }

  /** A float32 constant (deduplicated by content). */
  constFloat(values: ArrayLike<number>, dims: readonly number[] = []): string {
    const data = Float32Array.from(values);
    return this.constant(`f32:${dims.join('x')}:${Array.from(data).join(',')}`, (name) => ({
      name,
      dataType: DataType.FLOAT,
      dims: [...dims],
      rawData: new Uint8Array(data.buffer),
    }));
  }

  /** An int32 constant (token-id iotas). */
  constInt32(values: ArrayLike<number>, dims: readonly number[]): string {
    const data = Int32Array.from(values);
    return this.constant(`i32:${dims.join('x')}:${Array.from(data).join(',')}`, (name) => ({
      name,
      dataType: DataType.INT32,
      dims: [...dims],
      rawData: new Uint8Array(data.buffer),
    }));
  }

  /** An int64 1-D constant: only ever a shape or axes operand, never arithmetic (ort-webgpu.md §6). */
  constShape(values: readonly number[]): string {
    return this.constant(`i64:${values.join(',')}`, (name) => {
      const data = BigInt64Array.from(values.map((v) => BigInt(v)));
      return { name, dataType: DataType.INT64, dims: [values.length], rawData: new Uint8Array(data.buffer) };
    });
  }

  // ---- typed op helpers (each one standard op) ----
  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }
  sub(a: string, b: string): string {
    return this.op('Sub', [a, b]);
  }
  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }
  scale(a: string, factor: number): string {
    return this.op('Mul', [a, this.constFloat([factor])]);
  }
  matmul(a: string, b: string): string {
    return this.op('MatMul', [a, b]);
  }
  transpose(x: string, perm: readonly number[]): string {
    return this.op('Transpose', [x], { perm });
  }
  reshape(x: string, dims: readonly number[]): string {
    return this.op('Reshape', [x, this.constShape(dims)]);
  }
  reduceSum(x: string, axes: readonly number[], keepdims: boolean): string {
    return this.op('ReduceSum', [x, this.constShape(axes)], { keepdims: keepdims ? 1 : 0 });
  }
  reduceMean(x: string, axes: readonly number[], keepdims: boolean): string {
    return this.op('ReduceMean', [x, this.constShape(axes)], { keepdims: keepdims ? 1 : 0 });
  }
  /** Mean over every element, as a rank-0 scalar. */
  reduceMeanAll(x: string): string {
    return this.op('ReduceMean', [x], { keepdims: 0 });
  }
  reduceMax(x: string, axes: readonly number[], keepdims: boolean): string {
    return this.op('ReduceMax', [x, this.constShape(axes)], { keepdims: keepdims ? 1 : 0 });
  }
  unary(opType: 'Exp' | 'Log' | 'Sqrt' | 'Reciprocal' | 'Neg' | 'Sigmoid' | 'Erf', x: string): string {
    return this.op(opType, [x]);
  }
  softmax(x: string): string {
    return this.op('Softmax', [x], { axis: -1 });
  }
  /** Float 0/1 mask of `a == b` (broadcast), instead of OneHot, which falls back to the CPU. */
  equalAsFloat(a: string, b: string): string {
    return this.op('Cast', [this.op('Equal', [a, b])], { to: DataType.FLOAT });
  }

  /** The finished ModelProto. */
  toModel(): ModelProto {
    return {
      irVersion: IR_VERSION,
      producerName: 'gauntlet-webgpu-peer',
      opsetImport: [{ domain: '', version: OPSET_VERSION }],
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
  }
}
