/**
 * Use cases behind the sharded path of the intraday-cohort state machine (cohorts larger than
 * one Lambda's budget, `docs/scale.md`): plan (genomes + one allocation for the whole cohort)
 * -> run one shard per Distributed Map child -> merge into the simulation artifact RunCohort
 * would have written, so ScoreCohort and everything after it are unchanged.
 *
 * Artifacts (claim check), under `cohorts/<sessionDate>/<cohortId>/`:
 * `shards/plan.sga` (the {@link CohortShardPlan}), `shards/<first agent id>.sga` (one
 * {@link CohortShardResult} per shard) and `simulation.sga` (the merged result without its
 * agents, which stay in the shard artifacts: {@link StoredShardedSimulation}; read it with
 * `readSimulation`). Every key is a function of the execution's cohort and the shard's agents,
 * so a retried step rewrites the same document.
 */
import * as z from 'zod';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import type { Clock } from '../../ports/clock.js';
import type { GenomePoolRepository } from '../../ports/genome-pool.js';
import type { MarketDataPort } from '../../ports/market-data.js';
import {
  type CohortShardPlan,
  type CohortShardResult,
  cohortAgentId,
  mergeCohortShards,
  planCohortShards,
  simulateCohortShard,
} from '../cohort/shard.js';
import { ValidationError } from '../errors.js';
import {
  genomesFor,
  loadPreparedSession,
  type PreparedCohort,
  type RunOutput,
} from './intraday-cohort.js';
import { type StoredShardedSimulation, simulationKeyOf } from './simulation-artifact.js';

/** Output of the plan step (small: the plan itself is an artifact). */
export interface ShardPlanOutput {
  readonly cohortId: string;
  readonly planKey: string;
  readonly agentCount: number;
  /** Most agents per shard (the Distributed Map's MaxItemsPerBatch). */
  readonly shardAgents: number;
  /** Shards the fan-out will run: ⌈agentCount / shardAgents⌉. */
  readonly shardCount: number;
  /** Agent indices 0..agentCount−1: the Distributed Map's items, batched into shards. */
  readonly items: number[];
  readonly genomeGeneration: number;
  readonly genomeSource: 'pool' | 'seeded';
}

/** Output of one shard step. */
export interface ShardRunOutput {
  readonly cohortId: string;
  readonly shardKey: string;
  readonly firstAgentId: string;
  readonly agentCount: number;
  /** Shard agents × session minutes. */
  readonly agentBars: number;
}

function cohortPrefix(prepared: Pick<PreparedCohort, 'sessionDate' | 'cohortId'>): string {
  return `cohorts/${prepared.sessionDate}/${prepared.cohortId}`;
}

/**
 * Plan step: takes the agents' genomes from the pool ONCE (see `genomesFor`; a shard never
 * reads the pool, so a learning cycle finishing mid-run cannot mix generations), splits the
 * bankroll once for the whole cohort, stores the {@link CohortShardPlan} (genomes +
 * allocations, under 300 KB for 1,000 agents) and returns the agent indices as the fan-out's
 * items.
 *
 * @throws ValidationError (`shardAgents`, a genome), the genome pool's errors.
 */
export async function planCohortShardsStep(
  deps: {
    readonly artifacts: ArtifactStore;
    readonly genomePool: GenomePoolRepository;
    readonly clock: Clock;
  },
  input: { readonly prepared: PreparedCohort; readonly shardAgents: number },
): Promise<ShardPlanOutput> {
  const { prepared, shardAgents } = input;
  const { genomes, generation, source } = await genomesFor(deps, prepared);
  const plan = planCohortShards({
    cohortId: prepared.cohortId,
    genomes,
    config: prepared.config,
    riskEstimates: prepared.riskEstimates,
    shardAgents,
  });
  const planKey = `${cohortPrefix(prepared)}/shards/plan.sga`;
  await deps.artifacts.putJson(planKey, plan);
  const agentCount = plan.genomes.length;
  return {
    cohortId: prepared.cohortId,
    planKey,
    agentCount,
    shardAgents,
    shardCount: Math.ceil(agentCount / shardAgents),
    items: Array.from({ length: agentCount }, (_, i) => i),
    genomeGeneration: generation,
    genomeSource: source,
  };
}

/** Reads the plan and checks it belongs to this execution's cohort. */
async function readPlan(
  artifacts: ArtifactStore,
  prepared: PreparedCohort,
  planKey: string,
): Promise<CohortShardPlan> {
  const plan = (await artifacts.getJson(planKey)) as CohortShardPlan;
  if (plan.cohortId !== prepared.cohortId) {
    throw new ValidationError('planKey', `${planKey} is the plan of ${plan.cohortId}`);
  }
  return plan;
}

