import { describe, expect, it } from 'vitest';
import { alpacaRefusal, alpacaTargetQty } from '../../../functions/core/exchange/exchange-model.js';

const equity = { market: 'equity-usa', fractionable: true } as const;
const crypto = { market: 'crypto', fractionable: true } as const;

describe('what Alpaca paper refuses', () => {
  it('refuses a fractional short sale, a crypto short and a fractional non-fractionable order', () => {
    expect(alpacaRefusal('sell', 2.5, 0.5, equity, 'day')).toBe(
      'fractional short sale not allowed',
    );
    expect(alpacaRefusal('sell', 0.1, 0, crypto, 'gtc')).toBe('crypto short sale not allowed');
    expect(alpacaRefusal('buy', 0.5, 0, { market: 'equity-usa', fractionable: false }, 'day')).toBe(
      'asset not fractionable',
    );
  });

  it('accepts a fractional sale down to flat, a whole-share short and a crypto sale of what is held', () => {
    expect(alpacaRefusal('sell', 0.5, 0.5, equity, 'day')).toBeNull();
    expect(alpacaRefusal('sell', 2, 0, equity, 'day')).toBeNull();
    expect(alpacaRefusal('sell', 0.25, 0.25, crypto, 'gtc')).toBeNull();
    expect(alpacaRefusal('buy', 0.3, -2, equity, 'day')).toBeNull();
  });

  it('refuses a fractional equity order that is not a day order (Alpaca: fractional orders are day orders only)', () => {
    for (const tif of ['gtc', 'ioc', 'fok', 'opg', 'cls'] as const) {
      expect(alpacaRefusal('buy', 0.5, 0, equity, tif)).toBe(
        'fractional orders must be time_in_force day',
      );
      expect(alpacaRefusal('sell', 1.5, 2, equity, tif)).toBe(
        'fractional orders must be time_in_force day',
      );
      // Whole shares may use any time in force.
      expect(alpacaRefusal('buy', 3, 0, equity, tif)).toBeNull();
    }
    expect(alpacaRefusal('buy', 0.5, 0, equity, 'day')).toBeNull();
  });

  it('refuses a crypto order that is not gtc or ioc (Alpaca "Crypto Orders"), whatever its size', () => {
    for (const tif of ['day', 'fok', 'opg', 'cls'] as const) {
      expect(alpacaRefusal('buy', 0.5, 0, crypto, tif)).toBe(
        `time_in_force ${tif} not supported for crypto (gtc or ioc)`,
      );
      expect(alpacaRefusal('sell', 2, 2, crypto, tif)).toBe(
        `time_in_force ${tif} not supported for crypto (gtc or ioc)`,
      );
    }
    for (const tif of ['gtc', 'ioc'] as const) {
      expect(alpacaRefusal('buy', 0.5, 0, crypto, tif)).toBeNull();
      expect(alpacaRefusal('sell', 2, 2, crypto, tif)).toBeNull();
    }
  });

  it('sizes targets the same way: whole shares for a short, no crypto short', () => {
    expect(alpacaTargetQty(-3.7, equity, 1e-6)).toBe(-3);
    expect(alpacaTargetQty(3.7, equity, 1e-6)).toBeCloseTo(3.7, 9);
    expect(alpacaTargetQty(-0.5, crypto, 1e-6)).toBe(0);
    expect(alpacaTargetQty(2.5, { market: 'equity-usa', fractionable: false }, 1e-6)).toBe(2);
  });
});
