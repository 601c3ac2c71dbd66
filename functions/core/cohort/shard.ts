/**
 * Sharded cohorts: a cohort too large for one Lambda invocation runs as shards (disjoint sets
 * of its agents) simulated in parallel, then merged into ONE {@link SimulationResult} of the
 * same shape as an unsharded run, so scoring and everything after it are unchanged
 * (`statemachines/intraday-cohort.asl.json`, `docs/scale.md`).
 *
 * Identical to the unsharded run: the genomes, the allocation (computed ONCE for the whole
 * cohort by {@link planCohortShards}, never per shard), the parent wallet's unallocated cash,
 * the session, each agent's strategy, fill model and leverage ceiling.
 *
 * Different: the aggregate exposure ceiling. Shards run in parallel and cannot see each
 * other's positions, so each shard enforces the ceiling on its share of the bankroll:
 *
 *     shard ceiling_k = maxAggregateExposure × Σ_{i ∈ shard k} allocation_i
 *     Σ_k shard ceiling_k = maxAggregateExposure × (bankroll − unallocated cash)
 *                        <= maxAggregateExposure × bankroll   (the cohort ceiling)
 *
 * so the cohort ceiling still holds on the merged curve, and is strictly tighter: headroom a
 * shard leaves unused cannot be taken by an agent of another shard. An agent whose orders are
 * never clipped by the aggregate ceiling and who is never reduced by its drift rule, in either
 * run, trades exactly as in the unsharded run (same fills, same equity curve): nothing else in
 * the simulator couples agents. Which agent of a minute reaches the aggregate headroom first
 * (the rotated execution order) is decided within a shard.
 */
import { ValidationError } from '../errors.js';
import type { MarketSession } from '../market/types.js';
import { allocateBankroll } from './allocation.js';
import { type AllocationPolicy, type CohortConfig, parseCohortConfig } from './config.js';
import { type Genome, validateGenome } from './genome.js';
import {
  type AgentResult,
  type SimulateCohortInput,
  type SimulationResult,
  simulateCohort,
} from './simulate.js';

/** Largest shard: a cohort has at most 1,000 agents (`config.ts`). */
const MAX_SHARD_AGENTS = 1_000;

/**
 * The plan of a sharded cohort, decided once for the whole cohort and stored as an artifact
 * (claim check) that every shard and the merge read.
 */
export interface CohortShardPlan {
  readonly cohortId: string;
  /** The cohort's config (agentCount = all agents, not one shard's). */
  readonly config: CohortConfig;
  /** Most agents per shard (the fan-out's batch size), 1..1,000. */
  readonly shardAgents: number;
  /** One genome per agent; agent `i` (id `a<i+1>`) trades `genomes[i]`. */
  readonly genomes: Genome[];
  /** One allocation per agent, USD (whole cents), from the whole cohort's allocation. */
  readonly allocationsUsd: number[];
  /** Bankroll minus Σ allocations, USD: the parent wallet's cash, the same for every shard. */
  readonly unallocatedCashUsd: number;
  /** The allocation policy applied (`risk-weighted` may fall back to `equal`). */
  readonly allocationPolicyApplied: AllocationPolicy;
}

/** One shard's simulated session (stored as an artifact, then merged). */
export interface CohortShardResult {
  readonly cohortId: string;
  readonly sessionDate: string;
  readonly market: SimulationResult['market'];
  /** Session open, epoch ms UTC. */
  readonly sessionOpenMs: number;
  readonly symbols: string[];
  /** Minute starts, epoch ms UTC (identical in every shard of a cohort). */
  readonly timestamps: number[];
  /** The shard's agents (indices into the plan's genomes), ascending. */
  readonly agentIndices: number[];
  /** Σ of the shard's allocations, USD. */
  readonly allocationUsd: number;
  /** The shard's aggregate ceiling: maxAggregateExposure × `allocationUsd`, USD. */
  readonly aggregateCapUsd: number;
  /** Σ of the shard's agent equity after each minute, USD. */
  readonly equityCurve: number[];
  /** Σ of the shard's agent gross exposure after each minute, USD. */
  readonly grossExposureCurve: number[];
  /** The shard's agents, ids numbered in the whole cohort (`a0251`, ...). */
  readonly agents: AgentResult[];
}

/** One shard as recorded in the merged result. */
export interface ShardSummary {
  readonly firstAgentId: string;
  readonly lastAgentId: string;
  readonly agentCount: number;
  /** Σ of the shard's allocations, USD. */
  readonly allocationUsd: number;
  /** The ceiling the shard enforced, USD. */
  readonly aggregateCapUsd: number;
}

/** A merged sharded run: a {@link SimulationResult} plus how it was sharded. */
export interface ShardedSimulationResult extends SimulationResult {
  readonly sharding: {
    readonly shardAgents: number;
    /** Ordered by first agent. */
    readonly shards: ShardSummary[];
  };
}

/** Agent id of agent index `i`, as `simulate.ts` numbers agents: `a0001` for 0. */
export function cohortAgentId(i: number): string {
  return `a${String(i + 1).padStart(4, '0')}`;
}

