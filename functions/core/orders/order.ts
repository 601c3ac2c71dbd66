/**
 * The Order entity: one broker order, its lifecycle as a guarded state machine, and its fill
 * accounting.
 *
 * Statuses are Alpaca's order statuses (Alpaca docs, "Orders at Alpaca" → "Order Lifecycle",
 * https://docs.alpaca.markets/docs/orders-at-alpaca): the common `new`, `partially_filled`,
 * `filled`, `canceled`, `expired`, `replaced`, `pending_cancel`, `pending_replace`, and the
 * rarer `accepted` (received by Alpaca, not yet routed), `pending_new` (routed, not yet
 * accepted for execution) and `rejected`. Locally, an order starts in `pending_new`: sent (or
 * about to be sent) and not yet acknowledged, as FIX's PendingNew.
 *
 * Terminal statuses (`filled`, `canceled`, `expired`, `rejected`, `replaced`) absorb: no event
 * leaves them. A replace creates a NEW order (new client_order_id); this one ends `replaced`.
 *
 * Transitions are driven by {@link OrderEvent}s (broker trade updates or polled statuses, and
 * our own cancel/replace requests) through {@link Order.apply}, which returns the new state or
 * throws a named error and leaves the order unchanged. Time comes in on each event (`atMs`),
 * never from the system clock.
 */
import { IllegalOrderTransitionError, OrderOverfillError, ValidationError } from '../errors.js';

/** Every order status, Alpaca spelling. */
export const ORDER_STATUSES = [
  'pending_new',
  'accepted',
  'new',
  'partially_filled',
  'filled',
  'canceled',
  'expired',
  'rejected',
  'replaced',
  'pending_cancel',
  'pending_replace',
] as const;

/** An order's lifecycle status (Alpaca spelling). */
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Statuses after which no further updates occur for the order. */
export const TERMINAL_ORDER_STATUSES: ReadonlySet<OrderStatus> = new Set<OrderStatus>([
  'filled',
  'canceled',
  'expired',
  'rejected',
  'replaced',
]);

/** True for `filled`, `canceled`, `expired`, `rejected`, `replaced`. */
export const isTerminalOrderStatus = (status: OrderStatus): boolean =>
  TERMINAL_ORDER_STATUSES.has(status);

export type OrderSide = 'buy' | 'sell';
export type OrderType = 'market' | 'limit';
/** Alpaca time-in-force values. */
export type TimeInForce = 'day' | 'gtc' | 'opg' | 'cls' | 'ioc' | 'fok';

/**
 * An event that may move an order. `atMs` is when it happened, epoch ms UTC (broker timestamp
 * or the injected clock). `fill.qty` is the quantity of THIS fill (shares, > 0), not the
 * cumulative filled quantity; `fill.priceUsd` its price (USD per share, > 0).
 * `cancel_rejected` / `replace_rejected` are Alpaca's `order_cancel_rejected` /
 * `order_replace_rejected` trade updates: the order returns to where it was.
 */
export type OrderEvent =
  | { readonly type: 'pending_new'; readonly atMs: number; readonly brokerOrderId?: string }
  | { readonly type: 'accepted'; readonly atMs: number; readonly brokerOrderId?: string }
  | { readonly type: 'new'; readonly atMs: number; readonly brokerOrderId?: string }
  | {
      readonly type: 'fill';
      readonly atMs: number;
      readonly qty: number;
      readonly priceUsd: number;
    }
  | { readonly type: 'pending_cancel'; readonly atMs: number }
  | { readonly type: 'cancel_rejected'; readonly atMs: number }
  | { readonly type: 'canceled'; readonly atMs: number }
  | { readonly type: 'pending_replace'; readonly atMs: number }
  | { readonly type: 'replace_rejected'; readonly atMs: number }
  | { readonly type: 'replaced'; readonly atMs: number; readonly replacedByClientOrderId?: string }
  | { readonly type: 'expired'; readonly atMs: number }
  | { readonly type: 'rejected'; readonly atMs: number; readonly reason?: string };

export type OrderEventType = OrderEvent['type'];

/** Every event type. */
export const ORDER_EVENT_TYPES: readonly OrderEventType[] = [
  'pending_new',
  'accepted',
  'new',
  'fill',
  'pending_cancel',
  'cancel_rejected',
  'canceled',
  'pending_replace',
  'replace_rejected',
  'replaced',
  'expired',
  'rejected',
];

