import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../../functions/core/errors.js';
import {
  readSimulation,
  scoreKeyOf,
  simulationKeyOf,
} from '../../../functions/core/use-cases/simulation-artifact.js';
import type { ArtifactStore } from '../../../functions/ports/artifact-store.js';

/** An in-memory artifact store that counts reads. */
function memoryStore(docs: Record<string, unknown>) {
  const reads: string[] = [];
  const store: ArtifactStore = {
    async putJson(key, document) {
      docs[key] = document;
      return { key, bytes: 0 };
    },
    async getJson(key) {
      reads.push(key);
      if (!(key in docs)) throw new NotFoundError('artifact', key);
      return structuredClone(docs[key]);
    },
  };
  return { store, reads };
}

const agent = (id: string) => ({ agentId: id, equityCurve: [1, 2], grossExposureCurve: [0, 1] });

describe('readSimulation', () => {
  it('returns an unsharded simulation as stored, in one read', async () => {
    // Prepare
    const sim = { cohortId: 'coh-1', agents: [agent('a0001')] };
    const { store, reads } = memoryStore({ 'k/simulation.sga': sim });

    // Act
    const back = await readSimulation(store, 'k/simulation.sga');

    // Assess
    expect(back).toEqual(sim);
    expect(reads).toEqual(['k/simulation.sga']);
  });

  it("assembles a sharded cohort's agents from its shard artifacts, in cohort order", async () => {
    // Prepare
    const { store } = memoryStore({
      'k/simulation.sga': {
        cohortId: 'coh-1',
        parent: { equityCurve: [3, 4] },
        agentsFrom: [
          { key: 'k/shards/a0001.sga', agentCount: 2 },
          { key: 'k/shards/a0003.sga', agentCount: 1 },
        ],
      },
      'k/shards/a0003.sga': { cohortId: 'coh-1', agents: [agent('a0003')] },
      'k/shards/a0001.sga': { cohortId: 'coh-1', agents: [agent('a0001'), agent('a0002')] },
    });

    // Act
    const back = await readSimulation(store, 'k/simulation.sga');

    // Assess
    expect(back.agents.map((a) => a.agentId)).toEqual(['a0001', 'a0002', 'a0003']);
    expect(back).not.toHaveProperty('agentsFrom');
    expect(back.parent.equityCurve).toEqual([3, 4]);
  });

  it('fails naming the shard when it does not hold the agents the merge recorded', async () => {
    // Prepare
    const { store } = memoryStore({
      's.sga': { cohortId: 'coh-1', agentsFrom: [{ key: 'x.sga', agentCount: 2 }] },
      'x.sga': { cohortId: 'coh-1', agents: [agent('a0001')] },
    });

    // Act / Assess
    await expect(readSimulation(store, 's.sga')).rejects.toThrow(ValidationError);
    await expect(readSimulation(store, 's.sga')).rejects.toThrow(/x\.sga/);
  });

  it('names the keys of a cohort: simulation and score side by side', () => {
    // Act
    const key = simulationKeyOf({ sessionDate: '2013-10-07', cohortId: 'coh-1' });

    // Assess
    expect(key).toBe('cohorts/2013-10-07/coh-1/simulation.sga');
    expect(scoreKeyOf(key)).toBe('cohorts/2013-10-07/coh-1/score.sga');
  });
});
