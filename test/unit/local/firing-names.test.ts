/**
 * The replay's execution names (and so the cohort ids built from them) carry the firing's
 * clock time in the market's zone: New York for equities, UTC for crypto.
 */
import { describe, expect, it } from 'vitest';
import { cohortIdFor } from '../../../functions/core/use-cases/intraday-cohort.js';
import { firingContext } from '../../../local/replay.js';

describe('firingContext', () => {
  it('names a crypto firing with its UTC hour (00:05 UTC, not 20:05 New York)', () => {
    // Prepare: the crypto cohort of 2018-04-04 fires after that UTC day closed
    const at = Date.parse('2018-04-05T00:05:00Z');

    // Act
    const f = firingContext(true, at, 'cohort-start');

    // Assess
    expect(f.date).toBe('2018-04-04');
    expect(f.stamp).toBe('2018-04-05 00:05 UTC');
    expect(f.name).toMatch(/^sched-201804040005-[0-9a-z]+$/);
    expect(cohortIdFor(f.date, f.name)).toMatch(/^coh-20180404-.*201804040005-[0-9a-z]+$/);
  });

  it('names an equity firing with its New York hour, in summer and winter time', () => {
    // Prepare: 09:35 New York is 13:35 UTC in October (EDT) and 14:35 UTC in December (EST)
    const summer = Date.parse('2013-10-08T13:35:00Z');
    const winter = Date.parse('2013-12-09T14:35:00Z');

    // Act
    const a = firingContext(false, summer, 'cohort-start');
    const b = firingContext(false, winter, 'learning-cycle');

    // Assess
    expect(a.name).toMatch(/^sched-201310080935-/);
    expect(a.stamp).toBe('2013-10-08 09:35 New York');
    expect(b.name).toMatch(/^learn-201312090935-/);
  });
});
