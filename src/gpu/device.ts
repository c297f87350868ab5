/**
 * The one GPUDevice. Our WGSL pipelines and onnxruntime-web's native WebGPU EP share it
 * (ORT accepts an external device through `executionProviders: [{ name: 'webgpu', device }]`),
 * so buffers pass between ORT and our kernels without copies (ort-webgpu.md §2, §9).
 */
import { WebGPUUnavailableError } from './errors.ts';

/** What the page (or a test) needs to know before choosing a preset or downloading anything. */
export interface GpuCapability {
  readonly available: boolean;
  /** Why WebGPU is unusable, in plain words, when `available` is false. */
  readonly reason?: string;
  readonly isFallbackAdapter?: boolean;
  readonly vendor?: string;
  readonly architecture?: string;
  readonly description?: string;
  readonly features?: readonly string[];
  readonly limits?: {
    readonly maxStorageBufferBindingSize: number;
    readonly maxBufferSize: number;
    readonly maxComputeWorkgroupStorageSize: number;
    readonly maxComputeInvocationsPerWorkgroup: number;
    readonly maxStorageBuffersPerShaderStage: number;
  };
}

function gpuOrUndefined(): GPU | undefined {
  // `navigator.gpu` is absent in insecure contexts and in browsers without WebGPU.
  // The type says GPU, but the property is missing without WebGPU or outside a secure context.
  const gpu: GPU | undefined = typeof navigator !== 'undefined' ? navigator.gpu : undefined;
  return gpu;
}

/** Probes the adapter without creating a device (cheap; safe to call before any download). */
export async function probeGpu(): Promise<GpuCapability> {
  const gpu = gpuOrUndefined();
  if (!gpu) {
    const secure = typeof isSecureContext === 'boolean' ? isSecureContext : true;
    return {
      available: false,
      reason: secure ? 'this browser does not expose navigator.gpu' : 'the page is not in a secure context (use https or localhost)',
    };
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { available: false, reason: 'no WebGPU adapter was found (GPU blocklisted or disabled)' };
  const { limits, info } = adapter;
  return {
    available: true,
    isFallbackAdapter: info.isFallbackAdapter,
    vendor: info.vendor,
    architecture: info.architecture,
    description: info.description,
    features: [...adapter.features].sort(),
    limits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
    },
  };
}

/**
 * Requests the device with the adapter's full buffer limits (the defaults are far below what a
 * model needs) and 256 invocations per workgroup (compatibility adapters default to 128).
 */
export async function acquireGpuDevice(label = 'gauntlet-peer'): Promise<GPUDevice> {
  const gpu = gpuOrUndefined();
  if (!gpu) throw new WebGPUUnavailableError('navigator.gpu is missing');
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new WebGPUUnavailableError('no adapter');
  const { limits } = adapter;
  return adapter.requestDevice({
    label,
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
      maxComputeInvocationsPerWorkgroup: Math.min(256, limits.maxComputeInvocationsPerWorkgroup),
      maxComputeWorkgroupSizeX: Math.min(256, limits.maxComputeWorkgroupSizeX),
    },
  });
}