/**
 * Splits agent indices 0..agentCount−1 into consecutive shards of at most `shardAgents`
 * (what the Distributed Map's ItemBatcher does with the plan's items, in order).
 *
 * @throws ValidationError('shardAgents') unless an integer in 1..1,000;
 *   ValidationError('agentCount') unless a non-negative integer.
 */
export function partitionAgents(agentCount: number, shardAgents: number): number[][] {
  checkShardAgents(shardAgents);
  if (!Number.isInteger(agentCount) || agentCount < 0) {
    throw new ValidationError('agentCount', `must be a non-negative integer, got ${agentCount}`);
  }
  const shards: number[][] = [];
  for (let start = 0; start < agentCount; start += shardAgents) {
    const end = Math.min(agentCount, start + shardAgents);
    shards.push(Array.from({ length: end - start }, (_, j) => start + j));
  }
  return shards;
}

function checkShardAgents(shardAgents: number): void {
  if (!Number.isInteger(shardAgents) || shardAgents < 1 || shardAgents > MAX_SHARD_AGENTS) {
    throw new ValidationError(
      'shardAgents',
      `must be an integer between 1 and ${MAX_SHARD_AGENTS} agents, got ${shardAgents}`,
    );
  }
}

/**
 * Plans a sharded cohort: validates the config and the genomes and splits the bankroll ONCE
 * for the whole cohort with `config.allocation` (`allocation.ts`), exactly as an unsharded
 * {@link simulateCohort} would.
 *
 * @param input.riskEstimates daily return standard deviation per symbol, fraction.
 * @throws ValidationError: `config.<field>`; `genomes` when their number differs from
 *   `config.agentCount`; `genomes[i]...` for an invalid genome; `shardAgents` unless an
 *   integer in 1..1,000.
 */
export function planCohortShards(input: {
  readonly cohortId: string;
  readonly genomes: readonly Genome[];
  readonly config: CohortConfig;
  readonly riskEstimates?: Readonly<Record<string, number>>;
  readonly shardAgents: number;
}): CohortShardPlan {
  const config = parseCohortConfig(input.config);
  checkShardAgents(input.shardAgents);
  if (input.genomes.length !== config.agentCount) {
    throw new ValidationError(
      'genomes',
      `expected config.agentCount = ${config.agentCount} genomes (one agent each), got ${input.genomes.length}`,
    );
  }
  const genomes = input.genomes.map((g, i) => validateGenome(g, `genomes[${i}]`));
  const allocation = allocateBankroll(
    config.bankrollUsd,
    config.allocation,
    genomes.map((g) => ({ symbol: g.symbol, riskFraction: g.params.riskFraction as number })),
    input.riskEstimates,
  );
  return {
    cohortId: input.cohortId,
    config,
    shardAgents: input.shardAgents,
    genomes,
    allocationsUsd: allocation.allocationsUsd,
    unallocatedCashUsd: allocation.unallocatedUsd,
    allocationPolicyApplied: allocation.policyApplied,
  };
}

/** Ascending, distinct agent indices within 0..agentCount−1; throws ValidationError otherwise. */
function checkAgentIndices(indices: readonly number[], agentCount: number): number[] {
  if (indices.length === 0) throw new ValidationError('agentIndices', 'a shard needs an agent');
  const sorted = [...indices].sort((a, b) => a - b);
  sorted.forEach((i, k) => {
    if (!Number.isInteger(i) || i < 0 || i >= agentCount) {
      throw new ValidationError(
        'agentIndices',
        `${i} is not an agent of this cohort (0..${agentCount - 1})`,
      );
    }
    if (k > 0 && sorted[k - 1] === i) {
      throw new ValidationError('agentIndices', `agent ${i} appears twice`);
    }
  });
  return sorted;
}

/**
 * Simulates one shard: the plan's agents at `agentIndices`, each with its planned allocation,
 * under the shard's aggregate ceiling (maxAggregateExposure × Σ shard allocations, see the
 * module comment) and the cohort's other settings, over `session`.
 *
 * Cost: O(shard agents × minutes), the same engine as {@link simulateCohort}.
 *
 * @throws ValidationError('agentIndices') when empty, out of range or repeated; the
 *   simulator's ValidationErrors (session shape, a genome's symbol not in the session).
 */
