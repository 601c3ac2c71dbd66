import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  IllegalOrderTransitionError,
  OrderOverfillError,
  ValidationError,
} from '../../../functions/core/errors.js';
import {
  isTerminalOrderStatus,
  type NewOrderSpec,
  ORDER_EVENT_TYPES,
  ORDER_STATUSES,
  ORDER_TRANSITIONS,
  Order,
  type OrderEvent,
  type OrderSnapshot,
} from '../../../functions/core/orders/order.js';

const T0 = Date.UTC(2024, 2, 11, 14, 0);

const spec = (qty = 10): NewOrderSpec => ({
  clientOrderId: 'sgp_01HV0000000000000000000000_entry_1',
  symbol: 'SPY',
  side: 'buy',
  qty,
  type: 'market',
  limitPriceUsd: null,
  timeInForce: 'day',
});

describe('Order lifecycle', () => {
  it('starts pending_new and walks new -> partially_filled -> filled with a VWAP', () => {
    // Prepare
    const order = Order.create(spec(10), T0);
    // Act
    order.apply({ type: 'new', atMs: T0 + 1, brokerOrderId: 'b-1' });
    const partial = order.apply({ type: 'fill', atMs: T0 + 2, qty: 4, priceUsd: 100 });
    const done = order.apply({ type: 'fill', atMs: T0 + 3, qty: 6, priceUsd: 105 });
    // Assess
    expect(partial.status).toBe('partially_filled');
    expect(done.status).toBe('filled');
    expect(done.filledQty).toBe(10);
    expect(done.avgFillPriceUsd).toBeCloseTo((4 * 100 + 6 * 105) / 10, 12);
    expect(done.brokerOrderId).toBe('b-1');
    expect(order.isTerminal()).toBe(true);
  });

  it('throws IllegalOrderTransitionError from a terminal status and stays put', () => {
    // Prepare
    const order = Order.create(spec(), T0);
    order.apply({ type: 'rejected', atMs: T0 + 1, reason: 'insufficient buying power' });
    const before = order.snapshot();
    // Act / Assess
    expect(() => order.apply({ type: 'new', atMs: T0 + 2 })).toThrow(IllegalOrderTransitionError);
    expect(order.snapshot()).toEqual(before);
    expect(before.rejectReason).toBe('insufficient buying power');
  });

  it('refuses an overfill with OrderOverfillError and keeps the fills so far', () => {
    // Prepare
    const order = Order.create(spec(10), T0);
    order.apply({ type: 'fill', atMs: T0 + 1, qty: 7, priceUsd: 100 });
    // Act / Assess
    expect(() => order.apply({ type: 'fill', atMs: T0 + 2, qty: 4, priceUsd: 100 })).toThrow(
      OrderOverfillError,
    );
    expect(order.filledQty).toBe(7);
    expect(order.status).toBe('partially_filled');
  });

  it('returns to the working status when a cancel is rejected, keeping racing fills', () => {
    // Prepare
    const order = Order.create(spec(10), T0);
    order.apply({ type: 'new', atMs: T0 + 1 });
    order.apply({ type: 'pending_cancel', atMs: T0 + 2 });
    // Act
    const racing = order.apply({ type: 'fill', atMs: T0 + 3, qty: 3, priceUsd: 99 });
    const back = order.apply({ type: 'cancel_rejected', atMs: T0 + 4 });
    // Assess
    expect(racing.status).toBe('pending_cancel');
    expect(back.status).toBe('partially_filled');
    expect(back.statusBeforePending).toBeNull();
  });

  it('ends replaced, pointing at the replacing order', () => {
    // Prepare
    const order = Order.create(spec(), T0);
    order.apply({ type: 'new', atMs: T0 + 1 });
    order.apply({ type: 'pending_replace', atMs: T0 + 2 });
    // Act
    const s = order.apply({ type: 'replaced', atMs: T0 + 3, replacedByClientOrderId: 'x_2' });
    // Assess
    expect(s.status).toBe('replaced');
    expect(s.replacedByClientOrderId).toBe('x_2');
  });

  it('validates the spec, the fill payload and the event time', () => {
    expect(() => Order.create({ ...spec(), qty: 0 }, T0)).toThrow(ValidationError);
    expect(() => Order.create({ ...spec(), type: 'limit' }, T0)).toThrow(ValidationError);
    expect(() => Order.create({ ...spec(), clientOrderId: 'has space' }, T0)).toThrow(
      ValidationError,
    );
    const order = Order.create(spec(), T0);
    expect(() => order.apply({ type: 'fill', atMs: T0, qty: -1, priceUsd: 1 })).toThrow(
      ValidationError,
    );
    expect(() => order.apply({ type: 'new', atMs: Number.NaN })).toThrow(ValidationError);
    expect(order.status).toBe('pending_new');
  });

  it('round-trips through snapshot / rehydrate and rejects inconsistent snapshots', () => {
    // Prepare
    const order = Order.create(spec(10), T0);
    order.apply({ type: 'fill', atMs: T0 + 1, qty: 5, priceUsd: 100 });
    const snap = order.snapshot();
    // Act
    const again = Order.rehydrate(snap);
    // Assess
    expect(again.snapshot()).toEqual(snap);
    expect(() => Order.rehydrate({ ...snap, status: 'filled' })).toThrow(ValidationError);
    expect(() => Order.rehydrate({ ...snap, filledQty: 11 })).toThrow(ValidationError);
  });
});

