/**
 * The kill switch fails closed when the broker refuses a cancel (functions/core/use-cases/
 * kill-switch.ts `cancelAll`): the switch is on, every other order is cancelled, the running
 * session's flatten is still sent, and the failed cancel (retried once) is in the halt record.
 */
import { describe, expect, it } from 'vitest';
import type { AuditDraft, AuditRecord } from '../../../functions/core/audit/record.js';
import { setKillSwitch } from '../../../functions/core/use-cases/kill-switch.js';
import type { BrokerOrder, BrokerPort } from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import type { SessionBookSnapshot } from '../../../functions/ports/session-books.js';
import { cancelBroker, restingOrder } from '../../support/doubles/cancel-broker.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { MemoryKillSwitch } from '../../support/doubles/memory-kill-switch.js';

const NOW = Date.parse('2013-10-09T15:00:00Z');

/** Three resting orders; DELETE of `refused` fails every time (HTTP 500), the order stays open. */
function broker(refused: string) {
  const open = ['sgp_p1_entry_1', 'sgp_p2_entry_1', 'sgp_p3_entry_1'].map((id) =>
    restingOrder(id, NOW),
  );
  return cancelBroker(NOW, open, (order) => {
    if (order.clientOrderId === refused) throw new Error('HTTP 500 on DELETE /v2/orders');
    return { ...order, status: 'canceled' };
  });
}

describe('engaging the kill switch when the broker refuses one cancel', () => {
  it('keeps the switch on, cancels the others, sends the flatten and records the failed cancel (retried once)', async () => {
    // Prepare: a running session long 10 IBM; the DELETE of sgp_p2_entry_1 fails
    const b = broker('sgp_p2_entry_1');
    const clock = new ManualClock(NOW);
    const audit = new MemoryAuditSink(clock);
    const killSwitch = new MemoryKillSwitch();
    const session = {
      promotionId: 'p9',
      date: '2013-10-09',
      symbol: 'IBM',
      market: 'equity-usa',
      qty: 10,
      avgPriceUsd: 180,
      openOrders: 0,
      openOrderNotionalUsd: 0,
      open: [],
      done: false,
    } as unknown as SessionBookSnapshot;
    const deps = {
      killSwitch,
      audit,
      clock,
      environment: 'local' as const,
      broker: b.port,
      flatten: {
        account: 'alpaca-paper:acct',
        sessionBooks: { save: async () => {}, list: async () => [session] },
      },
    };

    // Act
    const out = await setKillSwitch(deps, {
      engaged: true,
      reason: 'broker outage',
      by: 'web:olivia',
    });

    // Assess
    expect(killSwitch.state?.engaged).toBe(true);
    expect(out.canceled).toEqual(['sgp_p1_entry_1', 'sgp_p3_entry_1']);
    expect(b.orders.get('sgp_p1_entry_1')?.status).toBe('canceled');
    expect(b.orders.get('sgp_p3_entry_1')?.status).toBe('canceled');
    expect(b.cancelCalls.filter((id) => id === 'sgp_p2_entry_1')).toHaveLength(2);
    expect(b.sent.map((r) => [r.clientOrderId, r.side, r.qty])).toEqual([
      ['sgp_p9_kill-flatten_1', 'sell', 10],
    ]);
    expect(out.cancelErrors).toEqual([
      { clientOrderId: 'sgp_p2_entry_1', error: 'HTTP 500 on DELETE /v2/orders' },
    ]);
    const halt = audit.records().find((r) => r.kind === 'rollback');
    expect(JSON.parse(halt?.payload ?? '{}')).toMatchObject({
      canceled_orders: ['sgp_p1_entry_1', 'sgp_p3_entry_1'],
      cancel_errors: [
        { client_order_id: 'sgp_p2_entry_1', error: 'HTTP 500 on DELETE /v2/orders' },
      ],
      flattened: [{ promotion_id: 'p9', client_order_id: 'sgp_p9_kill-flatten_1', qty: 10 }],
    });
  });

  it("takes the broker's terminal answer when the refused cancel's order already filled", async () => {
    // Prepare: the DELETE fails because the order filled meanwhile (the broker shows it filled)
    const b = broker('sgp_p2_entry_1');
    const filled = {
      ...(b.orders.get('sgp_p2_entry_1') as BrokerOrder),
      status: 'filled' as const,
      filledQty: 1,
      filledAvgPriceUsd: 180,
    };
    const clock = new ManualClock(NOW);
    const deps = {
      killSwitch: { read: async () => null, set: async () => {} },
      audit: new MemoryAuditSink(clock),
      clock,
      environment: 'local' as const,
      broker: {
        ...b.port,
        getOrderByClientOrderId: async (id: string) => (id === 'sgp_p2_entry_1' ? filled : null),
      } as BrokerPort,
    };

    // Act
    const out = await setKillSwitch(deps, {
      engaged: true,
      reason: 'broker outage',
      by: 'web:olivia',
    });

    // Assess: no error; the broker's answer is recorded as the order's status, not as a cancel
    expect(out.cancelErrors).toEqual([]);
    expect(out.canceled).toEqual(['sgp_p1_entry_1', 'sgp_p3_entry_1']);
    expect(out.ended).toEqual([{ clientOrderId: 'sgp_p2_entry_1', status: 'filled' }]);
    const change = deps.audit.records().find((r) => r.subject?.order_id === 'sgp_p2_entry_1');
    expect(JSON.parse(change?.payload ?? '{}')).toMatchObject({ status: 'filled', filled_qty: 1 });
  });
});

