/**
 * The console's folds of stored records: a paper session from its audit trail, a micro-live
 * slice's next leverage tier, and the approval chain's task-token state.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LEVERAGE_POLICY } from '../../../functions/core/leverage/policy.js';
import {
  type AuditRow,
  approvalChain,
  microLiveView,
  paperSessionOf,
  paperSessionsFrom,
} from '../../../functions/core/use-cases/console-trading.js';
import type { MicroLiveSlice } from '../../../functions/core/use-cases/day3-records.js';
import type { ApprovalView } from '../../../functions/ports/approval-store.js';

let seq = 0;
function row(kind: string, ts: string, payload: unknown, subject: Record<string, string> = {}) {
  seq += 1;
  return {
    id: `r${seq}`,
    ts,
    kind,
    actor: 'stagegate/paper-session',
    stream: 'promotion:p1',
    seq,
    subject: { promotion_id: 'p1', ...subject },
    payload,
    hash: 'h',
    prevHash: 'p',
  } satisfies AuditRow;
}

const sessionRows = (): AuditRow[] => [
  row('paper_decision', '2013-10-08T14:00:00.000Z', {
    action: 'session_started',
    symbol: 'SPY',
    date: '2013-10-08',
    capital_usd: 50,
    close_iso: '2013-10-08T20:00:00.000Z',
    early_close: false,
    broker: 'simulated',
  }),
  row('order_intent', '2013-10-08T14:05:00.000Z', {
    client_order_id: 'sg-p1-1',
    symbol: 'SPY',
    side: 'buy',
    qty: 0.3,
  }),
  row('paper_decision', '2013-10-08T14:05:00.100Z', {
    action: 'orders',
    reason: 'signal',
    bar_iso: '2013-10-08T14:04:00.000Z',
    at_iso: '2013-10-08T14:05:00.000Z',
    orders: [
      { client_order_id: 'sg-p1-1', side: 'buy', qty: 0.3, reason: 'signal', status: 'new' },
    ],
  }),
  row(
    'order_status_changed',
    '2013-10-08T14:06:00.000Z',
    { client_order_id: 'sg-p1-1', status: 'filled', filled_qty: 0.3, filled_avg_price: 168.2 },
    { order_id: 'sg-p1-1' },
  ),
  row('paper_decision', '2013-10-08T15:00:00.000Z', {
    action: 'skipped',
    reason: 'stale bar',
    at_iso: '2013-10-08T15:00:00.000Z',
  }),
];

describe('paper session fold', () => {
  it('is running until completed, with its orders, fills and skipped ticks', () => {
    const s = paperSessionOf('p1', sessionRows());
    expect(s).toMatchObject({ status: 'running', symbol: 'SPY', capitalUsd: 50, orderCount: 1 });
    expect(s?.orders[0]).toMatchObject({
      clientOrderId: 'sg-p1-1',
      side: 'buy',
      qty: 0.3,
      reason: 'signal',
      status: 'filled',
      filledQty: 0.3,
      avgPriceUsd: 168.2,
      decidedAtIso: '2013-10-08T14:05:00.000Z',
      history: [
        { status: 'new', atIso: '2013-10-08T14:05:00.100Z' },
        { status: 'filled', atIso: '2013-10-08T14:06:00.000Z' },
      ],
    });
    expect(s?.fills).toEqual([
      {
        clientOrderId: 'sg-p1-1',
        side: 'buy',
        qty: 0.3,
        priceUsd: 168.2,
        atIso: '2013-10-08T14:06:00.000Z',
      },
    ]);
    expect(s?.decisions).toEqual([
      { atIso: '2013-10-08T15:00:00.000Z', action: 'skipped', reason: 'stale bar' },
    ]);
    expect(s?.parity).toBeNull();
  });

  it('completes (or halts) with parity and reconciliation, in any record order', () => {
    const done = row('paper_session_completed', '2013-10-08T20:06:00.000Z', {
      paper_pnl_usd: 0.42,
      reference_pnl_usd: 0.4,
      difference_usd: 0.02,
      orders: [],
      reconciliation: { clean: true, bookQty: 0, brokerQty: 0 },
      halt: null,
    });
    const rows = [done, ...sessionRows()].reverse();
    const s = paperSessionOf('p1', rows);
    expect(s).toMatchObject({ status: 'completed', paperPnlUsd: 0.42, reconciliationClean: true });
    const halted = {
      ...done,
      payload: { ...(done.payload as object), halt: { mode: 'flatten', reason: 'kill switch' } },
    };
    expect(paperSessionOf('p1', [...sessionRows(), halted])?.status).toBe('halted');
  });

  it('knows a session only by its start record', () => {
    expect(paperSessionsFrom(sessionRows().slice(1))).toEqual([]);
    expect(paperSessionsFrom(sessionRows()).map((s) => s.promotionId)).toEqual(['p1']);
  });
});

const slice = (leverage: number): MicroLiveSlice => ({
  sliceId: 'ml-1',
  approvalId: 'a1',
  approvedBy: 'local:rick',
  approvedAtIso: '2013-10-09T14:00:00.000Z',
  executionArn: 'arn',
  reviewId: 'd3-1',
  cohortId: 'c1',
  agentId: 'a0001',
  genomeId: 'g1',
  lineageId: 'l1',
  family: 'momentum',
  symbol: 'SPY',
  bankrollUsd: 1000,
  capitalSliceUsd: 50,
  leverage,
  backtestReturnVariance: null,
  status: 'rolled_back',
  statusReason: 'drawdown 6% > 5%',
  promotionId: 'p1',
  pipelineExecutionArn: null,
  entry: null,
  flattenClientOrderId: 'sg-flat',
  dailyCloses: [],
  version: 3,
  createdAtIso: '2013-10-09T14:00:00.000Z',
  updatedAtIso: '2013-10-09T15:00:00.000Z',
});

describe('micro-live view', () => {
  it('names the next tier and the bankroll at risk; none above the cap', () => {
    const v = microLiveView(slice(2), [], DEFAULT_LEVERAGE_POLICY);
    expect(v.leverage).toMatchObject({ current: 2, nextTier: 3, floor: 1, cap: 10 });
    expect(v.bankrollAtRiskUsd).toBe(100);
    expect(v.rollback).toEqual({
      state: 'rolled_back',
      reason: 'drawdown 6% > 5%',
      flattenClientOrderId: 'sg-flat',
    });
    expect(microLiveView(slice(10), [], DEFAULT_LEVERAGE_POLICY).leverage.nextTier).toBeNull();
  });
});

describe('approval chain', () => {
  const view = (over: Partial<ApprovalView>): ApprovalView =>
    ({
      approvalId: 'a1',
      executionArn: 'arn',
      approvers: ['local:rick'],
      chain: [{ role: 'risk', approvers: ['local:rick'] }],
      signatures: [],
      status: 'pending',
      createdAtIso: '2026-12-04T10:00:00.000Z',
      expiresAtIso: '2026-12-04T11:00:00.000Z',
      exp: Date.parse('2026-12-04T11:00:00.000Z') / 1000,
      decidedBy: null,
      decidedAtIso: null,
      decidedChannel: null,
      ...over,
    }) as ApprovalView;
  const before = Date.parse('2026-12-04T10:30:00.000Z');
  const after = Date.parse('2026-12-04T11:00:00.000Z');

  it('holds the token while pending, expires it at the deadline, releases it on a decision', () => {
    expect(approvalChain(view({}), [], before).taskToken.state).toBe('held');
    expect(approvalChain(view({}), [], after).taskToken.state).toBe('expired');
    const decided = view({
      status: 'rejected',
      decidedBy: 'local:rick',
      decidedAtIso: '2026-12-04T10:20:00.000Z',
      decidedChannel: 'web',
    });
    const signed = {
      ...row('approval_decided', '2026-12-04T10:20:00.000Z', {
        decision: 'rejected',
        approval_id: 'a1',
        channel: 'web',
      }),
      actor: 'local:rick',
    };
    const other = row('approval_decided', '2026-12-04T10:21:00.000Z', {
      decision: 'approved',
      approval_id: 'another',
    });
    const chain = approvalChain(decided, [other, signed], after);
    expect(chain.taskToken.state).toBe('released');
    expect(chain.steps).toEqual([
      expect.objectContaining({ step: 'signed', actor: 'local:rick', outcome: 'rejected' }),
    ]);
  });
});
