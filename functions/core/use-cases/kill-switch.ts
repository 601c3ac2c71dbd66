/**
 * Engaging and releasing the kill switch. Engaging it records the change, then cancels every
 * open order at the paper broker and records the halt; releasing it records the change.
 * Gates read the switch and fail closed when it is on or unreadable.
 */

import type { AuditSink } from '../../ports/audit.js';
import type { BrokerPort } from '../../ports/broker.js';
import type { Clock } from '../../ports/clock.js';
import type { KillSwitchPort, KillSwitchState } from '../../ports/kill-switch.js';
import type { AuditDraft } from '../audit/record.js';

export interface KillSwitchDeps {
  readonly killSwitch: KillSwitchPort;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly environment: AuditDraft['environment'];
  /** The broker whose open orders are canceled on engage. */
  readonly broker: BrokerPort;
}

/**
 * Sets the switch to `engaged` on behalf of `by` and records `kill_switch_changed`; when
 * engaging, cancels the broker's open orders and records each cancellation and the halt.
 *
 * @returns the new state and the client_order_ids whose cancellation was requested.
 */
export async function setKillSwitch(
  deps: KillSwitchDeps,
  input: { readonly engaged: boolean; readonly reason: string; readonly by: string },
): Promise<{ state: KillSwitchState; canceled: readonly string[] }> {
  const state: KillSwitchState = {
    engaged: input.engaged,
    reason: input.reason,
    changedBy: input.by,
    changedAtIso: new Date(deps.clock.now()).toISOString(),
  };
  await deps.killSwitch.set(state);
  const base = { actor: input.by, stream: 'kill-switch:global', environment: deps.environment };
  await deps.audit.append({
    ...base,
    kind: 'kill_switch_changed',
    payload: { engaged: input.engaged, reason: input.reason, scope: 'global' },
  });
  const canceled: string[] = [];
  if (input.engaged) {
    for (const order of await deps.broker.listOpenOrders()) {
      const after = await deps.broker.cancelOrder(order.clientOrderId);
      canceled.push(order.clientOrderId);
      await deps.audit.append({
        ...base,
        kind: 'order_status_changed',
        subject: { order_id: order.clientOrderId },
        payload: {
          client_order_id: order.clientOrderId,
          status: after.status,
          previous_status: order.status,
          filled_qty: after.filledQty,
          filled_avg_price: after.filledAvgPriceUsd,
          reason: 'kill switch engaged',
        },
      });
    }
    await deps.audit.append({
      ...base,
      kind: 'rollback',
      payload: {
        action: 'halt',
        reason: input.reason,
        canceled_orders: canceled,
        broker: deps.broker.name,
      },
    });
  }
  return { state, canceled };
}