export function simulateCohortShard(input: {
  readonly plan: CohortShardPlan;
  readonly session: MarketSession;
  readonly agentIndices: readonly number[];
}): CohortShardResult {
  const { plan, session } = input;
  const config = parseCohortConfig(plan.config);
  const indices = checkAgentIndices(input.agentIndices, plan.genomes.length);
  const allocationsUsd = indices.map((i) => plan.allocationsUsd[i] as number);
  const allocationUsd = allocationsUsd.reduce((sum, a) => sum + a, 0);
  const aggregateCapUsd = config.maxAggregateExposure * allocationUsd;
  // The bankroll stays the cohort's (the parent wallet checks Σ allocations against it); the
  // ceiling the engine derives, maxAggregateExposure' × bankroll, is the shard's.
  const shardInput: SimulateCohortInput & { readonly allocationsUsd: readonly number[] } = {
    cohortId: plan.cohortId,
    session,
    genomes: indices.map((i) => plan.genomes[i] as Genome),
    config: {
      ...config,
      agentCount: indices.length,
      maxAggregateExposure: aggregateCapUsd / config.bankrollUsd,
    },
    allocationsUsd,
  };
  const result = simulateCohort(shardInput);
  const bars = result.timestamps.length;
  const equityCurve = new Array<number>(bars).fill(0);
  const grossExposureCurve = new Array<number>(bars).fill(0);
  const agents = result.agents.map((agent, j) => {
    for (let t = 0; t < bars; t++) {
      equityCurve[t] = (equityCurve[t] as number) + (agent.equityCurve[t] as number);
      grossExposureCurve[t] =
        (grossExposureCurve[t] as number) + (agent.grossExposureCurve[t] as number);
    }
    return { ...agent, agentId: cohortAgentId(indices[j] as number) };
  });
  return {
    cohortId: plan.cohortId,
    sessionDate: result.sessionDate,
    market: result.market,
    sessionOpenMs: result.sessionOpenMs,
    symbols: result.symbols,
    timestamps: result.timestamps,
    agentIndices: indices,
    allocationUsd,
    aggregateCapUsd,
    equityCurve,
    grossExposureCurve,
    agents,
  };
}

function sameTimestamps(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/**
 * Merges the shards of a planned cohort into one result of the unsharded shape: agents in
 * cohort order, the config and allocation policy of the plan, and the parent wallet
 *
 *     parent equity_t = unallocated cash + Σ_shards Σ_agents equity_t
 *     parent gross_t  = Σ_shards Σ_agents gross exposure_t
 *
 * (the identity of `wallet.ts`), so cash is conserved exactly as in an unsharded run.
 *
 * @throws ValidationError('shards') when there is no shard, a shard belongs to another cohort
 *   or session (timestamps differ), or the shards do not cover every agent exactly once.
 */
export function mergeCohortShards(
  plan: CohortShardPlan,
  shards: readonly CohortShardResult[],
): ShardedSimulationResult {
  const ordered = [...shards].sort((a, b) => (a.agentIndices[0] ?? 0) - (b.agentIndices[0] ?? 0));
  const first = ordered[0];
  if (!first) throw new ValidationError('shards', 'no shard to merge');
  const n = plan.genomes.length;
  const agents = new Array<AgentResult | undefined>(n).fill(undefined);
  for (const shard of ordered) {
    if (shard.cohortId !== plan.cohortId) {
      throw new ValidationError(
        'shards',
        `a shard of ${shard.cohortId} is not part of ${plan.cohortId}`,
      );
    }
    if (
      shard.sessionDate !== first.sessionDate ||
      !sameTimestamps(shard.timestamps, first.timestamps)
    ) {
      throw new ValidationError('shards', 'shards simulated different sessions');
    }
    shard.agentIndices.forEach((i, j) => {
      if (!(i >= 0 && i < n) || agents[i] !== undefined) {
        throw new ValidationError(
          'shards',
          `agent index ${i} is outside the cohort or in two shards`,
        );
      }
      agents[i] = shard.agents[j];
    });
  }
  const missing = agents.indexOf(undefined);
  if (missing >= 0) {
    throw new ValidationError('shards', `agent ${cohortAgentId(missing)} is in no shard`);
  }
  const bars = first.timestamps.length;
  const equityCurve = new Array<number>(bars);
  const grossExposureCurve = new Array<number>(bars);
  for (let t = 0; t < bars; t++) {
    let equity = 0;
    let gross = 0;
    for (const shard of ordered) {
      equity += shard.equityCurve[t] as number;
      gross += shard.grossExposureCurve[t] as number;
    }
    equityCurve[t] = plan.unallocatedCashUsd + equity;
    grossExposureCurve[t] = gross;
  }
  return {
    cohortId: plan.cohortId,
    sessionDate: first.sessionDate,
    market: first.market,
    sessionOpenMs: first.sessionOpenMs,
    bankrollUsd: plan.config.bankrollUsd,
    config: plan.config,
    allocationPolicyApplied: plan.allocationPolicyApplied,
    symbols: first.symbols,
    timestamps: first.timestamps,
    parent: { unallocatedCashUsd: plan.unallocatedCashUsd, equityCurve, grossExposureCurve },
    agents: agents as AgentResult[],
    sharding: {
      shardAgents: plan.shardAgents,
      shards: ordered.map((shard) => ({
        firstAgentId: cohortAgentId(shard.agentIndices[0] as number),
        lastAgentId: cohortAgentId(shard.agentIndices.at(-1) as number),
        agentCount: shard.agentIndices.length,
        allocationUsd: shard.allocationUsd,
        aggregateCapUsd: shard.aggregateCapUsd,
      })),
    },
  };
}
