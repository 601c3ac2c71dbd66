/**
 * Plans ("grow $X over N days", functions/core/chatops/plan.ts) over ports: the evidence is
 * the desk's persisted cohorts (one return per session: the newest cohort's PnL / bankroll),
 * the plan lives in the artifact store under {@link PLAN_KEY} (one plan at a time), and every
 * change is recorded `plan_event` (stream `plan:<planId>`): `created`, `day_reported` (actual
 * vs plan), `stopped` (completed, breached, with the reason) and `canceled`. The Slack
 * command, the CLI and the API call the same functions.
 */
import type { ArtifactStore } from '../../ports/artifact-store.js';
import type { AuditSink } from '../../ports/audit.js';
import type { Clock } from '../../ports/clock.js';
import type { ConsoleReadModel } from '../../ports/console-read-model.js';
import type { AuditEnvironment } from '../audit/record.js';
import { appendKeyed, naturalAuditKey } from '../audit/step-scoped.js';
import type { Market } from '../calendar/market-calendar.js';
import type { SlashCommand } from '../chatops/command.js';
import {
  cancelPlan,
  createPlan,
  type PlanDayReport,
  type PlanRecord,
  type SessionActual,
  trackPlan,
} from '../chatops/plan.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { LeveragePolicy } from '../leverage/policy.js';
import type { CohortSummary } from './cohort-records.js';
import type { SlashAnswer, SlashCommandExtensions } from './slash-command.js';

/** Where the current plan is stored. */
export const PLAN_KEY = 'plans/current.json';
/** Most cohorts read as evidence. */
const EVIDENCE_LIMIT = 200;

/** What the plan use cases read and write through. */
export interface PlanDeps {
  readonly artifacts: ArtifactStore;
  readonly readModel: Pick<ConsoleReadModel, 'listCohorts' | 'listPromotions'>;
  readonly audit: AuditSink;
  readonly environment: AuditEnvironment;
  readonly clock: Clock;
  readonly policy: LeveragePolicy;
  readonly market: Market;
  /** The plan's bankroll (the stage's cohort bankroll), USD, and its limits. */
  readonly bankrollUsd: number;
  readonly bankrollLimits: { readonly minUsd: number; readonly maxUsd: number };
  /** The gates' largest parent drawdown, fraction. */
  readonly maxDrawdownFraction: number;
}

/**
 * The newest complete cohort of each session, oldest session first (the desk's daily
 * evidence); with `market`, of that market's cohorts only (a cohort without a market is
 * `equity-usa`), so a crypto UTC day and an equity session of the same date never replace
 * each other.
 */
export async function sessionResults(
  deps: Pick<PlanDeps, 'readModel'>,
  market?: Market,
): Promise<CohortSummary[]> {
  const page = await deps.readModel.listCohorts({ limit: EVIDENCE_LIMIT });
  const bySession = new Map<string, CohortSummary>();
  for (const c of page.items) {
    if (market && (c.market ?? 'equity-usa') !== market) continue;
    const seen = bySession.get(c.sessionDate);
    if (!seen || c.completedAtIso > seen.completedAtIso) bySession.set(c.sessionDate, c);
  }
  return [...bySession.values()].sort((a, b) => a.sessionDate.localeCompare(b.sessionDate));
}

/**
 * Appends a `plan_event` on the plan's stream, once per natural key when `key` is given
 * (`appendKeyed`: a redelivered request, or a second report of the same session, finds it).
 */
async function record(
  deps: PlanDeps,
  plan: PlanRecord,
  by: string,
  event: string,
  payload: Record<string, unknown>,
  key: unknown[] | null = null,
): Promise<void> {
  await appendKeyed(
    deps.audit,
    {
      kind: 'plan_event',
      actor: by,
      stream: `plan:${plan.planId}`,
      environment: deps.environment,
      payload: { event, plan_id: plan.planId, status: plan.status, ...payload },
    },
    key,
  );
}

/**
 * The key of one plan write request: hex SHA-256 over the door (`slack`, `console`, `cli`),
 * the caller and the door's own idempotency key (Slack's `trigger_id`, the console's
 * `Idempotency-Key`); null without one (every request is then its own write).
 */
