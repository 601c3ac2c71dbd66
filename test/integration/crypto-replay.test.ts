/**
 * Crypto sessions end to end through the local schedules: 24 h UTC days on their own
 * calendar (a Sunday and an NYSE holiday are sessions), the cohort of a day running after
 * that UTC day closed, learning cycles after it; ETHUSD has no daily file and is not
 * "unknown" (its risk estimate is simply absent).
 */
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../functions/ports/clock.js';
import { type LocalStack, startLocalStack } from '../../local/local-stack.js';
import { type ReplayResult, replay } from '../../local/replay.js';
import { DATA_ROOT } from '../support/paths.js';

let stack: LocalStack;
let result: ReplayResult;
let printed = '';
/** A Sunday and Labor Day (NYSE closed): both are crypto sessions. */
const SESSIONS = ['2017-09-03', '2017-09-04'];

beforeAll(async () => {
  stack = await startLocalStack({
    dataRoot: DATA_ROOT,
    stateDir: 'memory',
    logLevel: 'SILENT',
    clock: new ManualClock(0),
    brokerAccount: 'it-crypto',
  });
  result = await replay(stack, {
    sessions: SESSIONS,
    symbols: ['BTCUSD', 'ETHUSD'],
    market: 'crypto',
    bankrollUsd: 1000,
    agentCount: 10,
    allocation: 'risk-weighted',
    seed: 2,
    reportDir: path.join(os.tmpdir(), `stagegate-crypto-${process.pid}`),
    out: (t) => {
      printed += t;
    },
  });
}, 300_000);

afterAll(async () => {
  await stack?.stop();
});

describe('crypto sessions through the schedules', () => {
  it('runs one cohort per UTC day, weekend and NYSE holiday included, and two learning cycles after each', () => {
    expect(result.cohorts.map((c) => [c.sessionDate, c.status])).toEqual([
      ['2017-09-03', 'SUCCEEDED'],
      ['2017-09-04', 'SUCCEEDED'],
    ]);
    expect(result.learning).toHaveLength(4);
    expect(result.promotions).toHaveLength(0);
  });

  it('fires each cohort after its UTC day closed (00:05 UTC the next day)', () => {
    expect(printed).toContain('[2017-09-04 00:05 UTC] schedule cohort-start');
    expect(printed).toContain('[2017-09-05 00:05 UTC] schedule cohort-start');
    expect(printed).not.toMatch(/unknown symbol/i);
  });

  it('persists each cohort after its whole UTC day: the record starts after the data it holds', async () => {
    for (const c of result.cohorts) {
      const cohort = await stack.runtime.cohorts.get(c.cohortId as string);
      const dayEnd = Date.parse(`${c.sessionDate}T00:00:00Z`) + 86_400_000;
      expect(Date.parse(cohort?.startedAtIso ?? '')).toBeGreaterThanOrEqual(dayEnd);
      expect(cohort?.barCount).toBeGreaterThan(1000);
    }
  });
});
