import { describe, expect, it } from 'vitest';
import {
  decimalString,
  mapAlpacaOrder,
} from '../../../functions/adapters/brokers/alpaca-paper-broker.js';
import { ValidationError } from '../../../functions/core/errors.js';

/** Alpaca's documented sample order object (numbers as strings), with overrides. */
const alpacaOrder = (overrides: Record<string, unknown> = {}) => ({
  id: '61e69015-8549-4bfd-b9c3-01e75843f47d',
  client_order_id: 'sg_map_1',
  created_at: '2021-03-16T18:38:01.942282Z',
  updated_at: '2021-03-16T18:38:02.1Z',
  submitted_at: '2021-03-16T18:38:01.937734Z',
  filled_at: null,
  symbol: 'AAPL',
  asset_class: 'us_equity',
  notional: null,
  qty: '10',
  filled_qty: '4',
  filled_avg_price: '120.5',
  order_class: '',
  order_type: 'market',
  type: 'market',
  side: 'buy',
  time_in_force: 'day',
  limit_price: null,
  status: 'partially_filled',
  ...overrides,
});

describe('mapAlpacaOrder', () => {
  it('maps strings to numbers and timestamps to millisecond UTC ISO', () => {
    // Act
    const order = mapAlpacaOrder(alpacaOrder());

    // Assess
    expect(order).toEqual({
      brokerOrderId: '61e69015-8549-4bfd-b9c3-01e75843f47d',
      clientOrderId: 'sg_map_1',
      symbol: 'AAPL',
      side: 'buy',
      type: 'market',
      qty: 10,
      filledQty: 4,
      filledAvgPriceUsd: 120.5,
      status: 'partially_filled',
      submittedAtIso: '2021-03-16T18:38:01.937Z',
      updatedAtIso: '2021-03-16T18:38:02.100Z',
      timeInForce: 'day',
      feesUsd: 0,
    });
  });

  it("maps Alpaca's extra statuses onto the port's", () => {
    // Act
    const status = (s: string, filled = '0') =>
      mapAlpacaOrder(alpacaOrder({ status: s, filled_qty: filled })).status;

    // Assess
    expect(status('done_for_day')).toBe('new');
    expect(status('done_for_day', '3')).toBe('partially_filled');
    expect(status('accepted_for_bidding')).toBe('accepted');
    expect(status('held')).toBe('accepted');
    expect(status('calculated', '10')).toBe('filled');
    expect(status('pending_cancel')).toBe('pending_cancel');
  });

  it('reads the commission when the broker reports one', () => {
    // Act / Assess
    expect(mapAlpacaOrder(alpacaOrder({ commission: '1.25' })).feesUsd).toBe(1.25);
  });

  it('refuses shapes the port cannot express, naming the field', () => {
    // Act / Assess
    const field = (json: unknown) => {
      try {
        mapAlpacaOrder(json);
      } catch (err) {
        expect(err).toBeInstanceOf(ValidationError);
        return (err as ValidationError).field;
      }
      return null;
    };
    expect(field(alpacaOrder({ type: 'stop', order_type: 'stop' }))).toBe('alpaca.order.type');
    expect(field(alpacaOrder({ qty: null, notional: '500' }))).toBe('alpaca.order.qty');
    expect(field(alpacaOrder({ status: 'weird' }))).toBe('alpaca.order.status');
    expect(field(alpacaOrder({ filled_qty: 'abc' }))).toBe('alpaca.order.filled_qty');
  });
});

describe('decimalString', () => {
  it('writes quantities in plain notation with at most 9 decimals', () => {
    // Act / Assess
    expect(decimalString(2.5)).toBe('2.5');
    expect(decimalString(0.000001)).toBe('0.000001');
    expect(decimalString(1e-7)).toBe('0.0000001');
    expect(decimalString(12)).toBe('12');
  });
});
