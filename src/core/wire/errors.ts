/**
 * Why a submission's bytes were refused. Every problem the decoder finds in a peer's upload is one of
 * these codes, so a gather loop can log the reason, skip the peer (gauntlet-spec §5.8) and carry on;
 * nothing a peer sends can raise anything else.
 */
import { GauntletError } from '../errors.ts';
export type WireFormatErrorCode =
  | 'oversized'
  | 'truncated'
  | 'bad-magic'
  | 'bad-version'
  | 'codec-mismatch'
  | 'bad-string'
  | 'header-mismatch'
  | 'layout-mismatch'
  | 'shape-mismatch'
  | 'k-mismatch'
  | 'non-finite'
  /** Finite quantisation parameters whose float32 sum `lookup[b] + shift` is not (e.g. 3e38 + 3e38). */
  | 'value-overflow'
  /** A dequantised value above the run's `bounds.maxSubmissionValue`. */
  | 'value-out-of-bounds'
  /** A tensor whose dequantised values have an L2 norm above the run's `bounds.maxTensorNorm`. */
  | 'norm-out-of-bounds'
  | 'scale-out-of-range'
  | 'index-out-of-range'
  | 'duplicate-index'
  | 'bad-padding'
  | 'trailing-bytes'
  /** A signed publication's signature length is zero or too large to be a signature. */
  | 'bad-signature-length'
  /** The encoder was given a field it cannot represent (our bug, not a peer's). */
  | 'bad-field';

export class WireFormatError extends GauntletError {
  override readonly name = 'WireFormatError';
  constructor(
    readonly code: WireFormatErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
