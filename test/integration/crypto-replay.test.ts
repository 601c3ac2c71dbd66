/**
 * Crypto sessions end to end through the local schedules: 24 h UTC days on their own
 * calendar (a Sunday and an NYSE holiday are sessions), the cohort of a day running after
 * that UTC day closed, learning cycles after it, the next UTC day's promotion inside the
 * UTC promotion window; ETHUSD has no daily file and is not "unknown" (its risk estimate is
 * simply absent). A second replay (BTCUSD, gates loosened so the candidate passes) trades a
 * crypto paper session: fractional quantities, no pattern-day-trader refusal, flat before
 * 00:00 UTC.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTerminalOrderStatus } from '../../functions/core/orders/order.js';
import { ManualClock } from '../../functions/ports/clock.js';
import { type LocalStack, startLocalStack } from '../../local/local-stack.js';
import { type ReplayResult, replay } from '../../local/replay.js';
import { DATA_ROOT } from '../support/paths.js';
import { auditRecords } from './day3/support.js';

let stack: LocalStack;
/** This run's own temp folder (reports, audit cache): never shared with another copy. */
let tmp: string;
let result: ReplayResult;
let printed = '';
let paperStack: LocalStack;
let paperRun: ReplayResult;
let paperPrinted = '';
/** A Sunday and Labor Day (NYSE closed): both are crypto sessions. */
const SESSIONS = ['2017-09-03', '2017-09-04'];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'stagegate-crypto-'));
  stack = await startLocalStack({
    dataRoot: DATA_ROOT,
    stateDir: 'memory',
    logLevel: 'SILENT',
    clock: new ManualClock(0),
    brokerAccount: 'it-crypto',
  });
  result = await replay(stack, {
    sessions: SESSIONS,
    symbols: ['BTCUSD', 'ETHUSD'],
    market: 'crypto',
    bankrollUsd: 1000,
    agentCount: 10,
    allocation: 'risk-weighted',
    seed: 2,
    reportDir: path.join(tmp, 'reports'),
    out: (t) => {
      printed += t;
    },
  });
  paperStack = await startLocalStack({
    dataRoot: DATA_ROOT,
    stateDir: 'memory',
    logLevel: 'SILENT',
    clock: new ManualClock(0),
    brokerAccount: 'it-crypto-paper',
    // Every risk/evidence gate wide open: this replay is about the calendar and the paper
    // session, not about whether a one-day candidate is good.
    configOverrides: {
      gates: {
        maxParentDrawdownFraction: 1,
        maxAgentDrawdownFraction: 1,
        maxVar1dFraction: 100,
        maxExpectedShortfall1dFraction: 100,
        minTradeCount: 1,
        maxQuotedSpreadBps: 10_000,
      },
    },
  });
  paperRun = await replay(paperStack, {
    sessions: ['2018-04-04', '2018-04-05'],
    symbols: ['BTCUSD'],
    market: 'crypto',
    bankrollUsd: 1000,
    agentCount: 6,
    allocation: 'equal',
    seed: 3,
    reportDir: path.join(tmp, 'paper-reports'),
    out: (t) => {
      paperPrinted += t;
    },
  });
}, 600_000);

