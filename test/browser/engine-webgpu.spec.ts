import { expect, test } from '@playwright/test';
import { GraphBuilder } from '../../src/model/onnx/builder.ts';
import { DataType, encodeModel } from '../../src/model/onnx/proto.ts';
import { parameterLayout } from '../../src/model/params.ts';
import { finiteDifferenceGradient, referenceLoss, relativeError } from '../../src/model/reference.ts';
import { microRunConfig, randomBatches } from './engine-helpers.ts';

/**
 * The training graph on onnxruntime-web's native WebGPU EP inside the trainer worker: every node is
 * placed on the GPU (ORT's own placement log), and the gradients match float64 finite differences
 * of the independent reference forward, computed here in Node.
 */
test('training graph: all nodes on WebGPU, gradients match float64 finite differences', async ({ page }) => {
  await page.goto('/');
  const capability = await page.evaluate(() => window.gauntlet!.capability);
  expect(capability.available, `WebGPU unavailable: ${capability.reason}`).toBe(true);

  const config = microRunConfig();
  const [batch] = randomBatches(config, 1, 7);
  const result = await page.evaluate(
    async ({ config, batch }) => {
      const trainer = window.gauntlet!.trainer!;
      const info = await trainer.init(config, undefined, { backend: 'webgpu', capturePlacement: true });
      const placement = await trainer.placement();
      const out = await trainer.lossAndGradients({ inputs: Int32Array.from(batch.inputs), targets: Int32Array.from(batch.targets) });
      const theta = await trainer.exportParams();
      await trainer.dispose();
      return { info, placement, loss: out.loss, grads: Array.from(out.grads), theta: Array.from(theta) };
    },
    { config, batch: batch! },
  );
  expect(result.info.backend).toBe('webgpu');

  // Placement: a summary must exist, and no node may sit on the CPU EP.
  const placement = result.placement!;
  expect(placement.found, 'ORT printed no node-placement summary').toBe(true);
  expect(placement.cpuNodeCount, placement.lines.join('\n')).toBe(0);
  expect(Object.keys(placement.nodesByProvider)).toEqual(['WebGpuExecutionProvider']);
  test.info().annotations.push({ type: 'placement', description: placement.lines.join(' | ') });

  // Gradients vs central finite differences of the float64 reference at the same θ.
  const shape = config.model;
  const theta = Float64Array.from(result.theta);
  const ids = Int32Array.from(batch!.inputs);
  const targets = Int32Array.from(batch!.targets);
  const b = config.inner.batchSize;
  const refLoss = referenceLoss(shape, theta, ids, targets, b);
  expect(Math.abs(result.loss - refLoss) / refLoss).toBeLessThan(1e-5);
  const fd = finiteDifferenceGradient(shape, theta, ids, targets, b);
  let worst = 0;
  for (const spec of parameterLayout(shape)) {
    expect(fd.subarray(spec.offset, spec.offset + spec.size).some((x) => x !== 0), `${spec.name}: zero gradient, vacuous check`).toBe(true);
    const error = relativeError(result.grads, fd, spec.offset, spec.size);
    worst = Math.max(worst, error);
    expect(error, spec.name).toBeLessThan(1e-4);
  }
  test.info().annotations.push({ type: 'max-relative-gradient-error', description: worst.toExponential(2) });
});

test('the placement check sees nodes that fall back to the CPU', async ({ page }) => {
  await page.goto('/');
  // A graph with two ops that ort-webgpu.md §6 measured as CPU fallbacks on the native EP (Sign and
  // the variadic Sum), next to one that stays on the GPU (Relu).
  const g = new GraphBuilder('fallback_probe');
  const x = g.input('x', DataType.FLOAT, [4]);
  const y = g.op('Relu', [g.op('Sum', [g.op('Sign', [x]), x])]);
  g.rename(y, 'y');
  g.output('y', DataType.FLOAT, [4]);
  const bytes = Array.from(encodeModel(g.toModel()));
  const config = microRunConfig();
  const placement = await page.evaluate(
    async ({ config, bytes }) => {
      const trainer = window.gauntlet!.trainer!;
      await trainer.init(config, undefined, { backend: 'webgpu' });
      const report = await trainer.placementOf(Uint8Array.from(bytes));
      await trainer.dispose();
      return report;
    },
    { config, bytes },
  );
  expect(placement.found, placement.lines.join('\n')).toBe(true);
  // Sign and the variadic Sum run on the CPU (ORT then adds its own copy nodes on the WebGPU side).
  expect(placement.cpuNodeCount, placement.lines.join('\n')).toBe(2);
});
