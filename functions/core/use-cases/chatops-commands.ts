/**
 * The `/stagegate cohort start` and `/stagegate fund?` commands (issue 15) over the same use
 * cases as the console and the CLI:
 *
 * - `cohort start [bankroll] [agents] [symbols]` is {@link startPartialCohort} (validated like
 *   the CLI's `run`, recorded `operator_command` or `input_rejected`, labelled partial: no
 *   promotion, Day-3 evidence or learning cycle reads it), on channel `slack`.
 * - `fund?` ("what should I fund tomorrow?") reads the desk's evidence: the newest complete
 *   cohort of each session (its total PnL / bankroll is the desk's daily return), the
 *   candidate the promotion pipeline stages next (the best agent of the newest complete
 *   cohort), the recent promotions and the pending approvals, and suggests a bankroll from
 *   the expected shortfall and the leverage tier (formula in {@link suggestBankroll}).
 */

import * as z from 'zod';
import type { AuditSink } from '../../ports/audit.js';
import type { Clock } from '../../ports/clock.js';
import type { CohortStarter } from '../../ports/cohort-starter.js';
import type { ConsoleReadModel } from '../../ports/console-read-model.js';
import { pendingApprovalsAt } from '../approval/pending.js';
import type { AuditEnvironment } from '../audit/record.js';
import type { Market } from '../calendar/market-calendar.js';
import { ValidationError } from '../errors.js';
import { type LeveragePolicy, LeveragePolicySchema } from '../leverage/policy.js';
import { historicalExpectedShortfall } from '../risk/var.js';
import { sharpeWithPsr } from '../scoring/sharpe-inference.js';
import { startPartialCohort } from './cohort-start.js';
import { sessionResults } from './plans.js';
import type { SlashAnswer, SlashCommandExtensions } from './slash-command.js';

/**
 * The stage settings the plan, `fund?` and daily-report commands read (`CHATOPS_CONFIG_JSON`,
 * written by the CDK construct from the stage config): the cohort bankroll and its limits
 * (USD), the gates' drawdown circuit breaker (fraction), the market calendar, the stage's
 * leverage policy (`promotion.leveragePolicy`: the start tier and the step-downs plans and
 * `fund?` use) and the Day-3 evidence gate's minimum PSR (`gates.minPsr`, probability).
 */
export const ChatOpsConfigSchema = z.strictObject({
  bankrollUsd: z.number().positive(),
  bankrollLimits: z.strictObject({ minUsd: z.number().positive(), maxUsd: z.number().positive() }),
  // The same bounds as the gate thresholds these are copied from (`(0, 1]`): a stage whose
  // gates accept a value must not have its chat-ops settings refuse it.
  maxDrawdownFraction: z.number().gt(0).lte(1),
  market: z.enum(['equity-usa', 'crypto']),
  leveragePolicy: LeveragePolicySchema,
  minPsr: z.number().gt(0).lte(1),
});
export type ChatOpsConfig = z.infer<typeof ChatOpsConfigSchema>;

/** What `cohort start` from Slack needs. */
export interface SlackCohortStartDeps {
  /** Built on first use (the AWS starter needs the state machine ARN). */
  readonly starter: () => CohortStarter;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly environment: AuditEnvironment;
  readonly newId: () => string;
}

const usd = (v: number) => `${v < 0 ? '-' : ''}$${Math.abs(v).toFixed(2)}`;
const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

/**
 * `/stagegate cohort start`: a long command (answered "working" within Slack's 3 s, the
 * result through `response_url`). A refused start answers the field and why (already
 * recorded `input_rejected` by the use case); any other error is thrown to the caller.
 */
