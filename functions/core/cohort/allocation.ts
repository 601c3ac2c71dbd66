/**
 * Allocation policies: how the parent wallet splits the bankroll between agents.
 *
 * Both policies work in whole cents and round every allocation down, so the allocations add up
 * to at most the bankroll; the remainder (less than one cent per agent for `equal`) stays in
 * the parent wallet as unallocated cash.
 */
import { ValidationError } from '../errors.js';
import type { AllocationPolicy } from './config.js';

/** What an allocation needs to know about one agent. */
export interface AllocationAgent {
  /** Traded symbol (key of `riskEstimates`). */
  readonly symbol: string;
  /** Target position notional as a fraction of agent equity (the genome's `riskFraction`). */
  readonly riskFraction: number;
}

/** The outcome of {@link allocateBankroll}. */
export interface Allocation {
  /** One allocation per agent, in input order, USD, whole cents, >= 0. */
  readonly allocationsUsd: number[];
  /** Bankroll minus the sum of allocations, USD, >= 0. */
  readonly unallocatedUsd: number;
  /** The policy actually applied (`risk-weighted` falls back to `equal`, see below). */
  readonly policyApplied: AllocationPolicy;
}

/** Whole cents not above `usd` (tolerating binary representation error: 50.01 → 5001). */
export function centsDown(usd: number): number {
  const cents = usd * 100;
  const nearest = Math.round(cents);
  return Math.abs(cents - nearest) < 1e-6 ? nearest : Math.floor(cents);
}

/**
 * Equal split: every agent gets `floor(bankroll in cents / count)` cents.
 *
 * @throws ValidationError('agentCount') unless count is a positive integer.
 */
export function equalAllocation(bankrollUsd: number, count: number): number[] {
  if (!Number.isInteger(count) || count < 1) {
    throw new ValidationError('agentCount', `must be a positive integer, got ${count}`);
  }
  const each = Math.floor(centsDown(bankrollUsd) / count) / 100;
  return new Array<number>(count).fill(each);
}

/**
 * Risk-weighted split (inverse volatility, the naive form of risk parity; Maillard, Roncalli &
 * Teiletche, "The properties of equally weighted risk contribution portfolios", J. Portfolio
 * Management 36(4), 2010): agent i gets a share of the bankroll proportional to
 * `w_i = 1 / (riskFraction_i × σ_i)`, σ_i being the daily return standard deviation of its
 * symbol (fraction). Each agent then carries about the same dollar risk
 * `allocation × riskFraction × σ`. Rounded down to cents.
 *
 * @param sigmas one σ per agent, all finite and > 0.
 * @throws ValidationError('riskEstimates') when a σ or risk fraction is not finite and > 0.
 */
export function riskWeightedAllocation(
  bankrollUsd: number,
  riskFractions: readonly number[],
  sigmas: readonly number[],
): number[] {
  const n = riskFractions.length;
  if (n === 0 || sigmas.length !== n) {
    throw new ValidationError('riskEstimates', `need one σ per agent (${n}), got ${sigmas.length}`);
  }
  const weights = new Array<number>(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const rf = riskFractions[i] as number;
    const sigma = sigmas[i] as number;
    if (!(rf > 0 && sigma > 0 && Number.isFinite(rf) && Number.isFinite(sigma))) {
      throw new ValidationError('riskEstimates', `σ and riskFraction must be > 0 (agent ${i})`);
    }
    const w = 1 / (rf * sigma);
    weights[i] = w;
    total += w;
  }
  const cents = centsDown(bankrollUsd);
  return weights.map((w) => Math.floor((cents * w) / total) / 100);
}

/**
 * Splits the bankroll with `policy`. `risk-weighted` falls back to `equal` (and says so in
 * `policyApplied`) when any agent's symbol has no usable σ in `riskEstimates` (missing, not
 * finite or not > 0): mixing estimated and guessed risks would favour whichever is guessed.
 *
 * Invariants: every allocation >= 0, Σ allocations <= bankroll.
 *
 * @param riskEstimates daily return standard deviation per symbol, fraction (e.g. 0.012).
 * @throws ValidationError('agentCount') when `agents` is empty.
 */
export function allocateBankroll(
  bankrollUsd: number,
  policy: AllocationPolicy,
  agents: readonly AllocationAgent[],
  riskEstimates: Readonly<Record<string, number>> = {},
): Allocation {
  let allocationsUsd: number[] | undefined;
  let policyApplied: AllocationPolicy = 'equal';
  if (policy === 'risk-weighted') {
    const sigmas = agents.map((a) => riskEstimates[a.symbol] ?? Number.NaN);
    const usable = agents.length > 0 && sigmas.every((s) => s > 0 && Number.isFinite(s));
    if (usable) {
      allocationsUsd = riskWeightedAllocation(
        bankrollUsd,
        agents.map((a) => a.riskFraction),
        sigmas,
      );
      policyApplied = 'risk-weighted';
    }
  }
  allocationsUsd ??= equalAllocation(bankrollUsd, agents.length);
  return {
    allocationsUsd,
    unallocatedUsd: unallocatedUsd(bankrollUsd, allocationsUsd),
    policyApplied,
  };
}

/**
 * Bankroll minus the sum of allocations, USD, >= 0, computed in whole cents when the amounts
 * are whole cents (so 1000 − 30 × 33.33 is exactly 0.1, not 0.09999999999956).
 */
export function unallocatedUsd(bankrollUsd: number, allocationsUsd: readonly number[]): number {
  let sum = 0;
  let sumCents = 0;
  let wholeCents = true;
  for (const a of allocationsUsd) {
    sum += a;
    const cents = Math.round(a * 100);
    sumCents += cents;
    if (Math.abs(a * 100 - cents) >= 1e-6) wholeCents = false;
  }
  const bankrollCents = centsDown(bankrollUsd);
  if (wholeCents && Math.abs(bankrollUsd * 100 - bankrollCents) < 1e-6) {
    return Math.max(0, (bankrollCents - sumCents) / 100);
  }
  return Math.max(0, bankrollUsd - sum);
}
