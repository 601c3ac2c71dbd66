/**
 * Plans ("grow $X over N days", functions/core/chatops/plan.ts) over ports: the evidence is
 * the desk's persisted cohorts (one return per session: the newest cohort's PnL / bankroll),
 * the plan lives in the plan store (`ports/plan-store.ts`: one plan at a time, versioned), and
 * every change is recorded `plan_event` (stream `plan:<planId>`): `created`, `day_reported`
 * (actual vs plan), `stopped` (completed, breached, with the reason) and `canceled`. The Slack
 * command, the CLI and the API call the same functions.
 *
 * Every change is a compare-and-set ({@link updatePlan}): read the plan and its version,
 * decide, store over that version only. Of two requests decided on one version (two creates,
 * a create and a cancel, two reports) one is stored; the other reads again and decides on
 * what won (a second create is then refused "is active", a redelivery of the winner's own
 * request is answered as created), so no caller is told "created" for a plan that was
 * overwritten.
 */
import { ulid } from 'ulid';
import type { AuditSink } from '../../ports/audit.js';
import type { Clock } from '../../ports/clock.js';
import type { ConsoleReadModel } from '../../ports/console-read-model.js';
import type { PlanStore } from '../../ports/plan-store.js';
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
import {
  IdempotencyKeyReusedError,
  NotFoundError,
  PlanConflictError,
  ValidationError,
} from '../errors.js';
import type { LeveragePolicy } from '../leverage/policy.js';
import type { CohortSummary } from './cohort-records.js';
import type { SlashAnswer, SlashCommandExtensions } from './slash-command.js';

/** Most cohorts read as evidence. */
const EVIDENCE_LIMIT = 200;
/** Reads and decisions per plan change before a {@link PlanConflictError} reaches the caller. */
export const PLAN_WRITE_ATTEMPTS = 3;

/** What the plan use cases read and write through. */
export interface PlanDeps {
  /** The current plan, versioned (compare-and-set). */
  readonly plans: PlanStore;
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

/**
 * The fingerprint of a plan command's body: hex SHA-256 over the command and its normalized
 * arguments (`plan_grow`: amount USD and days as numbers, so `1000` and `1000.00` are one
 * body; `plan_cancel`: the reason). Remembered beside the request key, so a key reused with
 * another body is refused ({@link IdempotencyKeyReusedError}) instead of answered with the
 * first request's plan.
 */
export function planRequestBody(command: PlanCommand): string {
  if (command.kind === 'plan_grow') {
    return naturalAuditKey(['plan-body', command.kind, command.amountUsd, command.days]);
  }
  if (command.kind === 'plan_cancel') {
    return naturalAuditKey(['plan-body', command.kind, command.reason]);
  }
  return naturalAuditKey(['plan-body', command.kind]);
}

/** A plan write request with an idempotency key: {@link planRequestKey}, {@link planRequestBody}. */
export interface PlanRequest {
  readonly key: string;
  readonly bodySha256: string;
}

/** The doors a plan command comes through. */
export type PlanChannel = 'slack' | 'cli' | 'console';

/** The stored plan, or null when there is none. */
export async function currentPlan(deps: Pick<PlanDeps, 'plans'>): Promise<PlanRecord | null> {
  return (await deps.plans.read())?.plan ?? null;
}

/** What one decision on the current plan gives: its result, and the plan to store if any. */
interface PlanStep<T> {
  readonly result: T;
  readonly store?: PlanRecord;
}

/**
 * One compare-and-set change of the plan: reads the plan and its version, lets `decide` look
 * at it, and stores what it returns over that version only. When another request stored a
 * change first, reads and decides again, up to {@link PLAN_WRITE_ATTEMPTS} times; `decide`
 * must therefore be safe to repeat (its records are keyed).
 * @throws PlanConflictError when the plan kept changing; whatever `decide` throws.
 */
async function updatePlan<T>(
  deps: Pick<PlanDeps, 'plans'>,
  decide: (current: PlanRecord | null) => Promise<PlanStep<T>>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const stored = await deps.plans.read();
    const step = await decide(stored?.plan ?? null);
    if (!step.store) return step.result;
    try {
      await deps.plans.write(step.store, stored?.version ?? null);
      return step.result;
    } catch (err) {
      if (!(err instanceof PlanConflictError) || attempt >= PLAN_WRITE_ATTEMPTS) throw err;
    }
  }
}

type RequestSlot = 'created' | 'canceled';

/**
 * Whether `request` is a redelivery of the request that created (`slot` `created`) or
 * canceled `plan`: its key is remembered there with the same body.
 * @throws IdempotencyKeyReusedError when the plan remembers the key for another body or for
 *   the other slot (a create's key reused for a cancel).
 */
