/**
 * Sharded cohorts (functions/core/cohort/shard.ts) against the unsharded simulator: same
 * allocation and parent wallet, identical agents wherever the aggregate ceiling never touched
 * them, cash conservation and the aggregate ceiling on the merged curve.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { seedGenomePool } from '../../../functions/core/cohort/genome.js';
import {
  type CohortShardPlan,
  type CohortShardResult,
  cohortAgentId,
  mergeCohortShards,
  partitionAgents,
  planCohortShards,
  simulateCohortShard,
} from '../../../functions/core/cohort/shard.js';
import { type SimulationResult, simulateCohort } from '../../../functions/core/cohort/simulate.js';
import { ValidationError } from '../../../functions/core/errors.js';
import type { MarketSession } from '../../../functions/core/market/types.js';
import { randomSession } from './fixtures.js';

const CENT = 0.01;

/** Minutes at which every symbol has a two-sided quote (the simulator's ceilings hold there). */
function fullyQuoted(session: MarketSession): boolean[] {
  return Array.from(session.timestamps, (_, t) =>
    session.series.every((s) => (s.bid[t] as number) > 0 && (s.ask[t] as number) > 0),
  );
}

/** Untouched by the aggregate ceiling: no clipped order, no forced reduction (either ceiling). */
/**
 * Σ over agents of |position| × |mark move| from minute t − 1 to t, USD: orders are sized at
 * the decision minute's marks (t − 1) and fill at minute t, so a ceiling can be exceeded by
 * that much at t (the next decision brings it back).
 */
function priceMoveSlack(
  session: MarketSession,
  agents: readonly SimulationResult['agents'][number][],
  t: number,
): number {
  if (t === 0) return 0;
  return agents.reduce((sum, a) => {
    const x = session.series[session.symbols.indexOf(a.genome.symbol)];
    if (!x) return sum;
    const mid = (u: number) => ((x.bid[u] as number) + (x.ask[u] as number)) / 2;
    const m = mid(t);
    return sum + ((a.grossExposureCurve[t] as number) / m) * Math.abs(m - mid(t - 1));
  }, 0);
}

const untouched = (a: SimulationResult['agents'][number]) =>
  a.exposureBreaches === 0 && a.forcedReductions === 0;

const scenario = fc.record({
  sessionSeed: fc.integer({ min: 0, max: 1_000_000 }),
  genomeSeed: fc.integer({ min: 0, max: 1_000_000 }),
  symbols: fc.constantFrom(['SPY', 'BAC'], ['SPY', 'BAC', 'AIG']),
  bars: fc.integer({ min: 60, max: 150 }),
  quoteGap: fc.integer({ min: 0, max: 10 }).map((x) => x / 100),
  volatility: fc.integer({ min: 10, max: 60 }).map((x) => x / 10_000),
  bankrollUsd: fc.integer({ min: 5_000, max: 10_000_000 }).map((x) => x / 100),
  agentCount: fc.integer({ min: 4, max: 36 }),
  shards: fc.constantFrom(2, 3),
  allocation: fc.constantFrom('equal', 'risk-weighted'),
  maxAgentLeverage: fc.integer({ min: 5, max: 40 }).map((x) => x / 10),
  maxAggregateExposure: fc.integer({ min: 2, max: 20 }).map((x) => x / 10),
  sigma: fc.integer({ min: 2, max: 50 }).map((x) => x / 1_000),
});
type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

