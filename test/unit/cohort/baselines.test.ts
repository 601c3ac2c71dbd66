/**
 * The baseline genomes of a cohort over real minute bars (SPY/BAC/AIG/IBM on 2013-10-08, LEAN
 * data read in place from ../shared/data/lean): same bars, same costs, same exchange model as
 * the agents.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FileSystemBlobSource } from '../../../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { baselineGenomes, simulateBaselines } from '../../../functions/core/cohort/baselines.js';
import { parseCohortConfig } from '../../../functions/core/cohort/config.js';
import { isBaselineFamily, seedGenomePool } from '../../../functions/core/cohort/genome.js';
import { simulateCohort } from '../../../functions/core/cohort/simulate.js';
import { GenomeGenerationSchema } from '../../../functions/core/learning/generation.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const DATA_ROOT = path.resolve(REPO_ROOT, '../shared/data/lean');
const SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];

describe('cohort baselines over real data (2013-10-08)', () => {
  it('runs flat and buy-and-hold of every symbol on the same bars and costs as an agent', async () => {
    // Prepare
    const marketData = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));
    const session = await marketData.loadSession('2013-10-08', SYMBOLS);
    const config = parseCohortConfig({ bankrollUsd: 1_000, agentCount: 30 });

    // Act
    const baselines = simulateBaselines({ cohortId: 'coh-b', session, config });

    // Assess: one flat, one buy-and-hold per symbol, each on an equal agent's slice (33.33 USD).
    expect(baselines.map((b) => [b.baseline, b.symbol])).toEqual([
      ['flat', null],
      ...SYMBOLS.map((s) => ['buy_and_hold', s]),
    ]);
    const flat = baselines[0];
    expect(flat).toMatchObject({ sessionReturn: 0, totalPnlUsd: 0, feesUsd: 0, fillCount: 0 });
    for (const b of baselines.slice(1)) {
      expect(b.allocationUsd).toBe(33.33);
      expect(b.fillCount).toBe(2); // in at the first quoted minute, out at the flatten
      expect(b.sessionReturn).toBeCloseTo(b.totalPnlUsd / 33.33, 12);
      expect(b.feesUsd).toBeGreaterThan(0);
    }
  });

  it('returns exactly what a genome holding the same position earns in the cohort simulator', async () => {
    // Prepare: the SPY buy-and-hold's own fills priced by hand from the simulator's fill list.
    const marketData = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));
    const session = await marketData.loadSession('2013-10-08', ['SPY']);
    const config = parseCohortConfig({ bankrollUsd: 1_000, agentCount: 1 });
    const [, spyGenome] = baselineGenomes(['SPY']);
    const sim = simulateCohort({
      cohortId: 'coh-h',
      session,
      genomes: [spyGenome as NonNullable<typeof spyGenome>],
      config,
    });
    const agent = sim.agents[0] as NonNullable<(typeof sim.agents)[0]>;
    const buy = agent.fills[0];
    const last = agent.fills.at(-1);

    // Act
    const [, spy] = simulateBaselines({ cohortId: 'coh-h', session, config });

    // Assess: flat at the end, PnL = Σ sells − Σ buys − Σ fees over the 1,000 USD slice.
    expect(buy?.side).toBe('buy');
    expect(last?.reason).toBe('flatten');
    expect(agent.positions).toEqual([]);
    const byHand = agent.fills.reduce(
      (pnl, f) => pnl + (f.side === 'sell' ? 1 : -1) * f.qty * f.priceUsd - f.feeUsd,
      0,
    );
    expect(spy?.fillCount).toBe(agent.fills.length);
    expect(spy?.totalPnlUsd).toBeCloseTo(byHand, 9);
    expect(spy?.sessionReturn).toBeCloseTo(byHand / 1_000, 12);
    expect(spy?.sessionReturn).toBeLessThan(0);
  });

  it('are never drawn by the seeded pool, and a stored pool generation refuses one', () => {
    const pool = seedGenomePool(200, SYMBOLS, 7);
    expect(pool.some((g) => isBaselineFamily(g.family))).toBe(false);
    const parsed = GenomeGenerationSchema.safeParse({ genomes: baselineGenomes(['SPY']) });
    expect(parsed.error?.issues.map((i) => i.message)).toContain(
      'a baseline (flat, buy_and_hold) is never a genome of the pool',
    );
  });
});