function isRedelivery(plan: PlanRecord, request: PlanRequest | null, slot: RequestSlot): boolean {
  if (!request) return false;
  for (const s of ['created', 'canceled'] as const) {
    if (plan.requestKeys?.[s] !== request.key) continue;
    const body = plan.requestBodies?.[s];
    if (s !== slot || (body !== undefined && body !== request.bodySha256)) {
      const first = s === 'created' ? 'the create of' : 'the cancel of';
      throw new IdempotencyKeyReusedError(`${first} ${plan.planId}`);
    }
    return true;
  }
  return false;
}

/** `plan` remembering `request` (if any) as the one that `slot` it. */
function remember(plan: PlanRecord, slot: RequestSlot, request: PlanRequest | null): PlanRecord {
  if (!request) return plan;
  return {
    ...plan,
    requestKeys: { ...plan.requestKeys, [slot]: request.key },
    requestBodies: { ...plan.requestBodies, [slot]: request.bodySha256 },
  };
}

/**
 * A new plan id: `plan-<UTC yyyymmddThhmmss>-<8 random Crockford base32 characters>` (from a
 * ULID at `nowMs`), so plans sort by their creation second and two plans created within one
 * second (a cancel and a create) never share an id, or the `created` record keyed by it.
 */
export function newPlanId(nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:.]/g, '').slice(0, 15);
  return `plan-${stamp}-${ulid(nowMs).slice(10, 18).toLowerCase()}`;
}

