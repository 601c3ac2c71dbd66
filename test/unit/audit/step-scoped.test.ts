/**
 * stepScopedAuditSink (functions/core/audit/step-scoped.ts) and the handlers' helpers
 * (functions/handlers/shared/audit-step.ts): a retry of a step appends nothing and gets the
 * first attempt's records; another loop iteration, another execution, and a second append of
 * one kind in one invocation all append; a keyed append (`appendKeyed`) keeps its natural key
 * inside a step, scoped by the execution, so a retry that makes more or fewer appends before
 * it still appends it once.
 */
import { describe, expect, it } from 'vitest';
import {
  appendKeyed,
  appendKeyedOnce,
  stepScopedAuditSink,
} from '../../../functions/core/audit/step-scoped.js';
import { BrokerRejectedError } from '../../../functions/core/errors.js';
import { submitOnce } from '../../../functions/core/orders/order-intent.js';
import { withNestedAuditStep } from '../../../functions/handlers/shared/audit-step.js';
import type { AuditDraft } from '../../../functions/ports/audit.js';
import type {
  BrokerOrder,
  BrokerOrderRequest,
  BrokerPort,
} from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';

const step = { execution_id: 'arn:aws:states:us-east-1:1:execution:pp:e1', state: 'Tick' };
const draft = (reason: string, at: string): AuditDraft => ({
  kind: 'schedule_skipped',
  actor: 'stagegate/test',
  stream: 'promotion:p-1',
  environment: 'local',
  payload: { schedule: 'promotion', reason, at },
});

/** One invocation: two appends of one kind, then a batch of two. */
async function invocation(sink: MemoryAuditSink, input: unknown, at: string) {
  const audit = stepScopedAuditSink(sink, step, input);
  const a = await audit.append(draft('first', at));
  const b = await audit.append(draft('second', at));
  const c = await audit.appendMany([draft('third', at), draft('fourth', at)]);
  return [a, b, ...c];
}

describe('stepScopedAuditSink', () => {
  it('a retry (same step, same input, another clock reading) appends nothing and gets the first records', async () => {
    // Prepare
    const clock = new ManualClock(Date.UTC(2024, 2, 4, 15));
    const sink = new MemoryAuditSink(clock);
    const first = await invocation(sink, { state: { ticks: 3 } }, '15:00');
    // Act
    clock.advance(60_000);
    const retry = await invocation(sink, { state: { ticks: 3 } }, '15:01');
    // Assess
    expect(sink.records()).toHaveLength(4);
    expect(first.map((r) => r.seq)).toEqual([0, 1, 2, 3]);
    expect(retry).toEqual(first);
  });

  it('another loop iteration (other input) and another execution append their own records', async () => {
    // Prepare
    const sink = new MemoryAuditSink(new ManualClock(Date.UTC(2024, 2, 4, 15)));
    await invocation(sink, { state: { ticks: 3 } }, '15:00');
    // Act
    await invocation(sink, { state: { ticks: 4 } }, '15:00');
    const other = stepScopedAuditSink(
      sink,
      { ...step, execution_id: `${step.execution_id}x` },
      {
        state: { ticks: 3 },
      },
    );
    await other.append(draft('first', '15:00'));
    // Assess
    expect(sink.records()).toHaveLength(9);
  });

  it('withNestedAuditStep scopes the Day-3 promotion sink and a top-level audit that is the same sink', async () => {
    // Prepare
    const sink = new MemoryAuditSink(new ManualClock(Date.UTC(2024, 2, 4, 15)));
    const deps = { audit: sink, promotion: { audit: sink } };
    const event = { step, selection: { id: 's' } };
    // Act: a retried invocation appends through both references
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const scoped = withNestedAuditStep(deps, event);
      await scoped.promotion.audit.append(draft('via promotion', '15:00'));
      await scoped.audit.append(draft('via top level', '15:00'));
    }
    // Assess: one count per invocation across both references; without step, the deps as is
    expect(sink.records()).toHaveLength(2);
    const withoutStep: { step?: typeof step; selection: unknown } = { selection: { id: 's' } };
    expect(withNestedAuditStep(deps, withoutStep)).toBe(deps);
  });
});

