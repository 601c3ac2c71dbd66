import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { ValidationError } from '../../../functions/core/errors.js';

function errorOf(input: unknown): ValidationError {
  try {
    parseCohortConfig(input);
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('parseCohortConfig', () => {
  it('fills every default from the bankroll alone', () => {
    // Act
    const config = parseCohortConfig({ bankrollUsd: 1_000 });

    // Assess
    expect(config).toEqual({
      bankrollUsd: 1_000,
      agentCount: 30,
      allocation: 'equal',
      maxAggregateExposure: 1,
      maxAgentLeverage: 2,
      feePerShareUsd: 0.005,
      minFeeUsd: 0,
      maxFeeFraction: 0.01,
      slippageBps: 1,
      impactCoefficientBps: 0,
      notionalFeeFraction: 0,
      secFeePerUsdSold: 0,
      finraTafPerShareSold: 0,
      finraTafMaxUsd: 0,
      catFeePerShare: 0,
      flattenAtClose: true,
      fractionalShares: true,
      seed: 1,
    });
  });

  it.each([49.99, 100_000.01, 20, Number.NaN])(
    'rejects bankrollUsd %s naming the field and the range',
    (bankrollUsd) => {
      // Act
      const err = errorOf({ bankrollUsd });

      // Assess
      expect(err.field).toBe('bankrollUsd');
      expect(err.message).toContain('bankrollUsd: must be between 50 and 100000 USD');
      expect(err.message).toContain(`got ${bankrollUsd}`);
    },
  );

  it('accepts the bankroll boundaries 50 and 100000', () => {
    // Act / Assess
    expect(parseCohortConfig({ bankrollUsd: 50 }).bankrollUsd).toBe(50);
    expect(parseCohortConfig({ bankrollUsd: 100_000 }).bankrollUsd).toBe(100_000);
  });

  it('accepts any bankroll in [50, 100000]', () => {
    fc.assert(
      fc.property(fc.double({ min: 50, max: 100_000, noNaN: true }), (bankrollUsd) => {
        // Act / Assess
        expect(parseCohortConfig({ bankrollUsd }).bankrollUsd).toBe(bankrollUsd);
      }),
    );
  });

  it.each([0, 1_001, 2.5, -1])(
    'rejects agentCount %s naming the field and the range',
    (agentCount) => {
      // Act
      const err = errorOf({ bankrollUsd: 1_000, agentCount });

      // Assess
      expect(err.field).toBe('agentCount');
      expect(err.message).toContain('must be an integer between 1 and 1000');
      expect(err.message).toContain(`got ${agentCount}`);
    },
  );

  it('accepts agentCount 1 and 1000', () => {
    // Act / Assess
    expect(parseCohortConfig({ bankrollUsd: 1_000, agentCount: 1 }).agentCount).toBe(1);
    expect(parseCohortConfig({ bankrollUsd: 1_000, agentCount: 1_000 }).agentCount).toBe(1_000);
  });

  it('requires the bankroll', () => {
    // Act
    const err = errorOf({ agentCount: 3 });

    // Assess
    expect(err.field).toBe('bankrollUsd');
    expect(err.message).toContain('got nothing');
  });

  it('names the allowed allocation policies', () => {
    // Act
    const err = errorOf({ bankrollUsd: 1_000, allocation: 'kelly' });

    // Assess
    expect(err.field).toBe('allocation');
    expect(err.message).toContain("'equal', 'risk-weighted'");
  });

  it('rejects an unknown field (a typo must not fall back to a default)', () => {
    // Act
    const err = errorOf({ bankrollUsd: 1_000, maxLeverage: 3 });

    // Assess
    expect(err.field).toBe('maxLeverage');
    expect(err.message).toContain('unknown field');
  });

  it.each([
    ['maxAgentLeverage', 11, 'between 0 and 10'],
    ['maxAggregateExposure', -0.1, 'between 0 and 4'],
    ['slippageBps', 501, 'between 0 and 500 bps'],
    ['impactCoefficientBps', -0.5, 'between 0 and 1000'],
    ['impactCoefficientBps', 1_000.5, 'between 0 and 1000'],
    ['seed', -1, 'an integer between 0 and 4294967295'],
    ['flattenAtClose', 'yes', 'must be a boolean'],
  ])('rejects %s = %s', (field, value, text) => {
    // Act
    const err = errorOf({ bankrollUsd: 1_000, [field]: value });

    // Assess
    expect(err.field).toBe(field);
    expect(err.message).toContain(text);
  });
});
