/**
 * A broker double for the kill switch's cancels: open orders held in a map, each DELETE
 * answered by `answer` (the order as it now is, or a throw), submits accepted as sent.
 */
import type {
  BrokerOrder,
  BrokerOrderRequest,
  BrokerPort,
} from '../../../functions/ports/broker.js';

/** A broker order resting unfilled (`new`): an IBM limit buy of 1 share, sent a minute before `nowMs`. */
export function restingOrder(
  clientOrderId: string,
  nowMs: number,
  over: Partial<BrokerOrder> = {},
): BrokerOrder {
  return {
    brokerOrderId: `b-${clientOrderId}`,
    clientOrderId,
    symbol: 'IBM',
    side: 'buy',
    type: 'limit',
    qty: 1,
    filledQty: 0,
    filledAvgPriceUsd: null,
    status: 'new',
    submittedAtIso: new Date(nowMs - 60_000).toISOString(),
    updatedAtIso: new Date(nowMs - 60_000).toISOString(),
    feesUsd: 0,
    ...over,
  } as BrokerOrder;
}

/**
 * `open` resting at a broker named `alpaca-paper`; `cancelOrder` stores and returns what
 * `answer` makes of the order (a throw is the DELETE failing, the order left as it was).
 * @returns the port, the orders by client_order_id, every cancel call and every submit.
 */
export function cancelBroker(
  nowMs: number,
  open: readonly BrokerOrder[],
  answer: (order: BrokerOrder) => BrokerOrder,
) {
  const orders = new Map(open.map((o) => [o.clientOrderId, o]));
  const cancelCalls: string[] = [];
  const sent: BrokerOrderRequest[] = [];
  const port = {
    name: 'alpaca-paper',
    listOpenOrders: async () => [...orders.values()].filter((o) => o.status === 'new'),
    getOrderByClientOrderId: async (id: string) => orders.get(id) ?? null,
    cancelOrder: async (id: string) => {
      cancelCalls.push(id);
      const now = answer(orders.get(id) as BrokerOrder);
      orders.set(id, now);
      return now;
    },
    submitOrder: async (request: BrokerOrderRequest) => {
      sent.push(request);
      const order = restingOrder(request.clientOrderId, nowMs, {
        side: request.side,
        qty: request.qty,
        status: 'accepted',
      });
      orders.set(request.clientOrderId, order);
      return { order, duplicate: false };
    },
  } as unknown as BrokerPort;
  return { port, orders, cancelCalls, sent };
}
