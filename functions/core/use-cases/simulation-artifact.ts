/**
 * Reading a cohort's simulation artifact (`cohorts/<date>/<cohortId>/simulation.sga`), whichever
 * path wrote it:
 * - RunCohort (unsharded) stores the whole {@link SimulationResult};
 * - MergeCohortShards stores a {@link StoredShardedSimulation}: the merged result WITHOUT its
 *   agents, which stay in the shard artifacts they were simulated into (`agentsFrom`), so the
 *   agents' curves are stored once per cohort-day, not twice.
 */
import type { ArtifactStore } from '../../ports/artifact-store.js';
import type { CohortShardResult, ShardedSimulationResult } from '../cohort/shard.js';
import type { SimulationResult } from '../cohort/simulate.js';
import { ValidationError } from '../errors.js';

/** The merged simulation of a sharded cohort as stored (agents by reference). */
export interface StoredShardedSimulation extends Omit<ShardedSimulationResult, 'agents'> {
  /** The shard artifacts holding the agents, in cohort order (first agent ascending). */
  readonly agentsFrom: readonly { readonly key: string; readonly agentCount: number }[];
}

/** The artifact key of a cohort's simulation. */
export function simulationKeyOf(p: { sessionDate: string; cohortId: string }): string {
  return `cohorts/${p.sessionDate}/${p.cohortId}/simulation.sga`;
}

/** The artifact key of a cohort's score document, next to its simulation. */
export function scoreKeyOf(simulationKey: string): string {
  return simulationKey.replace(/simulation\.(sga|json)$/, 'score.sga');
}

/**
 * The full {@link SimulationResult} at `key`: read as stored, or (sharded cohort) assembled
 * from the merged document and its shard artifacts (read in parallel), agents in cohort order.
 *
 * @throws NotFoundError (an artifact missing), ValidationError('simulation') when a shard
 *   belongs to another cohort or does not hold the agents the merge recorded.
 */
export async function readSimulation(
  artifacts: ArtifactStore,
  key: string,
): Promise<SimulationResult> {
  const doc = (await artifacts.getJson(key)) as SimulationResult | StoredShardedSimulation;
  if (!('agentsFrom' in doc)) return doc;
  const { agentsFrom, ...merged } = doc;
  const shards = await Promise.all(
    agentsFrom.map(async (s) => (await artifacts.getJson(s.key)) as CohortShardResult),
  );
  const agents = shards.flatMap((shard, i) => {
    const ref = agentsFrom[i] as StoredShardedSimulation['agentsFrom'][number];
    if (shard.cohortId !== doc.cohortId || shard.agents.length !== ref.agentCount) {
      throw new ValidationError(
        'simulation',
        `${ref.key} does not hold the ${ref.agentCount} agents of ${doc.cohortId} the merge recorded`,
      );
    }
    return shard.agents;
  });
  return { ...merged, agents };
}
