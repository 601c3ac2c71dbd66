/**
 * One cohort over real minute bars (SPY/BAC/AIG/IBM on 2013-10-07, LEAN data read in place
 * from ../shared/data/lean through the LEAN loader). Reads files, so it is slower than the
 * other unit tests, but it touches no network and no server.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FileSystemBlobSource } from '../../../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { seedGenomePool } from '../../../functions/core/cohort/genome.js';
import { simulateCohort } from '../../../functions/core/cohort/simulate.js';
import { scoreCohort } from '../../../functions/core/scoring/score.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DATA_ROOT = path.resolve(REPO_ROOT, '../shared/data/lean');

describe('cohort over real data (SPY/BAC/AIG/IBM, 2013-10-07)', () => {
  it('simulates 30 agents on 1,000 USD, with differing results and a 30-row leaderboard', async () => {
    // Prepare
    const marketData = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));
    const session = await marketData.loadSession('2013-10-07', ['SPY', 'BAC', 'AIG', 'IBM']);
    const config = parseCohortConfig({ bankrollUsd: 1_000, agentCount: 30 });
    const genomes = seedGenomePool(30, session.symbols, config.seed);

    // Act
    const result = simulateCohort({ cohortId: 'coh-real', session, genomes, config });
    const score = scoreCohort(result);

    // Assess
    expect(result.timestamps).toHaveLength(390);
    expect(result.timestamps[0]).toBe(result.sessionOpenMs);
    expect(new Set(result.agents.map((a) => a.equityCurve.at(-1))).size).toBeGreaterThan(10);
    expect(result.agents.filter((a) => a.tradeCount > 0).length).toBeGreaterThan(15);
    expect(score.leaderboard.map((r) => r.rank)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    expect(new Set(score.leaderboard.map((r) => r.agentId)).size).toBe(30);
    expect(score.parent.totalPnlUsd).toBeCloseTo(
      (result.parent.equityCurve.at(-1) as number) - 1_000,
      6,
    );
    for (const agent of result.agents) {
      expect(agent.positions).toEqual([]);
      agent.grossExposureCurve.forEach((gross, t) => {
        expect(gross).toBeLessThanOrEqual(2 * Math.max(0, agent.equityCurve[t] as number) + 0.01);
      });
    }
    for (const gross of result.parent.grossExposureCurve)
      expect(gross).toBeLessThanOrEqual(1_000 + 0.01);
  });
});