export function slackCohortStart(
  deps: SlackCohortStartDeps,
): NonNullable<SlashCommandExtensions['cohortStart']> {
  return (command, by, triggerId) => ({
    async run(): Promise<SlashAnswer> {
      try {
        const out = await startPartialCohort(
          {
            starter: deps.starter(),
            audit: deps.audit,
            clock: deps.clock,
            environment: deps.environment,
            newId: deps.newId,
          },
          {
            by,
            channel: 'slack',
            startKey: triggerId ? ['slack', by, triggerId] : null,
            args: {
              ...(command.bankrollUsd !== null ? { bankrollUsd: command.bankrollUsd } : {}),
              ...(command.agents !== null ? { agentCount: command.agents } : {}),
              ...(command.symbols !== null ? { symbols: [...command.symbols] } : {}),
            },
          },
        );
        const r = out.request;
        const lines = [
          `Partial cohort \`${out.cohortId}\` of the ${out.sessionDate} session on the bars up to ${out.requestedAtIso} (labelled partial: promotions never read it).`,
          `${String(r.agentCount)} agents, bankroll ${usd(Number(r.bankrollUsd))}, symbols ${(r.symbols as string[]).join(', ')}, allocation ${String(r.allocation)}.`,
          `Execution \`${out.executionName}\`: ${out.status}${out.error ? ` (${out.error}${out.cause ? `: ${out.cause.slice(0, 300)}` : ''})` : ''}.`,
        ];
        if (out.status === 'RUNNING') lines.push('It is running: `/stagegate status` shows it.');
        return { kind: 'text', title: `Cohort start: ${out.status.toLowerCase()}`, lines };
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        return {
          kind: 'refused',
          reason: 'malformed',
          message: `cohort start refused: ${err.field}: ${err.message}`,
        };
      }
    },
  });
}

/** What `fund?` reads. */
export interface FundDeps {
  readonly readModel: Pick<ConsoleReadModel, 'listCohorts' | 'listPromotions' | 'listApprovals'>;
  readonly clock: Clock;
  readonly policy: LeveragePolicy;
  /** The stage's bankroll limits, USD. */
  readonly bankrollLimits: { readonly minUsd: number; readonly maxUsd: number };
  /** The stage's default cohort bankroll, USD (when no cohort ran yet). */
  readonly bankrollUsd: number;
  /** The gates' largest parent drawdown (the drawdown circuit breaker), fraction. */
  readonly maxDrawdownFraction: number;
  /** The market whose cohorts are the evidence (absent: equity-usa, the desk's bankroll). */
  readonly market?: Market;
}

/** Confidence of the expected shortfall `fund?` sizes with. */
export const FUND_ES_CONFIDENCE = 0.95;

/** A bankroll suggestion and how it was derived. */
export interface BankrollSuggestion {
  /** Suggested bankroll, USD, within the stage's limits; null without enough evidence. */
  readonly bankrollUsd: number | null;
  /** One-day expected shortfall of the daily returns at {@link FUND_ES_CONFIDENCE}, fraction of notional. */
  readonly esFraction: number | null;
  readonly leverage: number;
  /** The formula with the numbers filled in. */
  readonly formula: string;
}

/**
 * Suggests tomorrow's bankroll B* so that one day's expected shortfall at the leverage tier
 * spends at most the drawdown budget of today's bankroll:
 *
 *   B* = clamp(d_max · B / (ES₉₅ · L), B_min, B_max)
 *
 * with B today's bankroll (USD), d_max the drawdown circuit breaker (fraction), ES₉₅ the
 * historical one-day expected shortfall of the desk's daily returns per unit notional
 * (Acerbi & Tasche 2002, `core/risk/var.ts`), L the leverage tier (the policy's start
 * leverage: a suggestion never assumes a step up) and [B_min, B_max] the stage's limits.
 * Without two daily returns, or with no loss in them (ES₉₅ ≤ 0), it suggests nothing.
 */
export function suggestBankroll(input: {
  readonly dailyReturns: readonly number[];
  readonly bankrollUsd: number;
  readonly maxDrawdownFraction: number;
  readonly leverage: number;
  readonly limits: { readonly minUsd: number; readonly maxUsd: number };
}): BankrollSuggestion {
  const { dailyReturns, bankrollUsd: b, maxDrawdownFraction: d, leverage: l, limits } = input;
  const head = 'B* = clamp(d_max × B / (ES95 × L), B_min, B_max)';
  if (dailyReturns.length < 2) {
    return {
      bankrollUsd: null,
      esFraction: null,
      leverage: l,
      formula: `${head}: needs 2+ daily returns, have ${dailyReturns.length}`,
    };
  }
  const es = historicalExpectedShortfall({
    returns: dailyReturns,
    positionNotionalUsd: 1,
    confidence: FUND_ES_CONFIDENCE,
  });
  if (!(es > 0)) {
    return {
      bankrollUsd: null,
      esFraction: es,
      leverage: l,
      formula: `${head}: ES95 = ${pct(es)} (no loss in ${dailyReturns.length} sessions): no basis for a size`,
    };
  }
  const raw = (d * b) / (es * l);
  const clamped = Math.min(limits.maxUsd, Math.max(limits.minUsd, raw));
  const rounded = Math.floor(clamped / 100) * 100;
  const suggested = Math.max(limits.minUsd, rounded);
  return {
    bankrollUsd: suggested,
    esFraction: es,
    leverage: l,
    formula: `${head} = clamp(${pct(d)} × ${usd(b)} / (${pct(es)} × ${l}), ${usd(limits.minUsd)}, ${usd(limits.maxUsd)}) = ${usd(raw)} → ${usd(suggested)} (rounded down to $100)`,
  };
}