/**
 * Shard step (one Distributed Map child): simulates the plan's agents at `agentIndices` over
 * the session under the shard's aggregate ceiling and stores the {@link CohortShardResult}.
 *
 * @throws NotFoundError (plan artifact missing), ValidationError (`agentIndices`, `planKey`),
 *   the market-data port's errors.
 */
export async function runCohortShardStep(
  deps: { readonly marketData: MarketDataPort; readonly artifacts: ArtifactStore },
  input: {
    readonly prepared: PreparedCohort;
    readonly planKey: string;
    readonly agentIndices: readonly number[];
  },
): Promise<ShardRunOutput> {
  const { prepared } = input;
  const plan = await readPlan(deps.artifacts, prepared, input.planKey);
  const session = await loadPreparedSession(deps.marketData, prepared);
  const shard = simulateCohortShard({ plan, session, agentIndices: input.agentIndices });
  const firstAgentId = cohortAgentId(shard.agentIndices[0] as number);
  const shardKey = `${cohortPrefix(prepared)}/shards/${firstAgentId}.sga`;
  await deps.artifacts.putJson(shardKey, shard);
  return {
    cohortId: prepared.cohortId,
    shardKey,
    firstAgentId,
    agentCount: shard.agentIndices.length,
    agentBars: shard.agentIndices.length * shard.timestamps.length,
  };
}

/**
 * Merge step: reads the plan and every shard, merges them (`mergeCohortShards`: validates
 * that the shards cover the cohort exactly once, sums the parent wallet's curves) and stores
 * the merged result at the key RunCohort uses, WITHOUT the agents: they stay in the shard
 * artifacts, referenced in cohort order (`readSimulation` assembles them), so each agent's
 * curves are stored once. Returns RunCohort's output shape.
 *
 * @throws NotFoundError (an artifact missing), ValidationError (`shards`: the shards do not
 *   cover the cohort exactly once, or belong to another cohort or session).
 */
export async function mergeCohortShardsStep(
  deps: { readonly artifacts: ArtifactStore },
  input: {
    readonly prepared: PreparedCohort;
    readonly plan: ShardPlanOutput;
    readonly shards: readonly ShardRunOutput[];
  },
): Promise<RunOutput> {
  const { prepared } = input;
  const [plan, shards] = await Promise.all([
    readPlan(deps.artifacts, prepared, input.plan.planKey),
    Promise.all(
      input.shards.map(async (s) => ({
        key: s.shardKey,
        shard: (await deps.artifacts.getJson(s.shardKey)) as CohortShardResult,
      })),
    ),
  ]);
  const { agents, ...merged } = mergeCohortShards(
    plan,
    shards.map((s) => s.shard),
  );
  const stored: StoredShardedSimulation = {
    ...merged,
    agentsFrom: [...shards]
      .sort((a, b) => (a.shard.agentIndices[0] ?? 0) - (b.shard.agentIndices[0] ?? 0))
      .map((s) => ({ key: s.key, agentCount: s.shard.agents.length })),
  };
  const simulationKey = simulationKeyOf(prepared);
  await deps.artifacts.putJson(simulationKey, stored);
  return {
    cohortId: prepared.cohortId,
    simulationKey,
    agentCount: agents.length,
    agentBars: agents.length * merged.timestamps.length,
    genomeGeneration: input.plan.genomeGeneration,
    genomeSource: input.plan.genomeSource,
  };
}

/** Validates a {@link ShardPlanOutput} coming back from the state machine. */
export const ShardPlanOutputSchema = z.object({
  cohortId: z.string().min(1),
  planKey: z.string().min(1),
  agentCount: z.number().int().positive(),
  shardAgents: z.number().int().positive(),
  shardCount: z.number().int().positive(),
  items: z.array(z.number().int().min(0)),
  genomeGeneration: z.number().int().min(0),
  genomeSource: z.enum(['pool', 'seeded']),
});

/** Validates a {@link ShardRunOutput} coming back from the state machine. */
export const ShardRunOutputSchema = z.object({
  cohortId: z.string().min(1),
  shardKey: z.string().min(1),
  firstAgentId: z.string().min(1),
  agentCount: z.number().int().positive(),
  agentBars: z.number().int().min(0),
});

/** Most agents per shard accepted from the state machine: 1..1,000 (the cohort maximum). */
export const ShardAgentsSchema = z.number().int().min(1).max(1_000);