/** The same cohort run unsharded and in `s.shards` shards (consecutive, like the ItemBatcher). */
function runBoth(s: Scenario) {
  const session = randomSession(s.sessionSeed, {
    symbols: s.symbols,
    bars: s.bars,
    quoteGap: s.quoteGap,
    volatility: s.volatility,
  });
  const config = parseCohortConfig({
    bankrollUsd: s.bankrollUsd,
    agentCount: s.agentCount,
    allocation: s.allocation,
    maxAgentLeverage: s.maxAgentLeverage,
    maxAggregateExposure: s.maxAggregateExposure,
  });
  const genomes = seedGenomePool(s.agentCount, s.symbols, s.genomeSeed);
  const riskEstimates = Object.fromEntries(s.symbols.map((sym, i) => [sym, s.sigma * (1 + i)]));
  const unsharded = simulateCohort({ cohortId: 'c', session, genomes, config, riskEstimates });
  const shardAgents = Math.ceil(s.agentCount / s.shards);
  const plan = planCohortShards({ cohortId: 'c', genomes, config, riskEstimates, shardAgents });
  const shards = partitionAgents(s.agentCount, shardAgents).map((agentIndices) =>
    simulateCohortShard({ plan, session, agentIndices }),
  );
  return { session, config, unsharded, plan, shards, merged: mergeCohortShards(plan, shards) };
}

describe('sharded cohort vs unsharded (property)', () => {
  it('keeps the allocation and parent wallet, and every agent the aggregate ceiling never touched trades identically', () => {
    let compared = 0;
    let touched = 0;
    fc.assert(
      fc.property(scenario, (s) => {
        // Prepare / Act
        const { unsharded, merged, shards } = runBoth(s);

        // Assess: one allocation for the whole cohort, identical parent wallet.
        expect(shards.length).toBeGreaterThanOrEqual(2);
        expect(merged.agents.map((a) => a.allocationUsd)).toEqual(
          unsharded.agents.map((a) => a.allocationUsd),
        );
        expect(merged.parent.unallocatedCashUsd).toBe(unsharded.parent.unallocatedCashUsd);
        expect(merged.allocationPolicyApplied).toBe(unsharded.allocationPolicyApplied);
        expect(merged.agents.map((a) => a.agentId)).toEqual(unsharded.agents.map((a) => a.agentId));

        // Assess: untouched agents (in both runs) have the same fills and curves.
        merged.agents.forEach((agent, i) => {
          const reference = unsharded.agents[i] as SimulationResult['agents'][number];
          if (!(untouched(agent) && untouched(reference))) {
            touched++;
            return;
          }
          compared++;
          expect(agent.fills).toEqual(reference.fills);
          expect(agent.equityCurve).toEqual(reference.equityCurve);
          expect(agent.grossExposureCurve).toEqual(reference.grossExposureCurve);
        });
      }),
      { numRuns: 40 },
    );
    // Assess that the scenarios exercised both kinds of agents.
    expect(compared).toBeGreaterThan(100);
    expect(touched).toBeGreaterThan(0);
  });

  it('conserves cash on the merged parent curve and keeps it under the cohort aggregate ceiling', () => {
    let clipped = 0;
    fc.assert(
      fc.property(scenario, (s) => {
        // Prepare / Act
        const { session, config, merged, shards, plan } = runBoth(s);
        const quoted = fullyQuoted(session);
        const cohortCap = config.maxAggregateExposure * config.bankrollUsd;
        clipped += merged.agents.reduce((n, a) => n + a.exposureBreaches, 0);

        // Assess: the shard ceilings add up to at most the cohort's.
        const capSum = shards.reduce((sum, shard) => sum + shard.aggregateCapUsd, 0);
        expect(capSum).toBeLessThanOrEqual(cohortCap * (1 + 1e-12));
        expect(capSum).toBeCloseTo(
          config.maxAggregateExposure * (config.bankrollUsd - plan.unallocatedCashUsd),
          6,
        );

        // Assess: every minute, parent = unallocated + Σ agent equity; ceilings hold when quoted.
        for (let t = 0; t < merged.timestamps.length; t++) {
          const equity = merged.agents.reduce((sum, a) => sum + (a.equityCurve[t] as number), 0);
          expect(
            Math.abs(
              (merged.parent.equityCurve[t] as number) -
                (merged.parent.unallocatedCashUsd + equity),
            ),
          ).toBeLessThan(1e-6);
          if (!(quoted[t] && (t === 0 || quoted[t - 1]))) continue;
          expect(merged.parent.grossExposureCurve[t] as number).toBeLessThanOrEqual(
            cohortCap + priceMoveSlack(session, merged.agents, t) + CENT,
          );
          for (const shard of shards) {
            expect(shard.grossExposureCurve[t] as number).toBeLessThanOrEqual(
              shard.aggregateCapUsd + priceMoveSlack(session, shard.agents, t) + CENT,
            );
          }
        }

        // Assess: at the end, parent equity = bankroll + Σ (realized + unrealized − fees).
        const pnl = merged.agents.reduce(
          (sum, a) => sum + a.realizedPnlUsd + a.unrealizedPnlUsd - a.feesUsd,
          0,
        );
        expect(
          Math.abs((merged.parent.equityCurve.at(-1) as number) - (config.bankrollUsd + pnl)),
        ).toBeLessThan(1e-6);
      }),
      { numRuns: 40 },
    );
    expect(clipped).toBeGreaterThan(0);
  });
});