const PRE_ACK: readonly OrderStatus[] = ['pending_new', 'accepted'];
const WORKING: readonly OrderStatus[] = ['new', 'partially_filled'];
const PENDING: readonly OrderStatus[] = ['pending_cancel', 'pending_replace'];

/**
 * The transition table: for each status, the events it accepts. Anything else throws
 * {@link IllegalOrderTransitionError}. Notes:
 * - fills are accepted before the `new` acknowledgement (a fast market order can be seen
 *   filled by a poll first) and while a cancel/replace is pending (the fill raced it);
 * - repeating the current status (`new` in `new`, ...) is an idempotent no-op, so a poller may
 *   re-apply what it sees;
 * - a cancel can be requested before acknowledgement; a replace only once working.
 */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderEventType[]>> = {
  pending_new: ['pending_new', 'accepted', 'new', 'fill', 'pending_cancel', 'canceled', 'rejected'],
  accepted: [
    'pending_new',
    'accepted',
    'new',
    'fill',
    'pending_cancel',
    'canceled',
    'pending_replace',
    'replaced',
    'expired',
    'rejected',
  ],
  new: [
    'new',
    'fill',
    'pending_cancel',
    'canceled',
    'pending_replace',
    'replaced',
    'expired',
    'rejected',
  ],
  partially_filled: [
    'fill',
    'pending_cancel',
    'canceled',
    'pending_replace',
    'replaced',
    'expired',
  ],
  pending_cancel: ['pending_cancel', 'fill', 'cancel_rejected', 'canceled', 'expired'],
  pending_replace: [
    'pending_replace',
    'fill',
    'replace_rejected',
    'replaced',
    'canceled',
    'expired',
  ],
  filled: [],
  canceled: [],
  expired: [],
  rejected: [],
  replaced: [],
};

/** What a caller specifies to create an order. */
export interface NewOrderSpec {
  /** Deterministic id from `clientOrderId()`: ≤ 48 chars of [A-Za-z0-9_-]. */
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: OrderSide;
  /** Ordered quantity, shares (fractional allowed), > 0. */
  readonly qty: number;
  readonly type: OrderType;
  /** Limit price, USD per share; required for `limit`, must be null for `market`. */
  readonly limitPriceUsd: number | null;
  readonly timeInForce: TimeInForce;
}

/** The full, serialisable state of an order (persist it; rebuild with {@link Order.rehydrate}). */
export interface OrderSnapshot extends NewOrderSpec {
  readonly status: OrderStatus;
  /** Cumulative filled quantity, shares, 0 ≤ filledQty ≤ qty. */
  readonly filledQty: number;
  /** Volume-weighted average fill price, USD per share; null before the first fill. */
  readonly avgFillPriceUsd: number | null;
  /** Broker's own order id once known. */
  readonly brokerOrderId: string | null;
  /** Status to return to when a pending cancel/replace is rejected; null otherwise. */
  readonly statusBeforePending: OrderStatus | null;
  readonly replacedByClientOrderId: string | null;
  readonly rejectReason: string | null;
  /** Epoch ms UTC. */
  readonly createdAtMs: number;
  /** Epoch ms UTC of the latest applied event (never moves backwards). */
  readonly updatedAtMs: number;
}

/** Relative tolerance for share-quantity comparisons (fractional shares in float). */
const QTY_EPSILON = 1e-9;

const CLIENT_ORDER_ID_RE = /^[A-Za-z0-9_-]{1,48}$/;

function validateSpec(spec: NewOrderSpec): void {
  if (!CLIENT_ORDER_ID_RE.test(spec.clientOrderId)) {
    throw new ValidationError(
      'clientOrderId',
      `must be 1-48 chars of [A-Za-z0-9_-], got "${spec.clientOrderId}"`,
    );
  }
  if (spec.symbol.length === 0) throw new ValidationError('symbol', 'must not be empty');
  if (spec.side !== 'buy' && spec.side !== 'sell') {
    throw new ValidationError('side', `must be buy or sell, got ${String(spec.side)}`);
  }
  if (!(Number.isFinite(spec.qty) && spec.qty > 0)) {
    throw new ValidationError('qty', `must be a positive number of shares, got ${spec.qty}`);
  }
  if (spec.type === 'limit') {
    if (
      !(
        spec.limitPriceUsd !== null &&
        Number.isFinite(spec.limitPriceUsd) &&
        spec.limitPriceUsd > 0
      )
    ) {
      throw new ValidationError('limitPriceUsd', 'a limit order needs a positive limit price');
    }
  } else if (spec.type === 'market') {
    if (spec.limitPriceUsd !== null) {
      throw new ValidationError('limitPriceUsd', 'a market order has no limit price');
    }
  } else {
    throw new ValidationError('type', `must be market or limit, got ${String(spec.type)}`);
  }
}

