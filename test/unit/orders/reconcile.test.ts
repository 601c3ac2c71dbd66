import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/core/errors.js';
import { type ReconcileInput, reconcile } from '../../../functions/core/orders/reconcile.js';

const clean: ReconcileInput = {
  localPositions: [
    { symbol: 'SPY', qty: 10 },
    { symbol: 'IBM', qty: -5 },
    { symbol: 'BAC', qty: 0 },
  ],
  brokerPositions: [
    { symbol: 'IBM', qty: -5 },
    { symbol: 'SPY', qty: 10.0000001 },
  ],
  localOrders: [
    { clientOrderId: 'a_1', status: 'filled', filledQty: 10 },
    { clientOrderId: 'b_1', status: 'canceled', filledQty: 0 },
  ],
  brokerOrders: [
    { clientOrderId: 'b_1', status: 'canceled', filledQty: 0 },
    { clientOrderId: 'a_1', status: 'filled', filledQty: 10 },
  ],
};
const options = { qtyTolerance: 1e-6 };

describe('reconcile', () => {
  it('finds nothing when both sides agree (within tolerance, flat = absent)', () => {
    // Act / Assess
    expect(reconcile(clean, options)).toEqual([]);
  });

  it('detects each discrepancy kind', () => {
    // Prepare
    const input: ReconcileInput = {
      localPositions: [
        { symbol: 'SPY', qty: 10 },
        { symbol: 'IBM', qty: -5 },
      ],
      brokerPositions: [
        { symbol: 'SPY', qty: 7 },
        { symbol: 'AIG', qty: 3 },
      ],
      localOrders: [
        { clientOrderId: 'a_1', status: 'pending_cancel', filledQty: 4 },
        { clientOrderId: 'c_1', status: 'new', filledQty: 0 },
      ],
      brokerOrders: [
        { clientOrderId: 'a_1', status: 'canceled', filledQty: 6 },
        { clientOrderId: 'z_9', status: 'filled', filledQty: 1 },
      ],
    };
    // Act
    const found = reconcile(input, options).map((d) => [d.entity, d.key, d.kind]);
    // Assess
    expect(found).toEqual([
      ['position', 'AIG', 'unknown_at_broker'],
      ['position', 'IBM', 'missing_at_broker'],
      ['position', 'SPY', 'qty_mismatch'],
      ['order', 'a_1', 'qty_mismatch'],
      ['order', 'a_1', 'status_mismatch'],
      ['order', 'c_1', 'missing_at_broker'],
      ['order', 'z_9', 'unknown_at_broker'],
    ]);
  });

  it('reports both quantities and statuses', () => {
    // Prepare
    const input: ReconcileInput = {
      ...clean,
      brokerOrders: [
        { clientOrderId: 'a_1', status: 'partially_filled', filledQty: 10 },
        { clientOrderId: 'b_1', status: 'canceled', filledQty: 0 },
      ],
    };
    // Act
    const [d] = reconcile(input, options);
    // Assess
    expect(d).toMatchObject({
      kind: 'status_mismatch',
      localStatus: 'filled',
      brokerStatus: 'partially_filled',
      localQty: 10,
      brokerQty: 10,
    });
  });

  it('rejects a negative tolerance and duplicate client_order_ids', () => {
    expect(() => reconcile(clean, { qtyTolerance: -1 })).toThrow(ValidationError);
    expect(() =>
      reconcile(
        { ...clean, brokerOrders: [...clean.brokerOrders, ...clean.brokerOrders] },
        options,
      ),
    ).toThrow(ValidationError);
  });
});
