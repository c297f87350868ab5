/**
 * Graph lint: rejects ONNX graphs that would leave the WebGPU EP or hit known kernel bugs in
 * onnxruntime-web 1.30 (ort-webgpu.md §6, "Ops to avoid"), before a session is ever created.
 * The placement test in the browser (ORT's node-placement log) is the ground truth; this lint is
 * the cheap, static guard that runs in Node on every graph we build.
 */
import { DataType, type ModelProto } from './onnx/proto.ts';
import { GauntletError } from '../core/errors.ts';

/** Ops that fall back to the CPU on at least one WebGPU EP, are wrong there, or are slow (Gemm). */
const FORBIDDEN_OPS: ReadonlyMap<string, string> = new Map([
  ['Sum', 'variadic Sum falls back to the CPU: chain Add'],
  ['Mean', 'variadic Mean falls back to the CPU'],
  ['Identity', 'Identity falls back to the CPU on JSEP: rename the value instead'],
  ['OneHot', 'OneHot falls back to the CPU: use Equal + Cast'],
  ['LogSoftmax', 'LogSoftmax falls back to the CPU: write logsumexp'],
  ['Sign', 'Sign falls back to the CPU'],
  ['ConstantOfShape', 'ConstantOfShape falls back to the CPU: use an initializer'],
  ['Trilu', 'Trilu falls back to the CPU on JSEP: use a constant mask'],
  ['SoftmaxCrossEntropyLoss', 'the expanded function op puts LogSoftmax and Unsqueeze on the CPU'],
  ['NegativeLogLikelihoodLoss', 'the expanded function op puts nodes on the CPU'],
  ['Dropout', 'Dropout falls back to the CPU (JSEP) or fails to load (native EP)'],
  ['Gemm', 'JSEP Gemm is a naive kernel and MatMulAddFusion targets it: use Transpose + MatMul'],
  ['ScatterElements', 'ScatterElements falls back to the CPU on JSEP'],
  ['TopK', 'TopK falls back to the CPU on JSEP'],
  ['Max', 'variadic Max falls back to the CPU on JSEP'],
  ['Min', 'variadic Min falls back to the CPU on JSEP'],
]);

/** Operand positions that are shape/axes data, read on the CPU by design (int64 allowed there). */
const SHAPE_OPERANDS: ReadonlyMap<string, readonly number[]> = new Map([
  ['Reshape', [1]],
  ['ReduceSum', [1]],
  ['ReduceMean', [1]],
  ['ReduceMax', [1]],
  ['ReduceSumSquare', [1]],
  ['Unsqueeze', [1]],
  ['Squeeze', [1]],
  ['Expand', [1]],
  ['Tile', [1]],
  ['Split', [1]],
  ['Slice', [1, 2, 3, 4]],
]);

export interface LintFinding {
  readonly node: string;
  readonly opType: string;
  readonly reason: string;
}

/** Thrown by `assertGraphRunsOnWebGpu` with every finding listed. */
export class GraphLintError extends GauntletError {
  readonly code: string = 'graph-lint';
  constructor(readonly findings: readonly LintFinding[]) {
    super(
      `The generated graph uses ops that would leave the WebGPU EP or are known to be wrong there:\n` +
        findings.map((f) => `  ${f.node} (${f.opType}): ${f.reason}`).join('\n') +
        `\nThis is a bug in the graph builder (src/model); report it.`,
    );
    this.name = 'GraphLintError';
  }
}

/** Every problem in `model`; empty when the graph is clean. */
export function lintGraph(model: ModelProto): LintFinding[] {
  const graph = model.graph;
  if (!graph) return [{ node: '(model)', opType: '', reason: 'the model has no graph' }];
  const findings: LintFinding[] = [];
  const int64Values = new Set<string>();
  for (const init of graph.initializer ?? []) if (init.dataType === DataType.INT64 && init.name) int64Values.add(init.name);
  for (const input of graph.input ?? []) {
    if (input.type?.tensorType?.elemType === DataType.INT64) {
      findings.push({ node: input.name ?? '?', opType: 'input', reason: 'int64 graph input: token ids must be int32' });
    }
  }
  for (const node of graph.node ?? []) {
    const opType = node.opType ?? '';
    const name = node.name ?? opType;
    const domain = node.domain ?? '';
    if (domain !== '' && domain !== 'ai.onnx') findings.push({ node: name, opType, reason: `non-standard domain ${domain}` });
    const forbidden = FORBIDDEN_OPS.get(opType);
    if (forbidden) findings.push({ node: name, opType, reason: forbidden });
    if (opType.endsWith('Grad')) findings.push({ node: name, opType, reason: 'gradient ops are not registered in onnxruntime-web' });
    if (opType === 'SimplifiedLayerNormalization' && (node.output?.length ?? 0) > 1) {
      findings.push({ node: name, opType, reason: 'the inv_std_var output holds the row mean (kernel bug)' });
    }
    if (opType === 'Cast') {
      // `i` is typed `number | Long`; read it as unknown and let Number() take either.
      const to: unknown = node.attribute?.find((a) => a.name === 'to')?.i;
      if (Number(to) === DataType.INT64) findings.push({ node: name, opType, reason: 'Cast to int64 falls back to the CPU on JSEP' });
    }
    const shapeSlots = SHAPE_OPERANDS.get(opType) ?? [];
    (node.input ?? []).forEach((input, slot) => {
      if (int64Values.has(input) && !shapeSlots.includes(slot)) {
        findings.push({ node: name, opType, reason: `int64 value ${input} used as data (operand ${slot}): no int64 arithmetic` });
      }
    });
  }
  return findings;
}

/** Throws GraphLintError unless `lintGraph` finds nothing. */
export function assertGraphRunsOnWebGpu(model: ModelProto): void {
  const findings = lintGraph(model);
  if (findings.length > 0) throw new GraphLintError(findings);
}
