/**
 * Baselines: the fixed reference genomes every cohort also runs, so the evidence can say
 * whether the learned strategies beat doing the obvious thing on the same bars and costs.
 *
 * - `flat`: never trades; its session return is 0.
 * - `buy_and_hold` of each cohort symbol: the whole slice long from the session's first bar
 *   to the simulator's flatten (`strategies.ts`, `BuyAndHoldStrategy`).
 *
 * Each baseline is simulated ALONE, as a one-agent cohort inside the cohort's bankroll with the
 * slice an agent gets under the `equal` split (`equalAllocation(bankroll, agentCount)`), the
 * cohort's config (fees, slippage, fill model, leverage and exposure ceilings, flatten), and the
 * session's bars: the same exchange model as the agents, so a baseline's return is what a
 * genome holding that position would have earned net of the same costs. Running alone, a
 * baseline never takes headroom from an agent (the cohort's agents are unchanged by it).
 *
 * Baselines are not genomes of the pool: they are never seeded, bred, ranked on the
 * leaderboard or promoted. The Day-3 `baseline` gate (`gates/evidence.ts`) asks the candidate
 * to beat each of them out of sample. Pure.
 */
import type { MarketSession } from '../market/types.js';
import { equalAllocation } from './allocation.js';
import type { CohortConfig } from './config.js';
import { type BaselineFamily, type Genome, genomeId } from './genome.js';
import { simulateCohort } from './simulate.js';

/** One baseline's simulated session. */
export interface BaselineResult {
  readonly baseline: BaselineFamily;
  /** Symbol held (`buy_and_hold`); `null` for `flat`, which holds nothing. */
  readonly symbol: string | null;
  /** The slice it traded (an `equal` agent's), USD. */
  readonly allocationUsd: number;
  /** Realized + unrealized − fees, USD. */
  readonly totalPnlUsd: number;
  /** Fees paid, USD. */
  readonly feesUsd: number;
  /** totalPnlUsd / allocationUsd, fraction of the slice. */
  readonly sessionReturn: number;
  /** Fills, count. */
  readonly fillCount: number;
}

/** The baseline genomes of a cohort trading `symbols`: one `flat`, one `buy_and_hold` each. */
export function baselineGenomes(symbols: readonly string[]): Genome[] {
  const make = (family: BaselineFamily, symbol: string, params: Record<string, number>) => {
    const content = { family, symbol, generation: 0, parentIds: [], params };
    return { id: genomeId(content), ...content };
  };
  const first = symbols[0];
  return [
    ...(first === undefined ? [] : [make('flat', first, {})]),
    ...symbols.map((s) => make('buy_and_hold', s, { riskFraction: 1 })),
  ];
}

/**
 * Simulates every baseline of a cohort on `session` under `config` (see the module comment).
 *
 * @throws ValidationError from the simulator (a session without bars, a symbol not in it).
 */
export function simulateBaselines(input: {
  readonly cohortId: string;
  readonly session: MarketSession;
  readonly config: CohortConfig;
}): BaselineResult[] {
  const [slice] = equalAllocation(input.config.bankrollUsd, input.config.agentCount) as [number];
  return baselineGenomes(input.session.symbols).map((genome) => {
    const [agent] = simulateCohort({
      cohortId: `${input.cohortId}-baseline`,
      session: input.session,
      genomes: [genome],
      config: { ...input.config, agentCount: 1 },
      allocationsUsd: [slice],
    }).agents;
    const a = agent as NonNullable<typeof agent>;
    const totalPnlUsd = a.realizedPnlUsd + a.unrealizedPnlUsd - a.feesUsd;
    return {
      baseline: genome.family as BaselineFamily,
      symbol: genome.family === 'flat' ? null : genome.symbol,
      allocationUsd: a.allocationUsd,
      totalPnlUsd,
      feesUsd: a.feesUsd,
      sessionReturn: a.allocationUsd > 0 ? totalPnlUsd / a.allocationUsd : 0,
      fillCount: a.tradeCount,
    };
  });
}
