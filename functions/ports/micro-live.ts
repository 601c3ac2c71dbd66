/**
 * Persistence of micro-live slices (the approved Day-3 candidate trading on the paper broker),
 * their leverage decisions, and where each approval request was announced (to update that
 * message with the decision). DynamoDB in AWS and locally
 * (`functions/adapters/dynamodb/micro-live-repository.ts`).
 *
 * Errors: `NotFoundError` for an unknown slice, `TransientError` for retryable storage faults.
 */
import type { LeverageDecisionRecord, MicroLiveSlice } from '../core/use-cases/day3-records.js';
import type { PostedMessage } from './notifier.js';

export interface MicroLiveRepository {
  /** Creates the slice once; a second call returns the stored one (`created: false`). */
  createSlice(slice: MicroLiveSlice): Promise<{ created: boolean; slice: MicroLiveSlice }>;
  /** @throws NotFoundError when there is no such slice. */
  getSlice(sliceId: string): Promise<MicroLiveSlice>;
  /**
   * Replaces the slice iff its stored version is `slice.version - 1` (optimistic concurrency).
   * @returns false when another writer moved it first (re-read and retry).
   */
  updateSlice(slice: MicroLiveSlice): Promise<boolean>;
  /** Slices the rollback monitor watches (`active` or `flattening`). */
  listWatchedSlices(): Promise<readonly MicroLiveSlice[]>;
  /**
   * Stores a leverage decision once per (slice, key); a second call with the same key returns
   * the stored decision (`created: false`), so a retried step never decides twice.
   */
  recordLeverageDecision(
    record: LeverageDecisionRecord,
  ): Promise<{ created: boolean; record: LeverageDecisionRecord }>;
  /** The slice's leverage decisions: the initial one first, then by decision time. */
  listLeverageDecisions(sliceId: string): Promise<readonly LeverageDecisionRecord[]>;
  /** Remembers where an approval request was posted. */
  saveMessageRef(approvalId: string, ref: PostedMessage): Promise<void>;
  /** Where the approval request was posted, or null. */
  getMessageRef(approvalId: string): Promise<PostedMessage | null>;
}