afterAll(async () => {
  await stack?.stop();
  await paperStack?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('crypto sessions through the schedules', () => {
  it('runs one cohort per UTC day, weekend and NYSE holiday included, and two learning cycles after each', () => {
    expect(result.cohorts.map((c) => [c.sessionDate, c.status])).toEqual([
      ['2017-09-03', 'SUCCEEDED'],
      ['2017-09-04', 'SUCCEEDED'],
    ]);
    expect(result.learning).toHaveLength(4);
  });

  it('promotes on the next UTC day at 01:00 UTC, judged by the UTC promotion window (an NYSE holiday is a crypto session)', () => {
    // The 2017-09-04 promotion (Labor Day, NYSE closed) reads the cohort of 2017-09-03.
    expect(result.promotions.map((p) => [p.sessionDate, p.cohortId?.slice(0, 12)])).toEqual([
      ['2017-09-04', 'coh-20170903'],
    ]);
    const window = result.promotions[0]?.gates?.results.find((g) => g.gate === 'promotion_window');
    expect(window).toMatchObject({
      verdict: 'pass',
      observed: '2017-09-04 01:00',
      unit: 'UTC local time',
    });
    expect(printed).toContain('[2017-09-04 01:00 UTC] schedule promotion');
  });

  it('posts the crypto daily report of each UTC day after its chain (00:55 UTC), kept under its market', async () => {
    expect(result.dailyReports.map((r) => [r.outcome, r.market, r.sessionDate])).toEqual([
      ['posted', 'crypto', '2017-09-03'],
      ['posted', 'crypto', '2017-09-04'],
    ]);
    expect(printed).toContain('[2017-09-04 00:55 UTC] schedule daily-report');
    expect(printed).toContain('kept as daily-reports/crypto/2017-09-03.json');
    const kept = (await stack.runtime.artifacts.getJson(
      'daily-reports/crypto/2017-09-03.json',
    )) as {
      market: string;
      cohort: { cohortId: string } | null;
    };
    expect(kept.market).toBe('crypto');
    expect(kept.cohort?.cohortId).toBe(result.cohorts[0]?.cohortId);
  });

  it('fires each cohort after its UTC day closed (00:05 UTC the next day)', () => {
    expect(printed).toContain('[2017-09-04 00:05 UTC] schedule cohort-start');
    expect(printed).toContain('[2017-09-05 00:05 UTC] schedule cohort-start');
    expect(printed).not.toMatch(/unknown symbol/i);
  });

  it('persists each cohort after its whole UTC day: the record starts after the data it holds', async () => {
    for (const c of result.cohorts) {
      const cohort = await stack.runtime.cohorts.get(c.cohortId as string);
      const dayEnd = Date.parse(`${c.sessionDate}T00:00:00Z`) + 86_400_000;
      expect(Date.parse(cohort?.startedAtIso ?? '')).toBeGreaterThanOrEqual(dayEnd);
      expect(cohort?.barCount).toBeGreaterThan(1000);
    }
  });
});

describe('a crypto paper session on the UTC calendar', () => {
  it("promotes the previous UTC day's candidate and trades the new UTC day until the flatten two minutes before 00:00 UTC", async () => {
    expect(paperRun.promotions).toHaveLength(1);
    const p = paperRun.promotions[0];
    expect(p?.sessionDate).toBe('2018-04-05');
    expect(paperPrinted).toContain('[2018-04-05 01:00 UTC] schedule promotion');
    expect([p?.status, p?.outcome, p?.error]).toEqual(['SUCCEEDED', 'promoted', undefined]);
    const orders = p?.paper?.orders ?? [];
    expect(orders.length).toBeGreaterThan(0);
    const dayStart = Date.parse('2018-04-05T01:00:00Z');
    const dayEnd = Date.parse('2018-04-06T00:00:00Z');
    for (const o of orders) {
      expect(o.symbol).toBe('BTCUSD');
      expect(o.decidedAtMs).toBeGreaterThanOrEqual(dayStart);
      expect(o.decidedAtMs).toBeLessThan(dayEnd);
      // A $1,000 account is far below the $25,000 pattern-day-trader minimum: crypto is exempt.
      expect(o.rejectReason ?? '').not.toMatch(/pattern-day-trader/);
    }
    // Fractional BTC quantities (a $ slice buys well under one coin).
    expect(orders.some((o) => o.qty < 1 && !Number.isInteger(o.qty))).toBe(true);
    // The close is 00:00 UTC (not 16:00 New York): the flatten is decided on the bar that
    // starts two minutes before it. (On this day the last minute has a trade but no quote, so
    // the simulated broker cannot fill it; the order is gtc, as Alpaca wants crypto orders,
    // and the session cancels it at the close instead of letting it work into 2018-04-06,
    // whose quote file is missing.)
    const flatten = orders.filter((o) => o.reason === 'flatten');
    for (const o of flatten) {
      expect(new Date(o.decidedAtMs).toISOString()).toBe('2018-04-05T23:58:00.000Z');
    }
    expect(orders.filter((o) => !isTerminalOrderStatus(o.status))).toEqual([]);
    const audit = await auditRecords(paperStack);
    const sent = audit.filter((r) => r.kind === 'order_intent' && r.payload.symbol === 'BTCUSD');
    expect(sent.length).toBeGreaterThan(0);
    for (const r of sent) expect(r.payload.time_in_force).toBe('gtc');
    const unfilled = flatten.filter((o) => o.filledQty < o.qty);
    const closeCancel = audit.find(
      (r) =>
        r.kind === 'paper_decision' && r.payload.reason === 'session closed: open orders canceled',
    );
    expect(unfilled.length).toBeGreaterThan(0);
    expect(closeCancel?.payload.canceled).toEqual(unfilled.map((o) => o.clientOrderId));
    for (const o of unfilled) expect(o.status).toBe('canceled');
    const closing = Date.parse('2018-04-05T23:58:00Z');
    for (const o of orders.filter((x) => x.reason === 'signal')) {
      expect(o.decidedAtMs).toBeLessThan(closing);
    }
    expect(p?.paper?.reconciliation.clean).toBe(true);
    expect(p?.paper?.reconciliation.bookQty).toBeCloseTo(
      p?.paper?.reconciliation.brokerQty ?? Number.NaN,
      9,
    );
  });
});
