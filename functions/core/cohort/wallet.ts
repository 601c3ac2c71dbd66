/**
 * The parent wallet: it holds the cohort's bankroll, hands each agent its allocation and keeps
 * what is not allocated. Agents never return or borrow cash from it during a session, so
 *
 *     parent total equity = unallocatedCash + Σ agent equity
 *                         = bankroll + Σ (realizedPnl + unrealizedPnl − fees)
 *
 * (see `ledger.ts` for the per-agent identity).
 */
import { ValidationError } from '../errors.js';
import { unallocatedUsd } from './allocation.js';

/** Parent wallet of one cohort. Money in USD. */
export class ParentWallet {
  /** Cash kept by the parent (bankroll minus the sum of allocations), USD, >= 0. */
  readonly unallocatedCashUsd: number;

  /**
   * @throws ValidationError('allocationsUsd') when an allocation is negative or not finite, or
   *   when the allocations add up to more than the bankroll (1e-9 USD tolerance).
   */
  constructor(
    readonly bankrollUsd: number,
    readonly allocationsUsd: readonly number[],
  ) {
    let sum = 0;
    for (const a of allocationsUsd) {
      if (!(a >= 0) || !Number.isFinite(a)) {
        throw new ValidationError('allocationsUsd', `must be finite and >= 0, got ${a}`);
      }
      sum += a;
    }
    if (sum > bankrollUsd + 1e-9) {
      throw new ValidationError(
        'allocationsUsd',
        `allocations add up to ${sum} USD, more than the bankroll of ${bankrollUsd} USD`,
      );
    }
    this.unallocatedCashUsd = unallocatedUsd(bankrollUsd, allocationsUsd);
  }

  /** Parent total equity, USD, given the sum of the agents' equity. */
  totalEquityUsd(agentEquitySumUsd: number): number {
    return this.unallocatedCashUsd + agentEquitySumUsd;
  }
}
