/**
 * Which execution provider ORT assigned each node to, read from ORT's own verbose log
 * (`logSeverityLevel: 0`, the "Node placements" summary of `VerifyEachNodeIsAssignedToAnEp`), as
 * ort-webgpu.md §6 measured it. A node on `CPUExecutionProvider` in a WebGPU session is a fallback
 * that costs a GPU→CPU→GPU round trip per step; the placement test fails on any.
 */

export interface PlacementReport {
  /** Whether the log held a placement summary at all (false: nothing can be concluded). */
  readonly found: boolean;
  /** Node count per execution provider. */
  readonly nodesByProvider: Readonly<Record<string, number>>;
  /** `OpType (name)` of every node listed under the CPU provider. */
  readonly cpuNodes: readonly string[];
  /** The captured lines that mention placement, for the test's failure message. */
  readonly lines: readonly string[];
}

const ALL_PLACED = /All nodes placed on \[(\w+)\]\. Number of nodes: (\d+)/;
const SOME_PLACED = /Node\(s\) placed on \[(\w+)\]\. Number of nodes: (\d+)/;
const NODE_LINE = /^\s+(\w+) \(([^)]*)\)\s*$/;

/** Parses the placement summary out of ORT log lines (a line may hold several newline-joined rows). */
export function parsePlacementLog(rawLines: readonly string[]): PlacementReport {
  const rows = rawLines.flatMap((l) => l.split('\n'));
  const nodesByProvider: Record<string, number> = {};
  const cpuNodes: string[] = [];
  const lines: string[] = [];
  let current: string | undefined;
  let found = false;
  for (const row of rows) {
    const all = ALL_PLACED.exec(row);
    const some = SOME_PLACED.exec(row);
    if (all ?? some) {
      const [, provider = '', count = '0'] = (all ?? some) as RegExpExecArray;
      nodesByProvider[provider] = (nodesByProvider[provider] ?? 0) + Number(count);
      current = some ? provider : undefined;
      found = true;
      lines.push(row);
      continue;
    }
    const node = current !== undefined ? NODE_LINE.exec(row) : null;
    if (node && current !== undefined) {
      if (current === 'CPUExecutionProvider') cpuNodes.push(`${node[1]} (${node[2]})`);
      lines.push(row);
    } else {
      current = undefined;
    }
  }
  return { found, nodesByProvider, cpuNodes, lines };
}

type ConsoleMethod = 'log' | 'info' | 'warn' | 'error' | 'debug';
const METHODS: readonly ConsoleMethod[] = ['log', 'info', 'warn', 'error', 'debug'];

/**
 * Runs `fn` while recording everything written to the console (ORT's wasm build logs through it),
 * then restores the console. Only for diagnostics: it swallows ORT's verbose output while active.
 */
export async function captureOrtLog<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  // The console seen as plain function slots, to swap and restore them.
  const sink = globalThis.console as unknown as Record<ConsoleMethod, (...args: unknown[]) => void>;
  const saved = METHODS.map((m) => [m, sink[m]] as const);
  for (const m of METHODS) sink[m] = (...args: unknown[]) => void lines.push(args.map(String).join(' '));
  try {
    return { result: await fn(), lines };
  } finally {
    for (const [m, original] of saved) sink[m] = original;
  }
}
