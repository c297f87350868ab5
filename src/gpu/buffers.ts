/**
 * GPU buffers we own. Every buffer we create goes through a `BufferPool`, which counts what is
 * live so that tests can assert the count stays flat across windows (no leaks), and which
 * destroys everything on `dispose()`.
 */

export class BufferPool {
  private readonly live = new Set<GPUBuffer>();

  constructor(readonly device: GPUDevice) {}

  /** Number of buffers created through this pool and not yet released. */
  get liveCount(): number {
    return this.live.size;
  }

  /** A storage buffer holding a copy of `data` (size rounded up to 4 bytes). */
  storageFrom(data: Float32Array | Uint32Array, label: string, extraUsage = 0): GPUBuffer {
    const buffer = this.create(data.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage, label);
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  /** A zero-initialised storage buffer of `byteLength` bytes. */
  storage(byteLength: number, label: string, extraUsage = 0): GPUBuffer {
    return this.create(byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage, label);
  }

  uniform(byteLength: number, label: string): GPUBuffer {
    return this.create(byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label);
  }

  create(byteLength: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const size = Math.max(4, Math.ceil(byteLength / 4) * 4);
    const buffer = this.device.createBuffer({ size, usage, label });
    this.live.add(buffer);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    if (this.live.delete(buffer)) buffer.destroy();
  }

  /**
   * Copies `buffer` back to the CPU through a transient staging buffer. This is a synchronisation
   * point: in the inner loop only loss scalars and packed submissions come back this way.
   */
  async read(buffer: GPUBuffer, byteLength = buffer.size): Promise<ArrayBuffer> {
    const staging = this.create(byteLength, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, `${buffer.label}-readback`);
    try {
      const encoder = this.device.createCommandEncoder({ label: 'readback' });
      encoder.copyBufferToBuffer(buffer, 0, staging, 0, staging.size);
      this.device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      return staging.getMappedRange(0, byteLength).slice(0);
    } finally {
      this.release(staging);
    }
  }

  async readFloat32(buffer: GPUBuffer, length: number): Promise<Float32Array> {
    return new Float32Array(await this.read(buffer, length * 4));
  }

  dispose(): void {
    for (const buffer of this.live) buffer.destroy();
    this.live.clear();
  }
}
