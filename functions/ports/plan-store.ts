/**
 * The one current plan ("grow $X over N days", `core/chatops/plan.ts`) with a version number
 * for compare-and-set: a change is stored only over the version it was decided on, so of two
 * requests that decided on the same version (two creates, a create and a cancel, two reports)
 * exactly one is stored and the other learns it lost.
 *
 * Errors: `PlanConflictError` when the stored version is not the expected one,
 * `PlanRecordCorruptError` (naming the item) for an unreadable stored plan: a storage fault,
 * not the caller's input; `TransientError` for retryable storage faults.
 */
import type { PlanRecord } from '../core/chatops/plan.js';

/** The stored plan and its version (1 for the first plan ever stored, +1 per change). */
export interface StoredPlan {
  readonly plan: PlanRecord;
  readonly version: number;
}

export interface PlanStore {
  /**
   * The current plan (strongly consistent), or null when none was ever stored.
   * @throws PlanRecordCorruptError when the stored plan cannot be read back.
   */
  read(): Promise<StoredPlan | null>;
  /**
   * Stores `plan` as the current plan if the stored version is still `expectedVersion`
   * (`null`: no plan stored yet), in one conditional write.
   * @returns the new version (`expectedVersion + 1`, or 1).
   * @throws PlanConflictError when another write came first.
   */
  write(plan: PlanRecord, expectedVersion: number | null): Promise<number>;
}