function validateTime(field: string, ms: number): void {
  if (!Number.isFinite(ms)) throw new ValidationError(field, `must be epoch ms, got ${ms}`);
}

/**
 * A broker order as an entity. Status is private; it changes only through {@link apply}.
 *
 * @example
 * const order = Order.create(spec, clock.now());
 * order.apply({ type: 'new', atMs: t1, brokerOrderId: 'b-1' });
 * order.apply({ type: 'fill', atMs: t2, qty: 10, priceUsd: 101.5 }); // → filled
 */
export class Order {
  private constructor(private state: OrderSnapshot) {}

  /**
   * A new order in `pending_new`, nothing filled.
   *
   * @param createdAtMs epoch ms UTC, from the injected clock.
   * @throws ValidationError on an invalid spec (id format, qty ≤ 0, limit price rules).
   */
  static create(spec: NewOrderSpec, createdAtMs: number): Order {
    validateSpec(spec);
    validateTime('createdAtMs', createdAtMs);
    return new Order({
      clientOrderId: spec.clientOrderId,
      symbol: spec.symbol,
      side: spec.side,
      qty: spec.qty,
      type: spec.type,
      limitPriceUsd: spec.limitPriceUsd,
      timeInForce: spec.timeInForce,
      status: 'pending_new',
      filledQty: 0,
      avgFillPriceUsd: null,
      brokerOrderId: null,
      statusBeforePending: null,
      replacedByClientOrderId: null,
      rejectReason: null,
      createdAtMs,
      updatedAtMs: createdAtMs,
    });
  }

  /**
   * Rebuilds an order from a persisted snapshot, checking its invariants.
   *
   * @throws ValidationError when the snapshot is inconsistent (unknown status, filled qty out
   *   of range, `filled` without the full quantity, missing average price, ...).
   */
  static rehydrate(snapshot: OrderSnapshot): Order {
    validateSpec(snapshot);
    if (!(ORDER_STATUSES as readonly string[]).includes(snapshot.status)) {
      throw new ValidationError('status', `unknown order status ${String(snapshot.status)}`);
    }
    const { filledQty, qty, avgFillPriceUsd, status } = snapshot;
    if (!(Number.isFinite(filledQty) && filledQty >= 0 && filledQty <= qty)) {
      throw new ValidationError('filledQty', `must be within [0, ${qty}], got ${filledQty}`);
    }
    if (filledQty > 0 !== (avgFillPriceUsd !== null)) {
      throw new ValidationError('avgFillPriceUsd', 'must be set exactly when something is filled');
    }
    if ((status === 'filled') !== (filledQty === qty)) {
      throw new ValidationError(
        'status',
        `status ${status} inconsistent with filled ${filledQty} of ${qty}`,
      );
    }
    if (status === 'partially_filled' && filledQty === 0) {
      throw new ValidationError('status', 'partially_filled with nothing filled');
    }
    if ((PRE_ACK.includes(status) || status === 'new') && filledQty > 0) {
      throw new ValidationError('status', `${status} with ${filledQty} already filled`);
    }
    if (PENDING.includes(status) !== (snapshot.statusBeforePending !== null)) {
      throw new ValidationError(
        'statusBeforePending',
        `must be set exactly in ${PENDING.join('/')}`,
      );
    }
    validateTime('createdAtMs', snapshot.createdAtMs);
    validateTime('updatedAtMs', snapshot.updatedAtMs);
    return new Order({ ...snapshot });
  }

  get clientOrderId(): string {
    return this.state.clientOrderId;
  }

  get status(): OrderStatus {
    return this.state.status;
  }

  /** Cumulative filled quantity, shares. */
  get filledQty(): number {
    return this.state.filledQty;
  }

  /** Ordered quantity not yet filled, shares. */
  get remainingQty(): number {
    return this.state.qty - this.state.filledQty;
  }

  /** Volume-weighted average fill price, USD per share; null before the first fill. */
  get avgFillPriceUsd(): number | null {
    return this.state.avgFillPriceUsd;
  }

  /** True once the order is `filled`, `canceled`, `expired`, `rejected` or `replaced`. */
  isTerminal(): boolean {
    return isTerminalOrderStatus(this.state.status);
  }

  /** Guard: whether an event of this type is allowed in the current status. */
  canApply(type: OrderEventType): boolean {
    return ORDER_TRANSITIONS[this.state.status].includes(type);
  }