describe('a keyed append inside a step (appendKeyed)', () => {
  const keyed = (id: string): AuditDraft => ({
    kind: 'order_intent',
    actor: 'stagegate/test',
    stream: 'promotion:p-1',
    environment: 'local',
    subject: { promotion_id: 'p-1', order_id: id },
    payload: { client_order_id: id, symbol: 'IBM', side: 'buy', qty: 1, type: 'market' },
  });
  const ids = (sink: MemoryAuditSink) => sink.records().map((r) => r.subject.order_id);

  it('a retry that appends another keyed record first appends each record once', async () => {
    // Prepare: the first attempt records X, the retry observes Y before X
    const sink = new MemoryAuditSink(new ManualClock(Date.UTC(2024, 2, 4, 15)));
    const input = { state: { ticks: 3 } };
    const first = await appendKeyed(stepScopedAuditSink(sink, step, input), keyed('x'), ['x']);
    // Act
    const retry = stepScopedAuditSink(sink, step, input);
    const y = await appendKeyedOnce(retry, keyed('y'), ['y']);
    const x = await appendKeyedOnce(retry, keyed('x'), ['x']);
    // Assess: once each, and each call gets its own record back (the old ordinal key gave
    // Y the record of X and appended X a second time)
    expect(ids(sink)).toEqual(['x', 'y']);
    expect(y.replayed).toBe(false);
    expect(x).toEqual({ record: first, replayed: true });
  });

  it('keys by the execution: another state of the execution finds the key, another execution appends', async () => {
    // Prepare
    const sink = new MemoryAuditSink(new ManualClock(Date.UTC(2024, 2, 4, 15)));
    await appendKeyed(stepScopedAuditSink(sink, step, { a: 1 }), keyed('x'), ['x']);
    // Act
    const sameExecution = stepScopedAuditSink(sink, { ...step, state: 'Finish' }, { b: 2 });
    const again = await appendKeyedOnce(sameExecution, keyed('x'), ['x']);
    const other = stepScopedAuditSink(sink, { ...step, execution_id: `${step.execution_id}x` }, {});
    const elsewhere = await appendKeyedOnce(other, keyed('x'), ['x']);
    // Assess
    expect(again.replayed).toBe(true);
    expect(elsewhere.replayed).toBe(false);
    expect(ids(sink)).toEqual(['x', 'x']);
  });

  it('a retried step whose first attempt sent fewer orders records one intent and one outcome per order', async () => {
    // Prepare: the broker refuses A at the first attempt (recorded rejected, no outcome), then
    // accepts it; B goes through at once; the first attempt then fails after B
    const broker = scriptedBroker({ refuseFirst: 'a' });
    const sink = new MemoryAuditSink(new ManualClock(Date.UTC(2024, 2, 4, 15)));
    const input = { state: { ticks: 7 } };
    const attempt = async () => {
      const trail = {
        audit: stepScopedAuditSink(sink, step, input),
        environment: 'local' as const,
        actor: 'stagegate/paper-session',
        stream: 'promotion:p-1',
        subject: { promotion_id: 'p-1' },
      };
      for (const id of ['a', 'b']) {
        try {
          await submitOnce(trail, broker, order(id), { mayBeKnown: true });
        } catch (err) {
          if (!(err instanceof BrokerRejectedError)) throw err;
        }
      }
    };
    await attempt();
    // Act: the Retry of the step (same input)
    await attempt();
    // Assess: with the ordinal key, A's outcome got B's record back and B's was appended twice
    const byKind = (kind: string) =>
      sink
        .records()
        .filter((r) => r.kind === kind)
        .map((r) => r.subject.order_id)
        .sort();
    expect(byKind('order_intent')).toEqual(['a', 'b']);
    expect(byKind('order_submitted')).toEqual(['a', 'b']);
    expect(broker.sent).toEqual(['b', 'a']);
  });
});

/** A broker that refuses `refuseFirst` once, then accepts every order (each once). */
function scriptedBroker(o: { readonly refuseFirst: string }) {
  const known = new Map<string, BrokerOrder>();
  const sent: string[] = [];
  let refused = false;
  const broker = {
    name: 'simulated' as const,
    sent,
    async submitOrder(r: BrokerOrderRequest) {
      if (r.clientOrderId === o.refuseFirst && !refused) {
        refused = true;
        throw new BrokerRejectedError(r.clientOrderId, 'insufficient buying power', 403);
      }
      sent.push(r.clientOrderId);
      const order: BrokerOrder = {
        brokerOrderId: `bo-${r.clientOrderId}`,
        clientOrderId: r.clientOrderId,
        symbol: r.symbol,
        side: r.side,
        type: r.type,
        qty: r.qty,
        filledQty: 0,
        filledAvgPriceUsd: null,
        status: 'new',
        submittedAtIso: '2024-03-04T15:00:00Z',
        updatedAtIso: '2024-03-04T15:00:00Z',
        feesUsd: 0,
      };
      known.set(r.clientOrderId, order);
      return { order, duplicate: false };
    },
    getOrderByClientOrderId: async (id: string) => known.get(id) ?? null,
  };
  return broker as unknown as BrokerPort & { readonly sent: string[] };
}

const order = (id: string): BrokerOrderRequest => ({
  clientOrderId: id,
  symbol: 'IBM',
  side: 'buy',
  qty: 1,
  type: 'market',
  timeInForce: 'day',
});