describe('mergeCohortShards', () => {
  const s: Scenario = {
    sessionSeed: 11,
    genomeSeed: 5,
    symbols: ['SPY', 'BAC', 'AIG'],
    bars: 90,
    quoteGap: 0,
    volatility: 0.003,
    bankrollUsd: 1_000,
    agentCount: 10,
    shards: 3,
    allocation: 'equal',
    maxAgentLeverage: 2,
    maxAggregateExposure: 1,
    sigma: 0.01,
  };

  it('returns the unsharded result shape, agents in cohort order, and records each shard', () => {
    // Prepare / Act
    const { unsharded, merged } = runBoth(s);

    // Assess
    for (const key of Object.keys(unsharded)) expect(merged).toHaveProperty(key);
    expect(merged.config).toEqual(unsharded.config);
    expect(merged.timestamps).toEqual(unsharded.timestamps);
    expect(merged.agents.map((a) => a.agentId)).toEqual(
      Array.from({ length: 10 }, (_, i) => cohortAgentId(i)),
    );
    expect(merged.sharding.shards.map((x) => [x.firstAgentId, x.lastAgentId])).toEqual([
      ['a0001', 'a0004'],
      ['a0005', 'a0008'],
      ['a0009', 'a0010'],
    ]);
    const allocated = merged.agents.reduce((sum, a) => sum + a.allocationUsd, 0);
    expect(merged.sharding.shards.reduce((sum, x) => sum + x.allocationUsd, 0)).toBeCloseTo(
      allocated,
      9,
    );
  });

  it('does not depend on the order the shards come back in', () => {
    // Prepare
    const { plan, shards, merged } = runBoth(s);

    // Act
    const reversed = mergeCohortShards(plan, [...shards].reverse());

    // Assess
    expect(reversed).toEqual(merged);
  });

  it.each([
    ['a missing shard', (xs: CohortShardResult[]) => xs.slice(1), /a0001 is in no shard/],
    [
      'a shard twice',
      (xs: CohortShardResult[]) => [...xs, xs[0] as CohortShardResult],
      /two shards/,
    ],
    [
      'a shard of another cohort',
      (xs: CohortShardResult[]) => [
        { ...(xs[0] as CohortShardResult), cohortId: 'other' },
        ...xs.slice(1),
      ],
      /not part of c/,
    ],
    [
      'a shard of another session',
      (xs: CohortShardResult[]) => [
        { ...(xs[0] as CohortShardResult), timestamps: [] },
        ...xs.slice(1),
      ],
      /different sessions/,
    ],
    ['no shard at all', () => [], /no shard/],
  ])('rejects %s with ValidationError(shards)', (_label, tamper, message) => {
    // Prepare
    const { plan, shards } = runBoth(s);

    // Act / Assess
    const merge = () => mergeCohortShards(plan, tamper(shards));
    expect(merge).toThrow(ValidationError);
    expect(merge).toThrow(message);
  });
});

