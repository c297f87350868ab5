/**
 * The page's GPU probe in a module Worker (the page does no GPU work itself): what the adapter
 * offers, so the page can decide the preset or the CPU path before anything is downloaded. The
 * kernels worker, which runs our WGSL kernels on inputs for the conformance tests and benchmarks,
 * exists only in test builds (src/ui/test-hooks.ts).
 */
import * as Comlink from 'comlink';
import { probeGpu, type GpuCapability } from '../gpu/device.ts';
import { installErrorTransfer } from './error-transfer.ts';

installErrorTransfer();

export interface ProbeApi {
  probe(): Promise<GpuCapability>;
}

const api: ProbeApi = { probe: probeGpu };
Comlink.expose(api);
