/**
 * One rule for "still waiting for a decision": `pending` and `nowMs < exp × 1000`. The daily
 * report and the desk status (console `GET /api/status`, `/stagegate status`) both list the
 * pending approvals through `pendingApprovalsAt`: a decided request, and a pending one whose
 * expiry has come (at the exact second included), are left out of both; the order is kept.
 */
import { describe, expect, it } from 'vitest';
import { approvalExpiredAt, pendingApprovalsAt } from '../../../functions/core/approval/pending.js';
import type { ApprovalStatus } from '../../../functions/core/approval/types.js';
import {
  buildDailyReport,
  type DailyReportDeps,
} from '../../../functions/core/use-cases/daily-report.js';
import { type DeskStatusDeps, deskStatus } from '../../../functions/core/use-cases/desk-status.js';
import type { ApprovalView } from '../../../functions/ports/approval-store.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { APPROVER, EXECUTION_ARN, summary } from './fixtures.js';

const NOW_MS = Date.UTC(2013, 9, 8, 20, 45, 0);
const NOW_S = NOW_MS / 1000;

function approval(id: string, status: ApprovalStatus, exp: number): ApprovalView {
  return {
    approvalId: `${id}-0123456789abcdef`,
    executionArn: EXECUTION_ARN,
    summary: summary(),
    equityCurve: [],
    approvers: [APPROVER],
    chain: [],
    signatures: [],
    status,
    createdAtIso: new Date(NOW_MS - 3_600_000).toISOString(),
    expiresAtIso: new Date(exp * 1000).toISOString(),
    exp,
    decidedBy: null,
    decidedAtIso: null,
    decidedChannel: null,
  };
}

// Newest first, as the read model lists them.
const APPROVALS = [
  approval('open-late', 'pending', NOW_S + 3600),
  approval('approved', 'approved', NOW_S + 3600),
  approval('expires-now', 'pending', NOW_S),
  approval('rejected', 'rejected', NOW_S + 60),
  approval('open-soon', 'pending', NOW_S + 1),
  approval('expired', 'pending', NOW_S - 60),
];
const WAITING = ['open-late-0123456789abcdef', 'open-soon-0123456789abcdef'];

const empty = async () => ({ items: [], nextCursor: null });
const readModel = {
  listCohorts: empty,
  listPromotions: empty,
  listApprovals: async () => ({ items: APPROVALS, nextCursor: null }),
};

describe('pending approvals: one rule for every reader', () => {
  it('expires at exp (epoch seconds), inclusive', () => {
    expect(approvalExpiredAt({ exp: NOW_S }, NOW_MS - 1)).toBe(false);
    expect(approvalExpiredAt({ exp: NOW_S }, NOW_MS)).toBe(true);
    expect(approvalExpiredAt({ exp: NOW_S }, NOW_MS + 1)).toBe(true);
  });

  it('keeps the pending, unexpired requests in their order', () => {
    expect(pendingApprovalsAt(APPROVALS, NOW_MS).map((a) => a.approvalId)).toEqual(WAITING);
    expect(pendingApprovalsAt(APPROVALS, NOW_MS - 1).map((a) => a.approvalId)).toEqual([
      WAITING[0],
      'expires-now-0123456789abcdef',
      WAITING[1],
    ]);
    expect(pendingApprovalsAt([], NOW_MS)).toEqual([]);
  });

  it('the desk status lists exactly those', async () => {
    const deps = {
      readModel,
      killSwitch: { read: async () => null },
      clock: new ManualClock(NOW_MS),
    } as unknown as DeskStatusDeps;
    const status = await deskStatus(deps);
    expect(status.pendingApprovals.map((a) => a.approvalId)).toEqual(WAITING);
  });

  it('the daily report lists exactly those', async () => {
    const deps = {
      readModel,
      cohorts: { get: async () => Promise.reject(new Error('no cohort is read')) },
      auditReader: { readRecords: async () => [], readHeads: async () => new Map() },
      audit: { append: async () => undefined, appendMany: async () => undefined },
      artifacts: {},
      environment: 'dev',
      clock: new ManualClock(NOW_MS),
      market: 'equity-usa',
      channel: {},
      minPsr: 0.95,
    } as unknown as DailyReportDeps;
    const report = await buildDailyReport(deps, {
      sessionDate: '2013-10-08',
      closeIso: '2013-10-08T20:00:00.000Z',
      earlyClose: false,
    });
    expect(report.pendingApprovals.map((a) => a.approvalId)).toEqual(WAITING);
  });
});
