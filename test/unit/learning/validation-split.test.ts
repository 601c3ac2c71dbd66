/**
 * The learning cycle's train/validation split (issue #13 item 3): the latest session of the
 * lookback chooses the elites, the sessions before it breed, and neither part ever reads the
 * other's results or a session after the cycle.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Genome, seedGenomePool } from '../../../functions/core/cohort/genome.js';
import {
  type ScoredGenomeResult,
  splitSessions,
} from '../../../functions/core/learning/fitness.js';
import { runLearningCycle } from '../../../functions/core/learning/learning-cycle.js';
import { createRandom } from '../../../functions/core/random.js';
import { cycleInput, NOW, result, SYMBOLS } from './fixtures.js';

const HOUR = 3_600_000;
const D1 = '2013-10-03';
const D2 = '2013-10-04';
const D3 = '2013-10-07';
/** The session after the cycle: the Day-3 review's out-of-sample session. */
const D4 = '2013-10-08';

/** Results of `pool` on D1 (3 days ago), D2 (2 days ago) and D3 (1 h ago), drawn from `seed`. */
function threeSessions(pool: readonly Genome[], seed: number): ScoredGenomeResult[] {
  const rng = createRandom(seed);
  return [
    [D1, 73],
    [D2, 49],
    [D3, 1],
  ].flatMap(([sessionDate, hoursAgo]) =>
    pool.map((g) =>
      result(g.id, rng.normal() * 0.01, {
        sessionDate: sessionDate as string,
        hoursAgo: hoursAgo as number,
        maxDrawdownFraction: rng.uniform(0, 0.01),
        tradeCount: rng.int(2, 30),
      }),
    ),
  );
}

const window = (validationSessions: number, trainingSessions = 3) => ({
  windowStartMs: NOW - 24 * HOUR,
  windowEndMs: NOW,
  validationSessions,
  trainingSessions,
});

describe('splitSessions', () => {
  const pool = seedGenomePool(6, SYMBOLS, 3);
  const scored = threeSessions(pool, 4);

  it('holds out the latest session of the lookback and trains on the sessions before it', () => {
    // Act
    const three = splitSessions(pool, scored, window(1, 3));
    const one = splitSessions(pool, scored, window(1, 1));

    // Assess
    expect(three.status).toBe('split');
    expect(three.validationSessionDates).toEqual([D3]);
    expect(three.trainingSessionDates).toEqual([D1, D2]);
    expect(three.validation.every((r) => r.sessionDate === D3)).toBe(true);
    expect(three.validation).toHaveLength(6);
    expect(three.training).toHaveLength(12);
    expect(three.training.some((r) => r.sessionDate === D3)).toBe(false);
    expect(one.trainingSessionDates).toEqual([D2]);
  });

  it('never reads a session completed after the cycle (the out-of-sample session)', () => {
    // Prepare: D4 completes an hour after the cycle's now.
    const later = pool.map((g) => result(g.id, 0.5, { sessionDate: D4, hoursAgo: -1 }));

    // Act
    const split = splitSessions(pool, [...scored, ...later], window(1));

    // Assess
    expect(split.validationSessionDates).toEqual([D3]);
    expect([...split.training, ...split.validation].some((r) => r.sessionDate === D4)).toBe(false);
  });

  it('says nothing validates on a pool first session, and trains on the window only', () => {
    // Prepare
    const first = scored.filter((r) => r.sessionDate === D3);

    // Act
    const split = splitSessions(pool, first, window(1));
    const off = splitSessions(pool, scored, window(0));

    // Assess
    expect(split.status).toBe('unavailable');
    expect(split.reason).toContain(`no session of the pool before ${D3}`);
    expect(split.validation).toEqual([]);
    expect(split.trainingSessionDates).toEqual([D3]);
    expect(off.status).toBe('off');
    expect(off.trainingSessionDates).toEqual([D3]);
  });
});

describe('runLearningCycle with a validation session', () => {
  it('chooses the elites on the validation session and the parents on the training sessions', () => {
    // Prepare: X wins the validation session and loses training; Y the reverse.
    const pool = seedGenomePool(4, SYMBOLS, 11);
    const [x, y, ...rest] = pool as [Genome, Genome, ...Genome[]];
    const scored = [
      result(x.id, -0.05, { sessionDate: D2, hoursAgo: 49 }),
      result(y.id, 0.05, { sessionDate: D2, hoursAgo: 49 }),
      result(x.id, 0.05, { sessionDate: D3 }),
      result(y.id, -0.05, { sessionDate: D3 }),
      ...rest.flatMap((g) => [
        result(g.id, 0, { sessionDate: D2, hoursAgo: 49 }),
        result(g.id, 0, { sessionDate: D3 }),
      ]),
    ];
    // Tournaments of 10,000 over 4 genomes always hold the training best ((3/4)^10000 ≈ 0).
    const base = cycleInput(4, {
      pool,
      scored,
      eliteCount: 1,
      crossoverRate: 0,
      immigrantRate: 0,
      tournamentSize: 10_000,
      poolSize: 8,
    });

    // Act
    const withValidation = runLearningCycle({ ...base, validationSessions: 1 });
    const without = runLearningCycle({ ...base, validationSessions: 0 });

    // Assess
    const parents = (out: typeof withValidation) =>
      new Set(out.lineage.filter((l) => l.operator === 'mutation').flatMap((l) => l.parentIds));
    expect(withValidation.lineage[0]).toMatchObject({ childId: x.id, operator: 'elite' });
    expect([...parents(withValidation)]).toEqual([y.id]);
    expect(withValidation.validationFitness?.[0]?.genomeId).toBe(x.id);
    expect(withValidation.fitness[0]?.genomeId).toBe(y.id);
    expect(withValidation.stats.validation).toMatchObject({
      status: 'split',
      trainingSessionDates: [D2],
      validationSessionDates: [D3],
    });
    // Without validation the lookback (D3 only) both breeds and chooses: X everywhere.
    expect(without.lineage[0]?.childId).toBe(x.id);
    expect([...parents(without)]).toEqual([x.id]);
    expect(without.validationFitness).toBeNull();
  });

  it('training fitness never moves with the validation results, nor validation with training (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 3 }),
        (size, dataSeed, noiseSeed, trainingSessions) => {
          // Prepare: the same pool and sessions; once with the validation session replaced
          // by noise, once with the training sessions replaced by noise.
          const pool = seedGenomePool(size, SYMBOLS, dataSeed);
          const scored = threeSessions(pool, dataSeed);
          const noise = threeSessions(pool, noiseSeed);
          const swap = (date: (d: string) => boolean) =>
            scored.map((r, i) => (date(r.sessionDate) ? (noise[i] as ScoredGenomeResult) : r));
          const input = cycleInput(size, {
            pool,
            scored,
            validationSessions: 1,
            trainingSessions,
            eliteCount: Math.min(2, size - 1),
          });

          // Act
          const base = runLearningCycle(input);
          const newValidation = runLearningCycle({ ...input, scored: swap((d) => d === D3) });
          const newTraining = runLearningCycle({ ...input, scored: swap((d) => d !== D3) });

          // Assess
          expect(base.stats.validation?.status).toBe('split');
          expect(newValidation.fitness).toEqual(base.fitness);
          expect(newTraining.validationFitness).toEqual(base.validationFitness);
          // The elites (validation) do not move when only training changes.
          const elites = (out: typeof base) =>
            out.lineage.filter((l) => l.operator === 'elite').map((l) => l.childId);
          expect(elites(newTraining)).toEqual(elites(base));
        },
      ),
      { numRuns: 60 },
    );
  });
});
