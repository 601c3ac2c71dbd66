import type { CohortRecord, CohortSummary } from '../core/use-cases/cohort-records.js';

/**
 * Persistence of scored cohorts (DynamoDB in AWS and locally).
 *
 * A cohort becomes visible to readers only once it is complete: `saveCompleted` writes the
 * agent rows first and the cohort header last, conditionally (a cohort id is written once).
 *
 * Errors: `CohortAlreadyExistsError` when the id was already saved, `NotFoundError` from
 * `get` for an unknown id, `TransientError` for retryable storage faults.
 */
export interface CohortRepository {
  saveCompleted(record: CohortRecord): Promise<void>;
  get(cohortId: string): Promise<CohortRecord>;
  /** Most recent first (by session date, then start time). */
  list(limit: number): Promise<readonly CohortSummary[]>;
}