export function planRequestKey(
  channel: PlanChannel,
  by: string,
  idempotencyKey: string | null | undefined,
): string | null {
  return idempotencyKey ? naturalAuditKey(['plan-request', channel, by, idempotencyKey]) : null;
}

/** The doors a plan command comes through. */
export type PlanChannel = 'slack' | 'cli' | 'console';

/** The stored plan, or null when there is none. */
export async function currentPlan(deps: Pick<PlanDeps, 'artifacts'>): Promise<PlanRecord | null> {
  try {
    return (await deps.artifacts.getJson(PLAN_KEY)) as PlanRecord;
  } catch (err) {
    if (err instanceof NotFoundError) return null;
    throw err;
  }
}

/**
 * Creates a plan to grow the bankroll by `amountUsd` over `days` sessions after the newest
 * evidence, and records it. With `requestKey` ({@link planRequestKey}), once per request: a
 * redelivery that finds the stored plan created by the same key answers with it and records
 * nothing new (or, when the first delivery stopped between storing and recording, records
 * the `created` it missed).
 * @throws ValidationError (`plan`: another plan is active; or a prerequisite of createPlan).
 */
export async function growPlan(
  deps: PlanDeps,
  input: {
    readonly amountUsd: number;
    readonly days: number;
    readonly by: string;
    readonly requestKey?: string | null;
  },
): Promise<PlanRecord> {
  const key = input.requestKey ?? null;
  const existing = await currentPlan(deps);
  if (key !== null && existing?.requestKeys?.created === key) {
    await recordCreated(deps, existing, input.by);
    return existing;
  }
  if (existing?.status === 'active') {
    throw new ValidationError('plan', `plan ${existing.planId} is active: plan cancel first`);
  }
  const results = await sessionResults(deps, deps.market);
  const now = deps.clock.now();
  const created = createPlan({
    planId: `plan-${new Date(now).toISOString().replace(/[-:.]/g, '').slice(0, 15)}`,
    createdBy: input.by,
    createdAtIso: new Date(now).toISOString(),
    targetGainUsd: input.amountUsd,
    days: input.days,
    // The desk's bankroll: the newest cohort's (the stage default when there is none).
    bankrollUsd: results.at(-1)?.bankrollUsd ?? deps.bankrollUsd,
    bankrollLimits: deps.bankrollLimits,
    market: deps.market,
    evidence: {
      source: 'daily cohorts (newest per session): total PnL / bankroll',
      sessionDates: results.map((c) => c.sessionDate),
      dailyReturns: results.map((c) => c.totalPnlUsd / c.bankrollUsd),
    },
    policy: deps.policy,
    maxDrawdownFraction: deps.maxDrawdownFraction,
  });
  const plan: PlanRecord = key === null ? created : { ...created, requestKeys: { created: key } };
  await deps.artifacts.putJson(PLAN_KEY, plan);
  await recordCreated(deps, plan, input.by);
  return plan;
}

/** The plan's `created` record (once per plan: its content is a function of the plan). */
async function recordCreated(deps: PlanDeps, plan: PlanRecord, by: string): Promise<void> {
  await record(
    deps,
    { ...plan, status: 'active' },
    by,
    'created',
    {
      target_usd: plan.targetGainUsd,
      bankroll_usd: plan.bankrollUsd,
      sessions: plan.days.map((d) => d.sessionDate),
      leverage_path: plan.days.map((d) => d.leverage),
      var_usd: plan.days.map((d) => d.varUsd),
      es_usd: plan.days.map((d) => d.esUsd),
      expected: plan.expected,
      evidence_n: plan.evidence.n,
    },
    ['plan', plan.planId, 'created'],
  );
}

/**
 * Reports the plan's sessions that have results (after the close), stops it at the end or on
 * a breach, stores and records it.
 * @returns the plan (null when there is none) and the day reports added now.
 */
