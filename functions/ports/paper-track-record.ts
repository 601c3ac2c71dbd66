/**
 * Where every paper session's result is kept, per genome (its paper track record,
 * `functions/core/paper/track-record.ts`). DynamoDB in AWS and locally
 * (`functions/adapters/dynamodb/paper-track-record.ts`).
 *
 * Errors: `TransientError` for retryable storage faults.
 */
import type { PaperSessionResult } from '../core/paper/track-record.js';

export interface PaperTrackRecordStore {
  /**
   * Stores the result of one session, keyed by (genome, date, promotion): a retried Finish
   * writes the same item again, never a second one.
   */
  append(result: PaperSessionResult): Promise<void>;
  /** Every stored result of `genomeId`, in any order (empty for an unknown genome). */
  list(genomeId: string): Promise<readonly PaperSessionResult[]>;
}
