/**
 * The kill switch changed once per Idempotency-Key (setKillSwitch's `idempotencyKey`): a
 * redelivery records and cancels nothing new; another key is another change; a change made
 * after someone else moved the switch is recorded even under a key already committed; a
 * redelivered engage whose first delivery could not cancel an order still cancels what is open.
 */
import { describe, expect, it } from 'vitest';
import { setKillSwitch } from '../../../functions/core/use-cases/kill-switch.js';
import type { BrokerPort } from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { MemoryKillSwitch } from '../../support/doubles/memory-kill-switch.js';

function world(broker: BrokerPort = noOrders) {
  const clock = new ManualClock(Date.parse('2013-10-09T15:00:00Z'));
  const audit = new MemoryAuditSink(clock);
  const killSwitch = new MemoryKillSwitch();
  const deps = {
    killSwitch,
    audit,
    clock,
    environment: 'local' as const,
    broker,
  };
  const set = (engaged: boolean, by: string, key: string | null) =>
    setKillSwitch(deps, { engaged, reason: 'broker outage', by, idempotencyKey: key });
  const kinds = () => audit.records().map((r) => [r.kind, r.actor]);
  return { set, kinds, clock, state: () => killSwitch.state };
}

const noOrders = {
  name: 'simulated',
  listOpenOrders: async () => [],
  cancelOrder: async () => {
    throw new Error('no order to cancel');
  },
} as unknown as BrokerPort;

/** A broker with one resting order whose first two cancels time out (the broker was down). */
function flakyBroker() {
  const open = new Map([
    [
      'p1-entry-0001',
      {
        clientOrderId: 'p1-entry-0001',
        status: 'new',
        qty: 1,
        filledQty: 0,
        filledAvgPriceUsd: null,
      },
    ],
  ]);
  let cancelCalls = 0;
  const broker = {
    name: 'simulated',
    listOpenOrders: async () => [...open.values()],
    getOrderByClientOrderId: async (id: string) => open.get(id) ?? null,
    cancelOrder: async (id: string) => {
      cancelCalls += 1;
      if (cancelCalls <= 2) throw new Error('broker timed out');
      const order = { ...(open.get(id) as object), status: 'canceled' };
      open.delete(id);
      return order;
    },
  } as unknown as BrokerPort;
  return { broker, open, cancelCalls: () => cancelCalls };
}

describe('setKillSwitch with an idempotency key', () => {
  it('a redelivered engage whose first delivery could not cancel an order cancels it and records the halt once', async () => {
    // Prepare: the first delivery's cancel fails twice (retried once): recorded, not thrown
    const b = flakyBroker();
    const w = world(b.broker);
    const first = await w.set(true, 'web:olivia', 'key-0000000000000001');
    expect(first.cancelErrors).toEqual([
      { clientOrderId: 'p1-entry-0001', error: 'broker timed out' },
    ]);

    // Act
    const again = await w.set(true, 'web:olivia', 'key-0000000000000001');
    const third = await w.set(true, 'web:olivia', 'key-0000000000000001');

    // Assess
    expect(b.cancelCalls()).toBe(3);
    expect(b.open.size).toBe(0);
    expect(again.canceled).toEqual(['p1-entry-0001']);
    expect(third.canceled).toEqual([]);
    expect(w.state()?.engaged).toBe(true);
    expect(w.kinds()).toEqual([
      ['kill_switch_changed', 'web:olivia'],
      ['rollback', 'web:olivia'],
      ['order_status_changed', 'web:olivia'],
    ]);
  });

  it('a redelivered engage records once and answers the first change; control: another key records again', async () => {
    // Prepare
    const w = world();
    const first = await w.set(true, 'web:olivia', 'key-0000000000000001');
    w.clock.advance(1_000);

    // Act
    const again = await w.set(true, 'web:olivia', 'key-0000000000000001');
    const afterRetry = w.kinds().length;
    await w.set(true, 'web:olivia', 'key-0000000000000002');

    // Assess
    expect(again.state).toEqual(first.state);
    expect(afterRetry).toBe(2);
    expect(w.kinds()).toEqual([
      ['kill_switch_changed', 'web:olivia'],
      ['rollback', 'web:olivia'],
      ['kill_switch_changed', 'web:olivia'],
      ['rollback', 'web:olivia'],
    ]);
  });

  it('a retried engage after someone released the switch engages it again and records it', async () => {
    // Prepare
    const w = world();
    await w.set(true, 'web:olivia', 'key-0000000000000001');
    await w.set(false, 'web:oscar', null);

    // Act
    const again = await w.set(true, 'web:olivia', 'key-0000000000000001');

    // Assess
    expect(again.state.engaged).toBe(true);
    expect(w.state()?.engaged).toBe(true);
    expect(w.kinds()).toEqual([
      ['kill_switch_changed', 'web:olivia'],
      ['rollback', 'web:olivia'],
      ['kill_switch_changed', 'web:oscar'],
      ['kill_switch_changed', 'web:olivia'],
      ['rollback', 'web:olivia'],
    ]);
  });
});
