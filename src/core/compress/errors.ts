/**
 * Typed failures of the compression reference. They mean a caller passed something the codec cannot
 * represent (a shape without a usable chunk divisor, a NaN in the error-feedback buffer, a config whose
 * chunks do not fit 12-bit indices): a bug or misconfiguration on our side, never a peer's bad bytes
 * (those are `WireFormatError`s, raised by the wire decoder before any of this code runs).
 */
import { GauntletError } from '../errors.ts';
export type CompressionErrorCode = 'bad-shape' | 'bad-config' | 'non-finite' | 'length-mismatch';

export class CompressionError extends GauntletError {
  override readonly name = 'CompressionError';
  constructor(
    readonly code: CompressionErrorCode,
    message: string,
  ) {
    super(message);
  }
}
