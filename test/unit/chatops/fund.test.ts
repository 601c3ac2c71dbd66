/**
 * `fund?`'s bankroll suggestion B* = clamp(d_max·B / (ES95·L), B_min, B_max), rounded down to
 * $100, computed by hand on small return series; the suggestion's refusals (too few
 * sessions, no loss); and a refused plan command recorded before it is thrown (the path the
 * CLI's `stagegate plan`, Slack and the API share).
 */
import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../../functions/core/errors.js';
import { suggestBankroll } from '../../../functions/core/use-cases/chatops-commands.js';
import { runPlanCommand } from '../../../functions/core/use-cases/plans.js';
import { dailyCohort, memoryPlanDeps } from '../../support/plan-deps.js';

const limits = { minUsd: 1_000, maxUsd: 100_000 };

describe('suggestBankroll', () => {
  it('sizes the bankroll so one day of ES at the leverage tier spends the drawdown budget', () => {
    // Prepare: 20 returns, one loss of 2 % and 19 gains of 0.1 %: at 95 % over n = 20 the
    // historical ES is the single worst loss, 2 % of notional.
    const returns = [-0.02, ...Array.from({ length: 19 }, () => 0.001)];

    // Act
    const s = suggestBankroll({
      dailyReturns: returns,
      bankrollUsd: 10_000,
      maxDrawdownFraction: 0.1,
      leverage: 2,
      limits,
    });

    // Assess: 0.1 × 10,000 / (0.02 × 2) = 25,000.
    expect(s.esFraction).toBeCloseTo(0.02, 12);
    expect(s.bankrollUsd).toBe(25_000);
    expect(s.formula).toContain('$25000.00');
  });

  it('clamps to the stage limits and rounds down to $100', () => {
    const returns = [-0.5, ...Array.from({ length: 19 }, () => 0.001)];
    const low = suggestBankroll({
      dailyReturns: returns,
      bankrollUsd: 10_000,
      maxDrawdownFraction: 0.1,
      leverage: 2,
      limits,
    });
    // 0.1 × 10,000 / (0.5 × 2) = 1,000: the floor.
    expect(low.bankrollUsd).toBe(1_000);
    const tiny = [-0.0001, ...Array.from({ length: 19 }, () => 0.001)];
    const high = suggestBankroll({
      dailyReturns: tiny,
      bankrollUsd: 10_000,
      maxDrawdownFraction: 0.1,
      leverage: 2,
      limits,
    });
    expect(high.bankrollUsd).toBe(100_000);
    const odd = suggestBankroll({
      dailyReturns: [-0.03, ...Array.from({ length: 19 }, () => 0.001)],
      bankrollUsd: 10_000,
      maxDrawdownFraction: 0.1,
      leverage: 3,
      limits,
    });
    // 1,000 / 0.09 = 11,111.11 -> 11,100.
    expect(odd.bankrollUsd).toBe(11_100);
  });

  it('suggests nothing without two sessions or without a loss, and says why', () => {
    const one = suggestBankroll({
      dailyReturns: [0.01],
      bankrollUsd: 10_000,
      maxDrawdownFraction: 0.1,
      leverage: 2,
      limits,
    });
    expect(one.bankrollUsd).toBeNull();
    expect(one.formula).toContain('needs 2+ daily returns');
    const gains = suggestBankroll({
      dailyReturns: [0.01, 0.02, 0.005],
      bankrollUsd: 10_000,
      maxDrawdownFraction: 0.1,
      leverage: 2,
      limits,
    });
    expect(gains.bankrollUsd).toBeNull();
    expect(gains.formula).toContain('no basis for a size');
  });
});

describe('runPlanCommand refusals', () => {
  it('records a refused plan command (no active plan to cancel, too little evidence) before throwing', async () => {
    // Prepare: no plan stored, one session of evidence.
    const { deps, audit, store } = memoryPlanDeps('2013-10-10T21:00:00Z', [
      dailyCohort('2013-10-09', 12),
    ]);

    // Act
    const cancel = runPlanCommand(deps, { kind: 'plan_cancel', reason: 'test' }, 'cli:rick', 'cli');
    await expect(cancel).rejects.toBeInstanceOf(NotFoundError);
    const grow = runPlanCommand(
      deps,
      { kind: 'plan_grow', amountUsd: 1000, days: 5 },
      'cli:rick',
      'cli',
    );
    await expect(grow).rejects.toBeInstanceOf(ValidationError);

    // Assess: both refusals are in the trail, on the plan-commands stream; nothing stored.
    const rejected = audit.records().filter((r) => r.kind === 'input_rejected');
    expect(
      rejected.map((r) => {
        const p = JSON.parse(r.payload) as { source: string; command: string };
        return [r.stream, r.actor, p.source, p.command];
      }),
    ).toEqual([
      ['plan:commands', 'cli:rick', 'cli', 'plan_cancel'],
      ['plan:commands', 'cli:rick', 'cli', 'plan_grow'],
    ]);
    expect(await store.read()).toBeNull();
  });
});