/** A new plan from the desk's evidence (createPlan's prerequisites apply). */
async function newPlan(
  deps: PlanDeps,
  input: { readonly amountUsd: number; readonly days: number; readonly by: string },
): Promise<PlanRecord> {
  const results = await sessionResults(deps, deps.market);
  const now = deps.clock.now();
  return createPlan({
    planId: newPlanId(now),
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
}

/**
 * Creates a plan to grow the bankroll by `amountUsd` over `days` sessions after the newest
 * evidence, stores it over the version it was decided on ({@link updatePlan}) and records it.
 * With `request` ({@link PlanRequest}), once per request: a redelivery that finds the stored
 * plan created by the same key and body answers with it and records nothing new (or, when the
 * first delivery stopped between storing and recording, records the `created` it missed).
 * @throws ValidationError (`plan`: another plan is active, also when a concurrent create
 *   stored first; or a prerequisite of createPlan), IdempotencyKeyReusedError (the key
 *   created or canceled the plan with another body), PlanConflictError (the plan kept
 *   changing).
 */
export async function growPlan(
  deps: PlanDeps,
  input: {
    readonly amountUsd: number;
    readonly days: number;
    readonly by: string;
    readonly request?: PlanRequest | null;
  },
): Promise<PlanRecord> {
  const request = input.request ?? null;
  const plan = await updatePlan(deps, async (current) => {
    if (current && isRedelivery(current, request, 'created')) return { result: current };
    if (current?.status === 'active') {
      throw new ValidationError('plan', `plan ${current.planId} is active: plan cancel first`);
    }
    const created = remember(await newPlan(deps, input), 'created', request);
    return { result: created, store: created };
  });
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

/** The desk's actual result of each of `plan`'s sessions that has one, with its promotions. */
async function planActuals(deps: PlanDeps, plan: PlanRecord): Promise<SessionActual[]> {
  const planned = new Set(plan.days.map((d) => d.sessionDate));
  const promotions = (await deps.readModel.listPromotions({ limit: 200 })).items;
  return (await sessionResults(deps, deps.market))
    .filter((c) => planned.has(c.sessionDate))
    .map((c) => ({
      sessionDate: c.sessionDate,
      dailyReturn: c.totalPnlUsd / c.bankrollUsd,
      promotions: promotions
        .filter((p) => p.sessionDate === c.sessionDate || p.stagedAtIso.startsWith(c.sessionDate))
        .map((p) => `${p.promotionId} ${p.genome.symbol}: ${p.status}`),
    }));
}

/** The plan after a report (null when there is none) and the day reports added now. */
export interface PlanReport {
  readonly plan: PlanRecord | null;
  readonly added: PlanDayReport[];
}

/**
 * Reports the plan's sessions that have results (after the close), stops it at the end or on
 * a breach, records and stores it ({@link updatePlan}: a concurrent report or cancel that
 * stored first is read again, so a session is reported once).
 * @returns the plan (null when there is none) and the day reports added now.
 * @throws PlanConflictError when the plan kept changing.
 */
export async function reportPlan(
  deps: PlanDeps,
  by = 'stagegate/plan-report',
): Promise<PlanReport> {
  return await updatePlan<PlanReport>(deps, async (plan) => {
    if (plan?.status !== 'active') return { result: { plan, added: [] } };
    const out = trackPlan(plan, await planActuals(deps, plan), deps.policy);
    if (out.added.length === 0) return { result: out };
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
    return { result: out, store: out.plan };
  });
}

/**
 * Cancels the active plan, stores it over the version it was decided on ({@link updatePlan})
 * and records it. With `request` ({@link PlanRequest}), once per request: a redelivery that
 * finds the plan canceled by the same key and body answers with it.
 * @throws NotFoundError when there is none active, IdempotencyKeyReusedError (the key created
 *   or canceled the plan with another body), PlanConflictError (the plan kept changing).
 */
export async function cancelActivePlan(
  deps: PlanDeps,
  input: { readonly reason: string; readonly by: string; readonly request?: PlanRequest | null },
): Promise<PlanRecord> {
  const request = input.request ?? null;
  const plan = await updatePlan(deps, async (current) => {
    if (current && isRedelivery(current, request, 'canceled')) return { result: current };
    if (current?.status !== 'active') throw new NotFoundError('active plan', 'current');
    const canceled = remember(cancelPlan(current, input.reason), 'canceled', request);
    return { result: canceled, store: canceled };
  });
  await recordCanceled(deps, plan, input.by);
  return plan;
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

type PlanAnswer = Extract<SlashAnswer, { kind: 'text' }> & { readonly plan: PlanRecord | null };

/**
 * The errors a plan command is refused with (recorded `input_rejected`, then thrown). Not
 * `PlanRecordCorruptError`: an unreadable stored plan is a storage fault, not the input's.
 */
const isRefusal = (err: unknown) =>
  err instanceof ValidationError ||
  err instanceof NotFoundError ||
  err instanceof IdempotencyKeyReusedError ||
  err instanceof PlanConflictError;

/** The field a refusal names: the input field, the idempotency key, or the plan. */
function refusedField(err: Error): string {
  if (err instanceof ValidationError) return err.field;
  return err instanceof IdempotencyKeyReusedError ? 'idempotency_key' : 'plan';
}

/**
 * Runs a plan command for `by` from `channel` (Slack, the CLI's `stagegate plan`, the console
 * API): the one path all three share. `plan status` reports the sessions that closed since.
 * With the door's `idempotencyKey` (Slack's `trigger_id`, the console's `Idempotency-Key`), a
 * redelivered grow or cancel (same key, same body: {@link planRequestBody}) is answered as the
 * first delivery was and recorded once, its refusal too ({@link planRequestKey}); the key
 * reused with another body is refused.
 *
 * @returns the answer as text (title + lines: Slack sections, CLI lines).
 * @throws ValidationError (a prerequisite, another active plan: also when a concurrent create
 *   stored first), NotFoundError (no active plan to cancel), IdempotencyKeyReusedError (the
 *   key was used with another body), PlanConflictError (the plan kept changing: retry); each
 *   recorded `input_rejected` on {@link PLAN_COMMANDS_STREAM} first (`error` names it).
 *   PlanRecordCorruptError (the stored plan cannot be read back), not recorded as a refusal.
 */
export async function runPlanCommand(
  deps: PlanDeps,
  command: PlanCommand,
  by: string,
  channel: PlanChannel,
  idempotencyKey: string | null = null,
): Promise<PlanAnswer> {
  const key = planRequestKey(channel, by, idempotencyKey);
  const request = key === null ? null : { key, bodySha256: planRequestBody(command) };
  try {
    return await dispatchPlanCommand(deps, command, by, request);
  } catch (err) {
    if (isRefusal(err)) {
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
            field: refusedField(err as Error),
            error: (err as Error).name,
            message: (err as Error).message,
          },
        },
        request === null ? null : ['plan-refused', request.key, request.bodySha256],
      );
    }
    throw err;
  }
}

/** The answer to one plan command (see {@link runPlanCommand}). */
async function dispatchPlanCommand(
  deps: PlanDeps,
  command: PlanCommand,
  by: string,
  request: PlanRequest | null,
): Promise<PlanAnswer> {
  if (command.kind === 'plan_grow') {
    const { amountUsd, days } = command;
    const plan = await growPlan(deps, { amountUsd, days, by, request });
    return { kind: 'text', title: `Plan ${plan.planId} created`, lines: planLines(plan), plan };
  }
  if (command.kind === 'plan_cancel') {
    const plan = await cancelActivePlan(deps, { reason: command.reason, by, request });
    return { kind: 'text', title: `Plan ${plan.planId} canceled`, lines: planLines(plan), plan };
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
