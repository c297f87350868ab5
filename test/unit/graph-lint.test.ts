import { describe, expect, it } from 'vitest';
import type { ModelShape } from '../../src/core/config';
import { tinyRunConfig } from '../../src/core/run-config';
import { buildEvaluationGraph, buildTrainingGraph, gradName, LOSS } from '../../src/model/llama';
import { GraphLintError, assertGraphRunsOnWebGpu, lintGraph } from '../../src/model/lint';
import { GraphBuilder } from '../../src/model/onnx/builder';
import { DataType, decodeModel } from '../../src/model/onnx/proto';
import { parameterLayout } from '../../src/model/params';

const tiny: ModelShape = tinyRunConfig().model;

describe('generated graphs', () => {
  const variants: ModelShape[] = [tiny, { ...tiny, activation: 'gelu', positional: 'learned', tiedEmbeddings: false }];
  it.each(variants)('pass the WebGPU lint and round-trip through onnx-proto (%#)', (shape) => {
    for (const graph of [buildTrainingGraph(shape, 4), buildEvaluationGraph(shape, 4)]) {
      expect(lintGraph(graph.model)).toEqual([]);
      const decoded = decodeModel(graph.bytes);
      expect(decoded.graph?.node?.length).toBe(graph.nodeCount);
      expect(Number(decoded.opsetImport[0]?.version)).toBe(18);
      const ops = new Set(decoded.graph?.node?.map((n) => n.opType));
      expect(ops.has('Gemm')).toBe(false);
      expect(ops.has('Sum')).toBe(false);
    }
  });

  it('training graph outputs the loss and one gradient per parameter, in layout order', () => {
    const graph = buildTrainingGraph(tiny, 4);
    const names = parameterLayout(tiny).map((p) => p.name);
    expect(graph.model.graph?.output?.map((o) => o.name)).toEqual([LOSS, ...names.map(gradName)]);
    const inputs = graph.model.graph?.input?.map((i) => i.name) ?? [];
    for (const name of names) expect(inputs).toContain(name);
    // Int32 token ids: no int64 graph inputs.
    for (const input of graph.model.graph?.input ?? []) expect(input.type?.tensorType?.elemType).not.toBe(DataType.INT64);
  });
});

describe('lintGraph', () => {
  it('flags forbidden ops, Cast to int64 and int64 arithmetic', () => {
    const g = new GraphBuilder('bad');
    const x = g.input('x', DataType.FLOAT, [2]);
    g.op('Sum', [x, x]);
    g.op('Gemm', [x, x]);
    g.op('Cast', [x], { to: DataType.INT64 });
    g.op('Add', [g.constShape([1, 2]), g.constShape([3, 4])]);
    g.reshape(x, [2]); // a shape operand: allowed
    const findings = lintGraph(g.toModel());
    expect(findings.map((f) => f.opType).sort()).toEqual(['Add', 'Add', 'Cast', 'Gemm', 'Sum']);
    expect(() => assertGraphRunsOnWebGpu(g.toModel())).toThrow(GraphLintError);
  });

  it('flags int64 graph inputs and training ops', () => {
    const g = new GraphBuilder('bad');
    const ids = g.input('ids', DataType.INT64, [4]);
    g.op('GeluGrad', [ids, ids]);
    const reasons = lintGraph(g.toModel()).map((f) => f.reason).join('\n');
    expect(reasons).toMatch(/int64 graph input/);
    expect(reasons).toMatch(/gradient ops/);
  });
});
