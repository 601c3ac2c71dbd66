/**
 * Reconciliation of our local view (positions from the position book, orders from the Order
 * entities) with what the broker reports. Pure: the caller fetches both sides and decides what
 * to do with the discrepancies (audit, alert, trip a breaker).
 */
import { ValidationError } from '../errors.js';

/** A position on either side: signed quantity, shares (> 0 long, < 0 short). */
export interface PositionRecord {
  readonly symbol: string;
  readonly qty: number;
}

/**
 * An order on either side, keyed by `client_order_id`. `status` is compared as a string so a
 * broker status we do not model (e.g. Alpaca's `done_for_day`) shows up as a mismatch instead
 * of being dropped.
 */
export interface OrderRecord {
  readonly clientOrderId: string;
  readonly status: string;
  /** Cumulative filled quantity, shares. */
  readonly filledQty: number;
}

/** Both sides of the comparison. Callers pass only the orders in scope (e.g. one promotion). */
export interface ReconcileInput {
  readonly localPositions: readonly PositionRecord[];
  readonly brokerPositions: readonly PositionRecord[];
  readonly localOrders: readonly OrderRecord[];
  readonly brokerOrders: readonly OrderRecord[];
}

/** Comparison settings (no hidden defaults: the caller's config supplies them). */
export interface ReconcileOptions {
  /**
   * Absolute quantity tolerance, shares, ≥ 0: quantities within it are equal, and a position
   * within it of zero counts as flat (so a flat position absent on the other side is fine).
   */
  readonly qtyTolerance: number;
}

/**
 * - `missing_at_broker`: we hold it locally (non-flat position, or order), the broker does not
 *   report it;
 * - `unknown_at_broker`: the broker reports it (non-flat position, or order) and we do not
 *   know it locally;
 * - `qty_mismatch`: both sides have it, quantities (position qty or order filled qty) differ
 *   by more than the tolerance;
 * - `status_mismatch`: both sides have the order, statuses differ.
 */
export type DiscrepancyKind =
  | 'missing_at_broker'
  | 'unknown_at_broker'
  | 'qty_mismatch'
  | 'status_mismatch';

/** One difference. `key` is the symbol (positions) or the client_order_id (orders). */
export interface Discrepancy {
  readonly kind: DiscrepancyKind;
  readonly entity: 'position' | 'order';
  readonly key: string;
  /** Local quantity (position qty or order filled qty), shares; null when absent locally. */
  readonly localQty: number | null;
  /** Broker quantity, shares; null when absent at the broker. */
  readonly brokerQty: number | null;
  /** Order statuses (orders only; null otherwise or when absent on that side). */
  readonly localStatus: string | null;
  readonly brokerStatus: string | null;
  /** Human-readable explanation for the audit trail. */
  readonly detail: string;
}

function netPositions(side: string, rows: readonly PositionRecord[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const [i, r] of rows.entries()) {
    if (r.symbol.length === 0)
      throw new ValidationError(`${side}[${i}].symbol`, 'must not be empty');
    if (!Number.isFinite(r.qty))
      throw new ValidationError(`${side}[${i}].qty`, `must be finite, got ${r.qty}`);
    out.set(r.symbol, (out.get(r.symbol) ?? 0) + r.qty);
  }
  return out;
}

function indexOrders(side: string, rows: readonly OrderRecord[]): Map<string, OrderRecord> {
  const out = new Map<string, OrderRecord>();
  for (const [i, r] of rows.entries()) {
    if (out.has(r.clientOrderId)) {
      throw new ValidationError(
        `${side}[${i}].clientOrderId`,
        `duplicate client_order_id ${r.clientOrderId}`,
      );
    }
    if (!Number.isFinite(r.filledQty)) {
      throw new ValidationError(`${side}[${i}].filledQty`, `must be finite, got ${r.filledQty}`);
    }
    out.set(r.clientOrderId, r);
  }
  return out;
}

const ENTITY_ORDER = { position: 0, order: 1 } as const;