  /** A copy of the current state, safe to persist. */
  snapshot(): OrderSnapshot {
    return { ...this.state };
  }

  /**
   * Applies one event and returns the new state. On any error the order is unchanged.
   *
   * Fill accounting: `filledQty += fill.qty`; the average price is the volume-weighted mean
   * of all fills; the status becomes `filled` when the full quantity is reached (a relative
   * tolerance of 1e-9 absorbs float noise), else `partially_filled` (or stays
   * `pending_cancel` / `pending_replace`, which still await the broker's answer).
   *
   * @throws IllegalOrderTransitionError when the event is not allowed in the current status
   *   (see {@link ORDER_TRANSITIONS}; terminal statuses allow none).
   * @throws OrderOverfillError when a fill would exceed the ordered quantity.
   * @throws ValidationError on a non-finite `atMs`, or a fill with qty/price ≤ 0 or non-finite.
   */
  apply(event: OrderEvent): OrderSnapshot {
    const s = this.state;
    if (!this.canApply(event.type)) {
      throw new IllegalOrderTransitionError(s.clientOrderId, s.status, event.type);
    }
    validateTime('atMs', event.atMs);
    const updatedAtMs = Math.max(s.updatedAtMs, event.atMs);
    const workingStatus = (): OrderStatus =>
      s.filledQty > 0 ? 'partially_filled' : (s.statusBeforePending ?? 'new');
    let next: OrderSnapshot;
    switch (event.type) {
      case 'pending_new':
      case 'accepted':
      case 'new':
        next = {
          ...s,
          status: event.type,
          brokerOrderId: event.brokerOrderId ?? s.brokerOrderId,
          updatedAtMs,
        };
        break;
      case 'fill':
        next = { ...this.fill(event.qty, event.priceUsd), updatedAtMs };
        break;
      case 'pending_cancel':
      case 'pending_replace':
        next = {
          ...s,
          status: event.type,
          statusBeforePending: s.status === event.type ? s.statusBeforePending : s.status,
          updatedAtMs,
        };
        break;
      case 'cancel_rejected':
      case 'replace_rejected':
        next = { ...s, status: workingStatus(), statusBeforePending: null, updatedAtMs };
        break;
      case 'replaced':
        next = {
          ...s,
          status: 'replaced',
          statusBeforePending: null,
          replacedByClientOrderId: event.replacedByClientOrderId ?? s.replacedByClientOrderId,
          updatedAtMs,
        };
        break;
      case 'rejected':
        next = {
          ...s,
          status: 'rejected',
          statusBeforePending: null,
          rejectReason: event.reason ?? null,
          updatedAtMs,
        };
        break;
      case 'canceled':
      case 'expired':
        next = { ...s, status: event.type, statusBeforePending: null, updatedAtMs };
        break;
    }
    this.state = next;
    return { ...next };
  }

  /** State after one fill (not yet committed). */
  private fill(qty: number, priceUsd: number): OrderSnapshot {
    const s = this.state;
    if (!(Number.isFinite(qty) && qty > 0)) {
      throw new ValidationError('fill.qty', `must be a positive number of shares, got ${qty}`);
    }
    if (!(Number.isFinite(priceUsd) && priceUsd > 0)) {
      throw new ValidationError('fill.priceUsd', `must be a positive price, got ${priceUsd}`);
    }
    const cumulative = s.filledQty + qty;
    if (cumulative > s.qty * (1 + QTY_EPSILON)) {
      throw new OrderOverfillError(s.clientOrderId, s.qty, s.filledQty, qty);
    }
    const complete = cumulative >= s.qty * (1 - QTY_EPSILON);
    const filledQty = complete ? s.qty : cumulative;
    const avgFillPriceUsd = ((s.avgFillPriceUsd ?? 0) * s.filledQty + priceUsd * qty) / cumulative;
    let status: OrderStatus;
    if (complete) status = 'filled';
    else if (PENDING.includes(s.status)) status = s.status;
    else status = 'partially_filled';
    return {
      ...s,
      status,
      filledQty,
      avgFillPriceUsd,
      statusBeforePending: complete
        ? null
        : PENDING.includes(s.status)
          ? s.statusBeforePending
          : null,
    };
  }
}

/** Statuses in which the order may still trade (pre-acknowledgement, working or pending). */
export const OPEN_ORDER_STATUSES: readonly OrderStatus[] = [...PRE_ACK, ...WORKING, ...PENDING];