export async function reportPlan(
  deps: PlanDeps,
  by = 'stagegate/plan-report',
): Promise<{ plan: PlanRecord | null; added: PlanDayReport[] }> {
  const plan = await currentPlan(deps);
  if (plan?.status !== 'active') return { plan, added: [] };
  const planned = new Set(plan.days.map((d) => d.sessionDate));
  const promotions = (await deps.readModel.listPromotions({ limit: 200 })).items;
  const actuals: SessionActual[] = (await sessionResults(deps, deps.market))
    .filter((c) => planned.has(c.sessionDate))
    .map((c) => ({
      sessionDate: c.sessionDate,
      dailyReturn: c.totalPnlUsd / c.bankrollUsd,
      promotions: promotions
        .filter((p) => p.sessionDate === c.sessionDate || p.stagedAtIso.startsWith(c.sessionDate))
        .map((p) => `${p.promotionId} ${p.genome.symbol}: ${p.status}`),
    }));
  const out = trackPlan(plan, actuals, deps.policy);
  if (out.added.length === 0) return out;
  // Recorded first, once per session (and the stop once per plan): a report that stopped
  // before storing is redone by the next, which finds its records instead of adding any.
  for (const r of out.added) {
    const key = ['plan', plan.planId, 'day_reported', r.sessionDate];
    await record(deps, out.plan, by, 'day_reported', { ...r }, key);
  }
  if (out.plan.status !== 'active') {
    const key = ['plan', plan.planId, 'stopped'];
    await record(deps, out.plan, by, 'stopped', { reason: out.plan.stopReason }, key);
  }
  await deps.artifacts.putJson(PLAN_KEY, out.plan);
  return out;
}

/**
 * Cancels the active plan and records it. With `requestKey` ({@link planRequestKey}), once per
 * request: a redelivery that finds the plan canceled by the same key answers with it.
 * @throws NotFoundError when there is none active.
 */
export async function cancelActivePlan(
  deps: PlanDeps,
  input: { readonly reason: string; readonly by: string; readonly requestKey?: string | null },
): Promise<PlanRecord> {
  const key = input.requestKey ?? null;
  const plan = await currentPlan(deps);
  if (plan && key !== null && plan.requestKeys?.canceled === key) {
    await recordCanceled(deps, plan, input.by);
    return plan;
  }
  if (plan?.status !== 'active') throw new NotFoundError('active plan', 'current');
  const canceled = cancelPlan(plan, input.reason);
  const stored: PlanRecord =
    key === null ? canceled : { ...canceled, requestKeys: { ...plan.requestKeys, canceled: key } };
  await deps.artifacts.putJson(PLAN_KEY, stored);
  await recordCanceled(deps, stored, input.by);
  return stored;
}

/** The plan's `canceled` record (once per plan: a plan is canceled once). */
async function recordCanceled(deps: PlanDeps, plan: PlanRecord, by: string): Promise<void> {
  const reason = (plan.stopReason ?? '').replace(/^canceled: /, '');
  await record(deps, plan, by, 'canceled', { reason }, ['plan', plan.planId, 'canceled']);
}

const usd = (v: number) => `${v < 0 ? '-' : ''}$${Math.abs(v).toFixed(2)}`;
const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

/** The plan as lines of text (Slack sections, the CLI). */
export function planLines(plan: PlanRecord): string[] {
  const e = plan.expected;
  const lines = [
    `*${plan.planId}*: grow ${usd(plan.targetGainUsd)} over ${plan.days.length} sessions on a ${usd(plan.bankrollUsd)} bankroll (${plan.status}${plan.stopReason ? `: ${plan.stopReason}` : ''})`,
    `Expected ${plan.days.length}-session PnL from the evidence (bootstrap of ${plan.evidence.n} daily returns, ${e.runs} resamples): 5%..95% ${usd(e.p05Usd)}..${usd(e.p95Usd)}, median ${usd(e.p50Usd)}. The target is ${e.target.replace('_', ' ')}. A range from ${plan.evidence.n} sessions, not a promise.`,
    `Stops on a drawdown above ${pct(plan.maxDrawdownFraction)} (the gates) or a day's loss above its expected shortfall.`,
    'session | leverage (max) | VaR | ES | planned cum. PnL (median) | actual | cum. | drawdown | next leverage',
  ];
  for (const [i, d] of plan.days.entries()) {
    const r = plan.reports[i];
    lines.push(
      `${d.sessionDate} | ${d.leverage}x | ${usd(d.varUsd)} | ${usd(d.esUsd)} | ${usd(d.medianCumulativePnlUsd)} | ` +
        (r
          ? `${usd(r.actualPnlUsd)} at ${r.leverage}x | ${usd(r.cumulativePnlUsd)} | ${pct(r.drawdownFraction)} | ${r.nextLeverage}x${r.breach ? ` | BREACH: ${r.breach}` : ''}${r.promotions.length ? ` | ${r.promotions.join('; ')}` : ''}`
          : 'not yet'),
    );
  }
  return lines;
}