/** The position discrepancies (net quantity per symbol, local vs broker, beyond `tol`). */
function positionDiscrepancies(input: ReconcileInput, tol: number): Discrepancy[] {
  const out: Discrepancy[] = [];
  const flat = (q: number): boolean => Math.abs(q) <= tol;
  const localPos = netPositions('localPositions', input.localPositions);
  const brokerPos = netPositions('brokerPositions', input.brokerPositions);
  for (const symbol of new Set([...localPos.keys(), ...brokerPos.keys()])) {
    const l = localPos.get(symbol);
    const b = brokerPos.get(symbol);
    const base = {
      entity: 'position',
      key: symbol,
      localStatus: null,
      brokerStatus: null,
    } as const;
    if (b === undefined) {
      if (l !== undefined && !flat(l)) {
        out.push({
          ...base,
          kind: 'missing_at_broker',
          localQty: l,
          brokerQty: null,
          detail: `local position ${l} ${symbol}, none at broker`,
        });
      }
    } else if (l === undefined) {
      if (!flat(b)) {
        out.push({
          ...base,
          kind: 'unknown_at_broker',
          localQty: null,
          brokerQty: b,
          detail: `broker position ${b} ${symbol}, none locally`,
        });
      }
    } else if (Math.abs(l - b) > tol) {
      out.push({
        ...base,
        kind: 'qty_mismatch',
        localQty: l,
        brokerQty: b,
        detail: `${symbol}: local ${l}, broker ${b} (tolerance ${tol})`,
      });
    }
  }
  return out;
}

/** The order discrepancies (by client_order_id: missing, unknown, status, filled quantity). */
function orderDiscrepancies(input: ReconcileInput, tol: number): Discrepancy[] {
  const out: Discrepancy[] = [];
  const localOrd = indexOrders('localOrders', input.localOrders);
  const brokerOrd = indexOrders('brokerOrders', input.brokerOrders);
  for (const id of new Set([...localOrd.keys(), ...brokerOrd.keys()])) {
    const l = localOrd.get(id);
    const b = brokerOrd.get(id);
    if (l === undefined && b === undefined) continue;
    const base = {
      entity: 'order',
      key: id,
      localQty: l?.filledQty ?? null,
      brokerQty: b?.filledQty ?? null,
      localStatus: l?.status ?? null,
      brokerStatus: b?.status ?? null,
    } as const;
    if (b === undefined) {
      out.push({
        ...base,
        kind: 'missing_at_broker',
        detail: `order ${id} (${l?.status}) not found at broker`,
      });
      continue;
    }
    if (l === undefined) {
      out.push({
        ...base,
        kind: 'unknown_at_broker',
        detail: `broker order ${id} (${b.status}) unknown locally`,
      });
      continue;
    }
    if (l.status !== b.status) {
      out.push({
        ...base,
        kind: 'status_mismatch',
        detail: `order ${id}: local ${l.status}, broker ${b.status}`,
      });
    }
    if (Math.abs(l.filledQty - b.filledQty) > tol) {
      out.push({
        ...base,
        kind: 'qty_mismatch',
        detail: `order ${id}: filled local ${l.filledQty}, broker ${b.filledQty} (tolerance ${tol})`,
      });
    }
  }
  return out;
}

/**
 * Compares local and broker positions and orders and lists every discrepancy, sorted by
 * entity (positions first), key, then kind. An empty list means the two sides agree.
 * Several rows for one symbol on a side are netted first.
 *
 * @throws ValidationError when `qtyTolerance` is negative or not finite, a quantity is not
 *   finite, a symbol is empty, or a side lists the same client_order_id twice.
 */
export function reconcile(input: ReconcileInput, options: ReconcileOptions): Discrepancy[] {
  const tol = options.qtyTolerance;
  if (!(Number.isFinite(tol) && tol >= 0)) {
    throw new ValidationError('qtyTolerance', `must be a finite number ≥ 0, got ${tol}`);
  }
  const out = [...positionDiscrepancies(input, tol), ...orderDiscrepancies(input, tol)];
  return out.sort(
    (x, y) =>
      ENTITY_ORDER[x.entity] - ENTITY_ORDER[y.entity] ||
      (x.key < y.key ? -1 : x.key > y.key ? 1 : 0) ||
      (x.kind < y.kind ? -1 : x.kind > y.kind ? 1 : 0),
  );
}
