/**
 * Typed GPU errors. Each message says what happened and what the user can do next,
 * because these reach volunteers directly through the UI.
 */
import { GauntletError } from '../core/errors.ts';

export class WebGPUUnavailableError extends GauntletError {
  readonly code: string = 'webgpu-unavailable';
  override readonly name = 'WebGPUUnavailableError';
  constructor(readonly reason: string) {
    super(
      `WebGPU is not available: ${reason}. Use a recent Chrome, Edge or Chromium (Firefox and Safari need WebGPU ` +
        `enabled), open the page over https or http://localhost, or continue on the slower CPU (WASM) path.`,
    );
  }
}

export class AdapterLimitError extends GauntletError {
  readonly code: string = 'adapter-limit';
  override readonly name = 'AdapterLimitError';
  constructor(
    readonly limit: string,
    readonly available: number,
    readonly needed: number,
  ) {
    super(
      `This GPU's ${limit} is ${available}, but ${needed} is needed. Choose a smaller preset or use the CPU (WASM) path.`,
    );
  }
}

export class DeviceLostError extends GauntletError {
  readonly code: string = 'device-lost';
  override readonly name = 'DeviceLostError';
  constructor(readonly reason: string) {
    super(`The GPU device was lost (${reason}). The peer will recreate it and resume from its last saved state.`);
  }
}