/** Audit stream of refused plan commands (every channel). */
export const PLAN_COMMANDS_STREAM = 'plan:commands';

/** A plan command of the shared grammar (`plan grow <amount> <days>`, `plan status`, `plan cancel`). */
export type PlanCommand = Extract<
  SlashCommand,
  { kind: 'plan_grow' | 'plan_status' | 'plan_cancel' }
>;

/**
 * Runs a plan command for `by` from `channel` (Slack, the CLI's `stagegate plan`, the console
 * API): the one path all three share. `plan status` reports the sessions that closed since.
 * With the door's `idempotencyKey` (Slack's `trigger_id`, the console's `Idempotency-Key`), a
 * redelivered grow or cancel is answered as the first delivery was and recorded once, its
 * refusal too ({@link planRequestKey}).
 *
 * @returns the answer as text (title + lines: Slack sections, CLI lines).
 * @throws ValidationError (a prerequisite, another active plan) or NotFoundError (no active
 *   plan to cancel), recorded `input_rejected` on {@link PLAN_COMMANDS_STREAM} first.
 */
export async function runPlanCommand(
  deps: PlanDeps,
  command: PlanCommand,
  by: string,
  channel: PlanChannel,
  idempotencyKey: string | null = null,
): Promise<Extract<SlashAnswer, { kind: 'text' }> & { readonly plan: PlanRecord | null }> {
  const requestKey = planRequestKey(channel, by, idempotencyKey);
  try {
    if (command.kind === 'plan_grow') {
      const { amountUsd, days } = command;
      const plan = await growPlan(deps, { amountUsd, days, by, requestKey });
      return { kind: 'text', title: `Plan ${plan.planId} created`, lines: planLines(plan), plan };
    }
    if (command.kind === 'plan_cancel') {
      const plan = await cancelActivePlan(deps, { reason: command.reason, by, requestKey });
      return { kind: 'text', title: `Plan ${plan.planId} canceled`, lines: planLines(plan), plan };
    }
  } catch (err) {
    if (err instanceof ValidationError || err instanceof NotFoundError) {
      await appendKeyed(
        deps.audit,
        {
          kind: 'input_rejected',
          actor: by,
          stream: PLAN_COMMANDS_STREAM,
          environment: deps.environment,
          payload: {
            source: channel,
            command: command.kind,
            field: err instanceof ValidationError ? err.field : 'plan',
            message: err.message,
          },
        },
        requestKey === null ? null : ['plan-refused', requestKey, command.kind],
      );
    }
    throw err;
  }
  const { plan } = await reportPlan(deps);
  if (!plan) {
    return {
      kind: 'text',
      title: 'No plan',
      lines: ['no plan yet: plan grow <amount> <days>'],
      plan: null,
    };
  }
  return {
    kind: 'text',
    title: `Plan ${plan.planId}: actual vs plan`,
    lines: planLines(plan),
    plan,
  };
}

/** The `/stagegate plan ...` commands over the plan use cases. */
export function planSlashCommands(deps: PlanDeps): NonNullable<SlashCommandExtensions['plan']> {
  return async (command, by, triggerId) => {
    const { plan: _plan, ...answer } = await runPlanCommand(
      deps,
      command,
      by,
      'slack',
      triggerId ?? null,
    );
    return answer;
  };
}
