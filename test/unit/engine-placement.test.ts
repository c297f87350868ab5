import { describe, expect, it } from 'vitest';
import { parsePlacementLog } from '../../src/gpu/placement';

// Row shapes as ORT 1.30's web build prints them (session_state.cc VerifyEachNodeIsAssignedToAnEp).
const prefix = '2026-01-01 00:00:00.000000 [V:onnxruntime:, session_state.cc:1380 VerifyEachNodeIsAssignedToAnEp] ';

describe('parsePlacementLog', () => {
  it('reads an all-GPU summary', () => {
    const report = parsePlacementLog(['unrelated line', `${prefix} All nodes placed on [WebGpuExecutionProvider]. Number of nodes: 318`]);
    expect(report.found).toBe(true);
    expect(report.nodesByProvider).toEqual({ WebGpuExecutionProvider: 318 });
    expect(report.cpuNodeCount).toBe(0);
  });

  it('counts CPU nodes in a split summary and collects listed node names', () => {
    const report = parsePlacementLog([
      `${prefix} Node(s) placed on [WebGpuExecutionProvider]. Number of nodes: 2`,
      `${prefix} Node(s) placed on [CPUExecutionProvider]. Number of nodes: 2\n  Sign (Sign_0)\n  Sum (Sum_1)`,
    ]);
    expect(report.nodesByProvider).toEqual({ WebGpuExecutionProvider: 2, CPUExecutionProvider: 2 });
    expect(report.cpuNodeCount).toBe(2);
    expect(report.cpuNodes).toEqual(['Sign (Sign_0)', 'Sum (Sum_1)']);
  });

  it('reports found = false when ORT printed no summary', () => {
    const report = parsePlacementLog(['session created']);
    expect(report.found).toBe(false);
    expect(report.lines).toEqual(['session created']);
  });
});
