import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WeightedLru } from '../../../functions/adapters/market-data/weighted-lru.js';

describe('WeightedLru', () => {
  it('evicts the least recently used entries once the weight budget is exceeded', () => {
    // Prepare
    const lru = new WeightedLru<string>(10);
    lru.set('a', 'A', 4);
    lru.set('b', 'B', 4);
    lru.get('a');

    // Act
    lru.set('c', 'C', 4);

    // Assess
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe('A');
    expect(lru.get('c')).toBe('C');
    expect(lru.weight).toBe(8);
  });

  it('does not keep an entry heavier than the whole budget', () => {
    // Prepare
    const lru = new WeightedLru<string>(10);
    lru.set('a', 'A', 3);

    // Act
    lru.set('huge', 'H', 11);

    // Assess
    expect(lru.get('huge')).toBeUndefined();
    expect(lru.get('a')).toBe('A');
  });

  it('never holds more than its budget, whatever the operations', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.integer({ min: 0, max: 12 })),
        ),
        (ops) => {
          // Prepare
          const lru = new WeightedLru<number>(20);

          // Act
          for (const [key, weight] of ops) lru.set(key, weight, weight);

          // Assess
          expect(lru.weight).toBeLessThanOrEqual(20);
          expect(lru.weight).toBeGreaterThanOrEqual(0);
        },
      ),
    );
  });
});