/** `/stagegate fund?`: tomorrow's candidate with its evidence, approvals, a bankroll. */
export function slackFund(deps: FundDeps): NonNullable<SlashCommandExtensions['fund']> {
  return async (): Promise<SlashAnswer> => {
    const nowMs = deps.clock.now();
    const [results, promotions, approvals] = await Promise.all([
      sessionResults(deps, deps.market ?? 'equity-usa'),
      deps.readModel.listPromotions({ limit: 5 }),
      deps.readModel.listApprovals({ limit: 50 }),
    ]);
    const returns = results.map((c) => c.totalPnlUsd / c.bankrollUsd);
    const newest = results.at(-1) ?? null;
    const bankroll = newest?.bankrollUsd ?? deps.bankrollUsd;
    const lines: string[] = [];
    if (!newest) {
      lines.push('No complete cohort yet: nothing to fund. Run a session first.');
    } else {
      lines.push(
        `Candidate: agent \`${newest.bestAgentId ?? 'none'}\` of cohort \`${newest.cohortId}\` (${newest.sessionDate}, ${newest.symbols.join(', ')}), the best of ${newest.agentCount} agents: the promotion pipeline stages it at the next window open, and the gates decide.`,
      );
    }
    const evidence = sharpeWithPsr(returns);
    if (evidence) {
      const { moments: m, sharpe, psr } = evidence;
      lines.push(
        `Evidence: ${m.n} sessions (${results[0]?.sessionDate}..${newest?.sessionDate}) of the desk's daily return (cohort PnL / bankroll): mean ${pct(m.mean)}, sd ${pct(m.stdev)}, daily Sharpe ${sharpe.toFixed(2)}, PSR(0) ${Number.isNaN(psr) ? 'undefined' : psr.toFixed(2)} (Bailey & López de Prado 2012). Session returns: ${returns.map(pct).join(', ')}.`,
      );
    } else {
      lines.push(`Evidence: ${returns.length} session(s): too few for a Sharpe ratio (need 2+).`);
    }
    const s = suggestBankroll({
      dailyReturns: returns,
      bankrollUsd: bankroll,
      maxDrawdownFraction: deps.maxDrawdownFraction,
      leverage: deps.policy.startLeverage,
      limits: deps.bankrollLimits,
    });
    lines.push(
      s.bankrollUsd === null
        ? `Bankroll: no suggestion (keep ${usd(bankroll)}). ${s.formula}.`
        : `Bankroll: ${usd(s.bankrollUsd)} at ${s.leverage}x. ${s.formula}. A size from ${returns.length} sessions, not a promise.`,
    );
    const recent = promotions.items.slice(0, 3);
    lines.push(
      recent.length
        ? `Recent promotions: ${recent.map((p) => `${p.promotionId} ${p.genome.symbol} ${p.status} (cohort PnL ${usd(p.metrics.totalPnlUsd)})`).join('; ')}.`
        : 'Recent promotions: none.',
    );
    const pending = pendingApprovalsAt(approvals.items, nowMs);
    lines.push(
      pending.length
        ? `Pending approvals: ${pending.map((a) => `${a.approvalId} (${a.summary.symbol}, slice ${usd(a.summary.capitalSliceUsd)}, expires ${a.expiresAtIso})`).join('; ')}.`
        : 'Pending approvals: none.',
    );
    return { kind: 'text', title: 'What to fund tomorrow', lines };
  };
}
