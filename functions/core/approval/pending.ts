/**
 * When an approval request still waits for a decision: `pending` and not past its expiry.
 * One rule for every reader (the daily report, `/stagegate status`, the desk status, the
 * console): a request expires at `exp` (epoch seconds UTC, the expiry its links are signed
 * with), and from that instant no link or button acts on it.
 */
import type { ApprovalStatus } from './types.js';

/**
 * True when an approval with expiry `exp` (epoch seconds UTC) has expired at `nowMs` (epoch ms
 * UTC): `nowMs >= exp × 1000`.
 */
export function approvalExpiredAt(approval: { readonly exp: number }, nowMs: number): boolean {
  return nowMs >= approval.exp * 1000;
}

/**
 * The requests of `items` still pending and not expired at `nowMs` (epoch ms UTC), in their
 * given order (see {@link approvalExpiredAt}).
 */
export function pendingApprovalsAt<
  T extends { readonly status: ApprovalStatus; readonly exp: number },
>(items: readonly T[], nowMs: number): T[] {
  return items.filter((a) => a.status === 'pending' && !approvalExpiredAt(a, nowMs));
}