// --- property tests -------------------------------------------------------------------------

const eventArb: fc.Arbitrary<OrderEvent> = fc.oneof(
  fc
    .record({
      type: fc.constantFrom(...ORDER_EVENT_TYPES.filter((t) => t !== 'fill')),
      atMs: fc.integer({ min: T0, max: T0 + 1e7 }),
    })
    .map((e) => e as OrderEvent),
  fc.record({
    type: fc.constant('fill' as const),
    atMs: fc.integer({ min: T0, max: T0 + 1e7 }),
    qty: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.double({ min: 0.001, max: 12, noNaN: true })),
    priceUsd: fc.double({ min: 1, max: 1000, noNaN: true }),
  }),
);

describe('Order state machine (property)', () => {
  it('never takes an illegal transition; errors leave the state unchanged; fills stay within qty', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(eventArb, { maxLength: 40 }),
        (qty, events) => {
          // Prepare
          const order = Order.create(spec(qty), T0);
          let wasTerminal = false;
          for (const event of events) {
            const before: OrderSnapshot = order.snapshot();
            const legal = ORDER_TRANSITIONS[before.status].includes(event.type);
            // Act
            let after: OrderSnapshot | undefined;
            let error: unknown;
            try {
              after = order.apply(event);
            } catch (err) {
              error = err;
            }
            // Assess
            if (!legal) {
              expect(error).toBeInstanceOf(IllegalOrderTransitionError);
            }
            if (error !== undefined) {
              expect(
                error instanceof IllegalOrderTransitionError || error instanceof OrderOverfillError,
              ).toBe(true);
              expect(order.snapshot()).toEqual(before);
            } else {
              expect(legal).toBe(true);
              const s = after as OrderSnapshot;
              expect(ORDER_STATUSES).toContain(s.status);
              if (event.type === 'fill') {
                expect([
                  'partially_filled',
                  'filled',
                  'pending_cancel',
                  'pending_replace',
                ]).toContain(s.status);
              } else if (event.type === 'cancel_rejected' || event.type === 'replace_rejected') {
                expect(['pending_new', 'accepted', 'new', 'partially_filled']).toContain(s.status);
              } else {
                expect(s.status).toBe(event.type);
              }
            }
            expect(order.filledQty).toBeGreaterThanOrEqual(0);
            expect(order.filledQty).toBeLessThanOrEqual(qty);
            if (wasTerminal) expect(order.snapshot()).toEqual(before);
            wasTerminal = order.isTerminal();
          }
        },
      ),
    );
  });

  it('terminal statuses absorb every event', () => {
    const terminals = ORDER_STATUSES.filter(isTerminalOrderStatus);
    for (const status of terminals) {
      expect(ORDER_TRANSITIONS[status]).toHaveLength(0);
    }
    fc.assert(
      fc.property(fc.constantFrom(...terminals), eventArb, (status, event) => {
        // Prepare: a terminal order rebuilt from a consistent snapshot
        const filled = status === 'filled';
        const order = Order.rehydrate({
          ...spec(10),
          status,
          filledQty: filled ? 10 : 0,
          avgFillPriceUsd: filled ? 100 : null,
          brokerOrderId: null,
          statusBeforePending: null,
          replacedByClientOrderId: null,
          rejectReason: null,
          createdAtMs: T0,
          updatedAtMs: T0,
        });
        // Act / Assess
        expect(() => order.apply(event)).toThrow(IllegalOrderTransitionError);
        expect(order.status).toBe(status);
      }),
    );
  });
});
