/**
 * Read model of the operator console and its API: paginated, newest-first listings of the
 * cohorts, promotions and approval requests the workflows persisted (DynamoDB single table,
 * `gsi1`; `functions/adapters/dynamodb/console-read-model.ts`). Single items are read through
 * the owning repositories (cohorts, promotions, approvals).
 *
 * Pagination: `cursor` is the opaque position a previous page returned as `next` (null on the
 * last page). A page may hold fewer than `limit` items when a filter drops some; only
 * `next === null` means the end.
 *
 * Errors: `TransientError` for retryable storage faults.
 */

import type { CohortSummary } from '../core/use-cases/cohort-records.js';
import type { StagedPromotion } from '../core/use-cases/promotion-records.js';
import type { ApprovalView } from './approval-store.js';

/** One page of a listing. */
export interface Page<T> {
  readonly items: readonly T[];
  /** Position of the next page, or null on the last one. */
  readonly next: Record<string, unknown> | null;
}

/** Filters and position of a cohort listing. */
export interface CohortListQuery {
  /** Session date `YYYY-MM-DD` (America/New_York); all sessions when absent. */
  readonly sessionDate?: string;
  /** Only cohorts with exactly this bankroll, USD. */
  readonly bankrollUsd?: number;
  /** `partial`: the partial (intraday) cohorts instead of the complete ones. */
  readonly kind?: 'complete' | 'partial';
  /** Page size, 1..200. */
  readonly limit: number;
  readonly cursor?: Record<string, unknown>;
}

/** Position and size of a plain listing. */
export interface ListQuery {
  readonly limit: number;
  readonly cursor?: Record<string, unknown>;
}

export interface ConsoleReadModel {
  /** Complete (or with `kind: 'partial'`, partial) cohorts, most recent session first (then completion time). */
  listCohorts(query: CohortListQuery): Promise<Page<CohortSummary>>;
  /** Promotions, most recently staged first. */
  listPromotions(query: ListQuery): Promise<Page<StagedPromotion>>;
  /**
   * One approval request as pages may show it (no task token).
   * @throws ApprovalNotFoundError when there is none with this id.
   */
  getApproval(approvalId: string): Promise<ApprovalView>;
  /** Approval requests (any status), most recent first; never the task token. */
  listApprovals(query: ListQuery): Promise<Page<ApprovalView>>;
}
