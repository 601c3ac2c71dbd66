/**
 * A paper session's `Tick` retried by Step Functions (same input, the first attempt's answer
 * lost) through the step-scoped audit sink, as the handler runs every tick: the first attempt
 * sends an order (the broker reports it `accepted`), the retry finds it at the broker already
 * partially filled. Both transitions are recorded, once each. Under the step's ordinal key the
 * retry's `order_status_changed` got the first attempt's record back, so the transition its
 * output state carries (and the next tick starts from) was never recorded.
 *
 * One manual clock drives the fake Alpaca, the adapter's sleeps and the session.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { stepScopedAuditSink } from '../../../functions/core/audit/step-scoped.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import type { PaperSessionState } from '../../../functions/core/paper/paper-session.js';
import { tickPaperSession } from '../../../functions/core/use-cases/paper-session.js';
import { paperSessionFixture } from '../../support/paper-session-fixture.js';
import { fakeAlpacaSession, nextTickMs, payloadsOf } from '../../support/paper-tick.js';
import { type CloseSeries, loadSharedSession } from '../../support/shared-session.js';

const DATE = '2013-10-08';
const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];
const costs = parseCohortConfig({ bankrollUsd: 1_000 });

let marketData: LeanMarketData;
let genomes: PaperSessionState['genome'][];
let openMs: number;
let closes: Map<string, CloseSeries>;

beforeAll(async () => {
  ({ marketData, openMs, closes, genomes } = await loadSharedSession(DATE, SYMBOLS, 'c-retry'));
});

/** `client_order_id status filled_qty` of every order of `after` that moved since `before`. */
function transitions(before: PaperSessionState, after: PaperSessionState): string[] {
  return after.orders
    .filter((o) => {
      const was = before.orders.find((w) => w.clientOrderId === o.clientOrderId);
      return !was || was.status !== o.status || was.filledQty !== o.filledQty;
    })
    .map((o) => `${o.clientOrderId} ${o.status} ${o.filledQty}`);
}

describe('a retried paper tick (fake Alpaca on loopback)', () => {
  it('records what its retry observed besides what the first attempt recorded, each once', async () => {
    // Prepare: a session whose orders are reported `new` when sent and fill on later reads
    const h = await fakeAlpacaSession({
      keyId: 'PKTESTKEYID0000000016',
      secretKey: 'fake-secret-for-retried-tick-tests',
      startMs: openMs + 30 * 60_000,
      marketData,
      closes,
      fake: { statusSchedule: ['partially_filled', 'filled'], partialFillFraction: 0.5 },
    });
    const genome = genomes[0] as PaperSessionState['genome'];
    let s = paperSessionFixture({ promotionId: 'PRETRY001', genome, date: DATE, openMs, costs });
    const step = { execution_id: 'arn:aws:states:us-east-1:1:execution:paper:e1', state: 'Tick' };
    const tick = (state: PaperSessionState) =>
      tickPaperSession(
        { ...h.deps, audit: stepScopedAuditSink(h.audit, step, { state }) },
        { state },
      );
    // Act: tick (each through the step-scoped sink) until a tick sends an order; that tick
    // was the first attempt, and its Retry runs with the same input
    let first = await tick(s);
    while (first.state.orders.length === s.orders.length && !first.done) {
      s = first.state;
      h.clock.set(nextTickMs(h.clock.now()));
      first = await tick(s);
    }
    const before = h.audit.records().length;
    const retry = await tick(s);
    // Assess: the retry found the sent order filling; both transitions recorded once
    const sent = transitions(s, first.state);
    const found = transitions(s, retry.state);
    expect(sent).toEqual([expect.stringMatching(/ accepted 0$/)]);
    expect(found).toEqual([expect.stringMatching(/ partially_filled /)]);
    const recorded = payloadsOf(h.audit.records(), 'order_status_changed').map(
      (p) => `${p.client_order_id} ${p.status} ${p.filled_qty}`,
    );
    for (const t of [...sent, ...found]) expect(recorded.filter((r) => r === t)).toHaveLength(1);
    expect(
      payloadsOf(h.audit.records().slice(before), 'order_status_changed').map(
        (p) => `${p.client_order_id} ${p.status} ${p.filled_qty}`,
      ),
    ).toEqual(found);
  });
});
