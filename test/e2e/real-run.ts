/**
 * Builds a run-report input from a REAL run: 30 agents, bankroll 1,000 USD, over real LEAN
 * minute bars (SPY/BAC/AIG/IBM) read in place from the shared data root, simulated with
 * `simulateCohort` and scored with `scoreCohort`. The last day also gets the gate outcomes of
 * its best agent (real `evaluateGates` with the observations a cohort gives: kill switch off,
 * drawdowns, trade count, capital; the others are missing and fail closed) and a promotion
 * with fixture paper orders; the learning history is a fixture too.
 */
import { FileSystemBlobSource } from '../../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../../functions/adapters/market-data/lean-market-data.js';
import { parseCohortConfig } from '../../functions/core/cohort/config.js';
import { seedGenomePool } from '../../functions/core/cohort/genome.js';
import { simulateCohort } from '../../functions/core/cohort/simulate.js';
import { evaluateGates } from '../../functions/core/gates/evaluate.js';
import { DEFAULT_GATE_THRESHOLDS } from '../../functions/core/gates/thresholds.js';
import type { ReportDay, RunReportInput } from '../../functions/core/report/render.js';
import { scoreCohort } from '../../functions/core/scoring/score.js';
import { DATA_ROOT } from '../support/paths.js';

export const REAL_SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'];

/** Simulates and scores one cohort per date (`agents` agents, seed 7) on real bars. */
export async function realRunInput(dates: readonly string[], agents = 30): Promise<RunReportInput> {
  const marketData = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));
  const config = parseCohortConfig({ bankrollUsd: 1_000, agentCount: agents, seed: 7 });
  const genomes = seedGenomePool(agents, REAL_SYMBOLS, config.seed);
  const days: ReportDay[] = [];
  for (const date of dates) {
    const session = await marketData.loadSession(date, REAL_SYMBOLS);
    const cohortId = `coh-${date}`;
    const simulation = simulateCohort({ cohortId, session, genomes, config });
    const score = scoreCohort(simulation);
    days.push({ sessionDate: date, cohortId, simulation, score });
  }
  const last = days.at(-1);
  if (last) {
    const best = last.score.leaderboard[0];
    if (best) {
      const gates = evaluateGates(
        {
          nowMs: last.simulation.sessionOpenMs + 7 * 3_600_000,
          capitalUsd: last.score.bankrollUsd,
          killSwitch: { state: 'off' },
          drawdown: {
            parentDrawdownFraction: last.score.parent.maxDrawdownFraction,
            agentDrawdownFraction: best.maxDrawdownFraction,
          },
          risk: undefined,
          positionsAfterTrade: undefined,
          leverage: undefined,
          trades: { tradeCount: best.tradeCount },
          liquidity: undefined,
          staleness: undefined,
          window: undefined,
        },
        DEFAULT_GATE_THRESHOLDS,
      ).results;
      days[days.length - 1] = {
        ...last,
        gates,
        promotion: {
          candidateAgentId: best.agentId,
          orders: [
            {
              clientOrderId: `sg-${last.cohortId}-${best.agentId}-1`,
              symbol: best.symbol,
              side: 'buy',
              qty: 2,
              status: 'filled',
              filledQty: 2,
              filledAvgPriceUsd: 168.42,
            },
            {
              clientOrderId: `sg-${last.cohortId}-${best.agentId}-2`,
              symbol: best.symbol,
              side: 'sell',
              qty: 2,
              status: 'canceled',
              filledQty: 0,
              filledAvgPriceUsd: null,
            },
          ],
          reconciliation: 'clean',
        },
      };
    }
  }
  return {
    title: `stagegate run report: ${dates.join(', ')}`,
    generatedAtIso: '2013-10-09T21:00:00.000Z',
    environment: 'local',
    days,
    learning: [
      { generation: 0, bestFitness: 0.0012, meanFitness: -0.0004 },
      { generation: 1, bestFitness: 0.0019, meanFitness: 0.0001 },
      { generation: 2, bestFitness: 0.0024, meanFitness: 0.0006 },
    ],
  };
}
