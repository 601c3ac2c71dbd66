/**
 * Shared fixtures of the approval tests: keys, a candidate summary (optionally hostile), a
 * new approval request.
 */
import type {
  ApprovalSummary,
  NewApprovalRequest,
} from '../../../functions/core/approval/types.js';
import type { GateResult } from '../../../functions/core/gates/types.js';

/** 32-byte test key (never a real secret). */
export const KEY = new Uint8Array(Buffer.from('stagegate-test-approval-key-0001', 'utf8'));
/** A different 32-byte key. */
export const OTHER_KEY = new Uint8Array(Buffer.from('stagegate-test-approval-key-0002', 'utf8'));

/** 2013-10-09 20:00 UTC (after the Day-3 close). */
export const NOW_MS = Date.UTC(2013, 9, 9, 20, 0, 0);
export const HOUR_MS = 3_600_000;

export const APPROVAL_ID = 'Ab3dEf6hIj9kLm2nOp5qRs';
export const APPROVER = 'slack:U024BE7LH';
export const TASK_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAb7y-task-token-secret-value';
export const EXECUTION_ARN =
  'arn:aws:states:us-east-1:123456789012:execution:day3-go-no-go:day3-2013-10-09';

export function gate(overrides: Partial<GateResult> = {}): GateResult {
  return {
    gate: 'drawdown_agent',
    verdict: 'pass',
    observed: 0.012,
    threshold: 0.05,
    unit: 'fraction of peak equity',
    reason: 'agent drawdown 0.012 <= 0.05',
    breakerAction: 'none',
    ...overrides,
  };
}

export function summary(overrides: Partial<ApprovalSummary> = {}): ApprovalSummary {
  return {
    candidateId: 'genome-7f3a',
    agentId: 'agent-03',
    family: 'momentum',
    symbol: 'SPY',
    sessionDates: ['2013-10-07', '2013-10-08', '2013-10-09'],
    metrics: {
      totalPnlUsd: 12.34,
      roi: 0.0123,
      sharpe: 1.82,
      maxDrawdownFraction: 0.011,
      tradeCount: 42,
      sessions: 3,
    },
    gates: [
      gate(),
      gate({
        gate: 'min_trade_count',
        verdict: 'fail',
        observed: 4,
        threshold: 10,
        unit: 'trades',
        reason: '4 trades < 10',
      }),
    ],
    bankrollUsd: 1000,
    capitalSliceUsd: 50,
    leverage: 2,
    reportUrl: 'https://reports.example.com/runs/day3?cohort=c-1',
    ...overrides,
  };
}

/** A string that breaks out of HTML, attributes, scripts and mrkdwn if it is not escaped. */
export const HOSTILE = `"><script>alert('x')</script><img src=x onerror=alert(1)> & <!channel> <@U1>`;

export function hostileSummary(): ApprovalSummary {
  return summary({
    candidateId: HOSTILE,
    agentId: HOSTILE,
    family: HOSTILE,
    symbol: '<b>SPY</b>',
    gates: [gate({ reason: HOSTILE, unit: HOSTILE, observed: HOSTILE })],
  });
}

export function newRequest(overrides: Partial<NewApprovalRequest> = {}): NewApprovalRequest {
  return {
    approvalId: APPROVAL_ID,
    taskToken: TASK_TOKEN,
    executionArn: EXECUTION_ARN,
    summary: summary(),
    equityCurve: [
      [NOW_MS - 3 * HOUR_MS, 1000],
      [NOW_MS - 2 * HOUR_MS, 1004.5],
      [NOW_MS - HOUR_MS, 998.2],
      [NOW_MS, 1012.34],
    ],
    approvers: [APPROVER, 'web:alice@example.com'],
    createdAtIso: new Date(NOW_MS).toISOString(),
    expiresAtIso: new Date(NOW_MS + 4 * HOUR_MS).toISOString(),
    ...overrides,
  };
}
