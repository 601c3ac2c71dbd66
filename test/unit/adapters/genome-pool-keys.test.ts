/**
 * The genome pools' sort keys: the equity pool keeps the keys of the single pool stored before
 * pools were per market (read with no migration); the crypto pool's keys are its own and never
 * share a prefix the equity pool queries.
 */
import { describe, expect, it } from 'vitest';
import { genomePoolKeys } from '../../../functions/adapters/dynamodb/genome-pool-repository.js';

const DIGEST = 'ab'.repeat(32);

describe('genomePoolKeys', () => {
  it('keeps the pre-market keys for the equity pool', () => {
    // Act
    const keys = genomePoolKeys('equity-usa');

    // Assess
    expect(keys.current).toBe('CURRENT');
    expect(keys.generation(12)).toBe('GEN#0000000012');
    expect(keys.partPrefix(12, DIGEST)).toBe('GEN#0000000012#PART#abababababababab#');
    expect(keys.part(12, DIGEST, 3)).toBe('GEN#0000000012#PART#abababababababab#0003');
  });

  it('puts the crypto pool behind MARKET#crypto#, outside every equity prefix', () => {
    // Prepare
    const equity = genomePoolKeys('equity-usa');

    // Act
    const crypto = genomePoolKeys('crypto');

    // Assess
    expect(crypto.current).toBe('MARKET#crypto#CURRENT');
    expect(crypto.generation(0)).toBe('MARKET#crypto#GEN#0000000000');
    expect(crypto.part(0, DIGEST, 0)).toBe(
      'MARKET#crypto#GEN#0000000000#PART#abababababababab#0000',
    );
    for (const n of [0, 1, 9, 10, 123]) {
      const cryptoKeys = [crypto.current, crypto.generation(n), crypto.part(n, DIGEST, 0)];
      const equityPrefixes = [equity.current, equity.generation(n), equity.partPrefix(n, DIGEST)];
      for (const key of cryptoKeys) {
        for (const prefix of equityPrefixes) expect(key.startsWith(prefix)).toBe(false);
      }
      expect(equity.part(n, DIGEST, 0).startsWith(crypto.partPrefix(n, DIGEST))).toBe(false);
    }
  });
});
