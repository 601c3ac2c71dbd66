/**
 * The one rule for whether a decision may be recorded on an approval request, shared by the
 * use cases (early, friendly refusals) and the store adapters (classifying a failed
 * conditional write), so every door refuses in the same order: allow-list, then
 * already-decided, then expiry.
 */
import {
  ApprovalAlreadyDecidedError,
  ApprovalExpiredError,
  ApprovalForbiddenError,
  type StagegateError,
} from '../errors.js';
import type { ApprovalStatus } from './types.js';

/** The stored facts the rule looks at. */
export interface ClaimableRecord {
  readonly approvalId: string;
  readonly status: ApprovalStatus;
  readonly approvers: readonly string[];
  /** UTC ISO-8601. */
  readonly expiresAtIso: string;
  readonly decidedBy: string | null;
}

/**
 * Why `approver` may not decide `record` at `atMs` (epoch ms UTC), or null when it may:
 * ApprovalForbiddenError when `approver` is not on the allow-list (exact match; a null approver
 * skips this check, for viewers the edge could not identify), ApprovalAlreadyDecidedError when
 * the status is not `pending`, ApprovalExpiredError when `atMs >= expiresAt` (or the expiry
 * is unreadable: fail closed).
 */
export function claimRefusal(
  record: ClaimableRecord,
  approver: string | null,
  atMs: number,
): StagegateError | null {
  if (approver !== null && !record.approvers.includes(approver)) {
    return new ApprovalForbiddenError(record.approvalId, approver);
  }
  if (record.status !== 'pending') {
    return new ApprovalAlreadyDecidedError(record.approvalId, record.status, record.decidedBy);
  }
  if (!(atMs < Date.parse(record.expiresAtIso))) {
    return new ApprovalExpiredError(record.approvalId, record.expiresAtIso);
  }
  return null;
}

/**
 * `fields` plus a NON-enumerable, read-only `taskToken` property: readable by the code that
 * resumes the execution, left out by `JSON.stringify`, spreads and loggers.
 */
export function withTaskToken<T extends object, K extends string | null>(
  fields: T,
  taskToken: K,
): T & { readonly taskToken: K } {
  const out = { ...fields };
  Object.defineProperty(out, 'taskToken', { value: taskToken, enumerable: false, writable: false });
  return out as T & { readonly taskToken: K };
}
