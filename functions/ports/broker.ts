import type { RegulatoryFees } from '../core/cohort/fill-model.js';
import type { OrderSide, OrderStatus, OrderType, TimeInForce } from '../core/orders/order.js';

/**
 * The paper broker the promotion pipeline sends orders to. Two adapters implement it: the
 * built-in simulated paper broker (fills against real quote bars) and Alpaca paper (HTTP).
 *
 * Idempotency contract: `client_order_id` identifies an order forever. Submitting an id the
 * broker already knows never creates a second order: the adapter returns the existing order
 * with `duplicate: true` (Alpaca answers 422 for a duplicate id; the adapter then looks the
 * order up by client_order_id). Adapters look an order up by client_order_id before any
 * re-submit after an ambiguous failure (timeout, 5xx).
 *
 * Quantities in shares (fractional allowed where the broker allows it), prices in USD per
 * share, money in USD, times UTC ISO-8601.
 *
 * Errors (functions/core/errors.ts): `BrokerRejectedError` (the broker refused the order:
 * insufficient buying power (403), invalid order (422 other than duplicate), unknown symbol;
 * never retried), `BrokerUnavailableError` (a `TransientError`: timeouts, 5xx, 429 after the
 * adapter's bounded retries), `BrokerAuthError` (401: bad keys; never retried).
 */
export interface BrokerPort {
  /** `simulated` or `alpaca-paper`. Live trading is not a mode of this port. */
  readonly name: 'simulated' | 'alpaca-paper';
  submitOrder(request: BrokerOrderRequest): Promise<{ order: BrokerOrder; duplicate: boolean }>;
  /** The order with this client_order_id, or null if the broker never saw it. */
  getOrderByClientOrderId(clientOrderId: string): Promise<BrokerOrder | null>;
  /** Requests cancellation; the order's status moves to pending_cancel/canceled. */
  cancelOrder(clientOrderId: string): Promise<BrokerOrder>;
  /** Orders not yet in a terminal status. */
  listOpenOrders(): Promise<readonly BrokerOrder[]>;
  listPositions(): Promise<readonly BrokerPosition[]>;
  getAccount(): Promise<BrokerAccount>;
}

export interface BrokerOrderRequest {
  /** <= 48 chars, unique per account forever (see functions/core/orders/client-order-id.ts). */
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  /** Shares, > 0. */
  readonly qty: number;
  readonly type: OrderType;
  /** Required for `limit` orders, USD per share. */
  readonly limitPriceUsd?: number;
  readonly timeInForce: TimeInForce;
}

export interface BrokerOrder {
  readonly brokerOrderId: string;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  readonly type: OrderType;
  readonly qty: number;
  readonly filledQty: number;
  /** Volume-weighted average fill price, USD; null before the first fill. */
  readonly filledAvgPriceUsd: number | null;
  readonly status: OrderStatus;
  readonly submittedAtIso: string;
  readonly updatedAtIso: string;
  /**
   * Time in force the order was sent with (Alpaca `time_in_force`): `gtc` orders live past
   * their day (crypto), `day` orders expire at the close. Absent where the broker does not say.
   */
  readonly timeInForce?: TimeInForce;
  /** Fees charged so far, USD (0 where the broker charges none). */
  readonly feesUsd: number;
  /**
   * The regulatory part of `feesUsd` by fee type (SEC fee, FINRA TAF, CAT fee), USD, as
   * accrued per fill, unrounded. The simulated brokers report it; absent where the broker does
   * not (Alpaca charges these fees per account and day, outside the order: account activities
   * of type FEE), or when the order accrued none.
   */
  readonly regulatoryFeesUsd?: RegulatoryFees;
}

export interface BrokerPosition {
  readonly symbol: string;
  /** Signed shares: negative is short. */
  readonly qty: number;
  readonly avgEntryPriceUsd: number;
  /**
   * The broker's current price of the symbol, USD per share (Alpaca `current_price`; the
   * simulated broker's mark: the last quote mid of a minute that ended by now). Absent when
   * the broker does not report one. The micro-live rollback check values a slice with it.
   */
  readonly marketPriceUsd?: number;
}

export interface BrokerAccount {
  readonly cashUsd: number;
  readonly buyingPowerUsd: number;
  readonly equityUsd: number;
  /** Market value of every position, long plus |short|, USD (Alpaca `long_market_value` + |`short_market_value`|). */
  readonly grossExposureUsd?: number;
  /**
   * Day trades in the last five business days as the broker counts them (Alpaca
   * `daytrade_count`); absent when the broker does not count them (the simulated broker).
   */
  readonly dayTradeCount?: number;
}
