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
  /** Nodes on `CPUExecutionProvider` (ORT 1.30's web build prints the counts, not always the names). */
  readonly cpuNodeCount: number;
  /** `OpType (name)` of the CPU nodes, when ORT lists them. */
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
  // Without a summary, keep every captured row so a failing test shows what ORT did print.
  const cpuNodeCount = nodesByProvider.CPUExecutionProvider ?? 0;
  return { found, nodesByProvider, cpuNodeCount, cpuNodes, lines: found ? lines : rows };
}

type ConsoleMethod = 'log' | 'info' | 'warn' | 'error' | 'debug';
const METHODS: readonly ConsoleMethod[] = ['log', 'info', 'warn', 'error', 'debug'];

let tapInstalled = false;
let activeCapture: string[] | undefined;

/**
 * Routes the console through a tap that `captureOrtLog` can switch on. ORT's wasm module binds the
 * console functions once, when it is instantiated, so the tap must be in place before the first
 * session is created (the trainer worker installs it at start-up); swapping console methods later
 * would not be seen by ORT.
 */
export function installOrtLogTap(): void {
  if (tapInstalled) return;
  tapInstalled = true;
  // The console seen as plain function slots, to wrap them.
  const sink = globalThis.console as unknown as Record<ConsoleMethod, (...args: unknown[]) => void>;
  for (const m of METHODS) {
    const original = sink[m];
    sink[m] = (...args: unknown[]) => {
      if (activeCapture) activeCapture.push(args.map(String).join(' '));
      else original(...args);
    };
  }
}

/**
 * Runs `fn` while recording (and swallowing) everything written to the console, where ORT's wasm
 * build writes its log. Needs `installOrtLogTap()` before ORT was first initialised.
 */
export async function captureOrtLog<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  installOrtLogTap();
  const lines: string[] = [];
  activeCapture = lines;
  try {
    return { result: await fn(), lines };
  } finally {
    activeCapture = undefined;
  }
}