describe('planCohortShards and simulateCohortShard', () => {
  const genomes = seedGenomePool(6, ['SPY', 'BAC'], 3);
  const config = parseCohortConfig({
    bankrollUsd: 1_000,
    agentCount: 6,
    allocation: 'risk-weighted',
  });
  const plan: CohortShardPlan = planCohortShards({
    cohortId: 'c',
    genomes,
    config,
    riskEstimates: { SPY: 0.01, BAC: 0.02 },
    shardAgents: 4,
  });

  it('splits the bankroll once for the whole cohort', () => {
    // Prepare
    const session = randomSession(1, { symbols: ['SPY', 'BAC'], bars: 30 });

    // Act
    const unsharded = simulateCohort({
      cohortId: 'c',
      session,
      genomes,
      config,
      riskEstimates: { SPY: 0.01, BAC: 0.02 },
    });

    // Assess
    expect(plan.allocationPolicyApplied).toBe('risk-weighted');
    expect(plan.allocationsUsd).toEqual(unsharded.agents.map((a) => a.allocationUsd));
    expect(plan.unallocatedCashUsd).toBe(unsharded.parent.unallocatedCashUsd);
  });

  it('gives a shard the ceiling maxAggregateExposure × its allocations and cohort-wide agent ids', () => {
    // Prepare
    const session = randomSession(2, { symbols: ['SPY', 'BAC'], bars: 30 });

    // Act
    const shard = simulateCohortShard({ plan, session, agentIndices: [5, 4] });

    // Assess
    const allocation = (plan.allocationsUsd[4] as number) + (plan.allocationsUsd[5] as number);
    expect(shard.agentIndices).toEqual([4, 5]);
    expect(shard.agents.map((a) => a.agentId)).toEqual(['a0005', 'a0006']);
    expect(shard.agents.map((a) => a.allocationUsd)).toEqual([
      plan.allocationsUsd[4],
      plan.allocationsUsd[5],
    ]);
    expect(shard.allocationUsd).toBeCloseTo(allocation, 9);
    expect(shard.aggregateCapUsd).toBeCloseTo(config.maxAggregateExposure * allocation, 9);
  });

  it.each([
    [[], /needs an agent/],
    [[6], /not an agent/],
    [[-1], /not an agent/],
    [[1.5], /not an agent/],
    [[2, 2], /appears twice/],
  ])('rejects agent indices %j with ValidationError(agentIndices)', (agentIndices, message) => {
    // Prepare
    const session = randomSession(2, { symbols: ['SPY', 'BAC'], bars: 10 });

    // Act / Assess
    const run = () => simulateCohortShard({ plan, session, agentIndices });
    expect(run).toThrow(ValidationError);
    expect(run).toThrow(message);
  });

  it.each([0, 1.5, 1_001])('rejects shardAgents %s', (shardAgents) => {
    expect(() => planCohortShards({ cohortId: 'c', genomes, config, shardAgents })).toThrow(
      /shardAgents/,
    );
  });

  it('rejects a genome count other than config.agentCount', () => {
    expect(() =>
      planCohortShards({ cohortId: 'c', genomes: genomes.slice(1), config, shardAgents: 2 }),
    ).toThrow(/expected config.agentCount = 6/);
  });
});

describe('partitionAgents', () => {
  it('cuts 600 agents into shards of 250, 250 and 100, in order', () => {
    // Act
    const shards = partitionAgents(600, 250);

    // Assess
    expect(shards.map((s) => s.length)).toEqual([250, 250, 100]);
    expect(shards.flat()).toEqual(Array.from({ length: 600 }, (_, i) => i));
  });

  it('covers every agent exactly once for any size (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000 }),
        fc.integer({ min: 1, max: 1_000 }),
        (agents, size) => {
          const shards = partitionAgents(agents, size);
          expect(shards.flat()).toEqual(Array.from({ length: agents }, (_, i) => i));
          expect(shards.every((s) => s.length >= 1 && s.length <= size)).toBe(true);
          expect(shards.length).toBe(Math.ceil(agents / size));
        },
      ),
    );
  });
});