/** An audit sink whose first `order_status_changed` append commits and then throws. */
class CommitThenThrowSink extends MemoryAuditSink {
  thrown = false;
  private once(drafts: readonly AuditDraft[]): void {
    if (this.thrown || !drafts.some((d) => d.kind === 'order_status_changed')) return;
    this.thrown = true;
    throw new Error('S3 timeout after the PUT committed');
  }
  private keyed = false;
  override async append(draft: AuditDraft): Promise<AuditRecord> {
    const record = await super.append(draft);
    if (!this.keyed) this.once([draft]);
    return record;
  }
  override async appendManyOnce(
    drafts: readonly AuditDraft[],
    key: string,
  ): Promise<{ records: AuditRecord[]; replayed: boolean }> {
    this.keyed = true;
    const out = await super.appendManyOnce(drafts, key).finally(() => {
      this.keyed = false;
    });
    this.once(drafts);
    return out;
  }
}

function plainDeps(audit: MemoryAuditSink, port: BrokerPort, clock: ManualClock) {
  return {
    killSwitch: new MemoryKillSwitch(),
    audit,
    clock,
    environment: 'local' as const,
    broker: port,
  };
}

function changesOf(audit: MemoryAuditSink, id: string) {
  return audit
    .records()
    .filter((r) => r.kind === 'order_status_changed' && r.subject?.order_id === id);
}

describe('engaging the kill switch when the audit append of a cancel commits and then throws', () => {
  it('records the cancel once, still cancels the others and records the halt, then throws the audit error', async () => {
    // Prepare: three resting orders, every DELETE succeeds; p1's record commits, then throws
    const b = broker('none');
    const clock = new ManualClock(NOW);
    const audit = new CommitThenThrowSink(clock);

    // Act
    const engage = setKillSwitch(plainDeps(audit, b.port, clock), {
      engaged: true,
      reason: 'audit outage',
      by: 'web:olivia',
    });

    // Assess: the audit error propagates once the rest is done; p1 cancelled and recorded once
    await expect(engage).rejects.toThrow('S3 timeout after the PUT committed');
    expect(b.cancelCalls.filter((id) => id === 'sgp_p1_entry_1')).toHaveLength(1);
    expect(changesOf(audit, 'sgp_p1_entry_1')).toHaveLength(1);
    expect([...b.orders.values()].map((o) => o.status)).toEqual([
      'canceled',
      'canceled',
      'canceled',
    ]);
    expect(audit.records().filter((r) => r.kind === 'rollback')).toHaveLength(1);
  });

  it('a redelivery under the same idempotency key that still lists the order records it once', async () => {
    // Prepare: the broker's listing is stale (still lists every order as open after its cancel)
    const b = broker('none');
    const stale = [...b.orders.values()];
    const port = { ...b.port, listOpenOrders: async () => stale } as BrokerPort;
    const clock = new ManualClock(NOW);
    const audit = new CommitThenThrowSink(clock);
    const deps = plainDeps(audit, port, clock);
    const input = { engaged: true, reason: 'audit outage', by: 'web:olivia', idempotencyKey: 'k1' };

    // Act: the first delivery fails on the audit, the redelivery completes
    await expect(setKillSwitch(deps, input)).rejects.toThrow('S3 timeout');
    const out = await setKillSwitch(deps, input);

    // Assess: each order's cancel recorded once; nothing left in cancel errors
    expect(out.cancelErrors).toEqual([]);
    for (const id of ['sgp_p1_entry_1', 'sgp_p2_entry_1', 'sgp_p3_entry_1'])
      expect(changesOf(audit, id)).toHaveLength(1);
    expect(audit.records().filter((r) => r.kind === 'rollback')).toHaveLength(1);
  });
});
