import { describe, expect, it } from 'vitest';
import {
  sharedRateLimiter,
  TokenBucket,
} from '../../../functions/adapters/brokers/rate-limiter.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { ManualClock } from '../../../functions/ports/clock.js';

function bucket(capacity = 3, windowMs = 60_000) {
  const clock = new ManualClock(1_000_000);
  const sleeps: number[] = [];
  const b = new TokenBucket({
    capacity,
    windowMs,
    clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.advance(ms);
    },
  });
  return { b, clock, sleeps };
}

describe('TokenBucket', () => {
  it('lets a burst of `capacity` through, then paces at capacity per window', async () => {
    // Prepare: 3 per minute -> one token every 20 s
    const { b, sleeps } = bucket(3);

    // Act
    const waits = [];
    for (let i = 0; i < 5; i++) waits.push(await b.acquire());

    // Assess
    expect(waits).toEqual([0, 0, 0, 20_000, 20_000]);
    expect(sleeps).toEqual([20_000, 20_000]);
  });

  it('refills continuously with time and never above capacity', async () => {
    // Prepare
    const { b, clock } = bucket(3);
    await b.acquire();
    await b.acquire();

    // Act
    const left = b.available();
    clock.advance(10_000);
    const half = b.available();
    clock.advance(600_000);
    const capped = b.available();

    // Assess: 1 left, + 0.5 token after 10 s, capped at 3 after 10 min
    expect(left).toBe(1);
    expect(half).toBeCloseTo(1.5, 12);
    expect(capped).toBe(3);
  });

  it('serves concurrent acquirers one after another (no shared wait computed twice)', async () => {
    // Prepare
    const { b, sleeps } = bucket(1, 1_000);

    // Act
    const waits = await Promise.all([b.acquire(), b.acquire(), b.acquire()]);

    // Assess
    expect(waits).toEqual([0, 1_000, 1_000]);
    expect(sleeps).toEqual([1_000, 1_000]);
  });

  it('hands out nothing before a blockUntil time (a 429 reset)', async () => {
    // Prepare
    const { b, clock, sleeps } = bucket(10);
    b.blockUntil(clock.now() + 7_000);

    // Act
    const waited = await b.acquire();

    // Assess
    expect(waited).toBe(7_000);
    expect(sleeps).toEqual([7_000]);
  });

  it('rejects a non-positive capacity or window', () => {
    // Act / Assess
    expect(() => new TokenBucket({ capacity: 0 })).toThrow(ValidationError);
    expect(() => new TokenBucket({ windowMs: 0 })).toThrow(ValidationError);
  });
});

describe('sharedRateLimiter', () => {
  it('returns one bucket per key id, 200 per minute by default', () => {
    // Act
    const a = sharedRateLimiter('PK-SHARED-UNIT-A');
    const again = sharedRateLimiter('PK-SHARED-UNIT-A');
    const other = sharedRateLimiter('PK-SHARED-UNIT-B');

    // Assess
    expect(again).toBe(a);
    expect(other).not.toBe(a);
    expect(a.capacity).toBe(200);
    expect(a.windowMs).toBe(60_000);
  });
});
