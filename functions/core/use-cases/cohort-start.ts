/**
 * `cohort start`: an operator starts a PARTIAL intraday cohort of today's session on the bars
 * that have ended by now (console `POST /api/cohorts`, the Slack `/stagegate cohort start`
 * command, ...). It is the same intraday-cohort workflow the schedule runs, with
 * `partial: true`: its prepare step cuts the session at its own clock (no input sets the time),
 * the cohort is stored labelled partial and listed apart, and promotions, the Day-3 evidence
 * and learning cycles never read it (`functions/adapters/dynamodb/cohort-repository.ts`,
 * `functions/core/use-cases/promotion.ts`).
 *
 * Validated like the CLI's `run` (same cohort config ranges: bankroll 50..100,000 USD, agents
 * 1..1,000, allocation `equal`/`risk-weighted`), plus: today must be a session day of the
 * market and its first bar must have ended. A refused start is recorded as `input_rejected`
 * (stream {@link OPERATOR_COMMANDS_STREAM}) and thrown as a ValidationError naming the field;
 * an accepted one is recorded as `operator_command` BEFORE the workflow starts (an intent: a
 * crash between the two leaves the command in the trail).
 *
 * Redeliveries: with the request's natural key (`startKey`: Slack's trigger_id, the console's
 * Idempotency-Key) the execution name is derived from the key ({@link startExecutionName}) and
 * both records are appended once per key, so a redelivery, also one whose first delivery
 * crashed after its record, (re)starts exactly one execution (the starter is idempotent per
 * name: functions/ports/cohort-starter.ts) and records nothing twice.
 *
 * Role checks are the caller's (the `operator` role: `functions/core/console/roles.ts`).
 */
import * as z from 'zod';
import type { AuditSink } from '../../ports/audit.js';
import type { Clock } from '../../ports/clock.js';
import type { CohortStarter, CohortStartResult } from '../../ports/cohort-starter.js';
import {
  type AuditDraft,
  type AuditEnvironment,
  canonicalJson,
  sha256Hex,
} from '../audit/record.js';
import { appendKeyed } from '../audit/step-scoped.js';
import { marketDate, sessionHours } from '../calendar/market-calendar.js';
import { parseCohortConfig } from '../cohort/config.js';
import { ValidationError, validationErrorOf } from '../errors.js';
import { cohortIdFor } from './intraday-cohort.js';

/** Audit stream of operator commands (accepted and refused). */
export const OPERATOR_COMMANDS_STREAM = 'operator:commands';

/** Defaults of an omitted argument: those of the CLI's `stagegate run`. */
export const COHORT_START_DEFAULTS = {
  symbols: ['SPY', 'BAC', 'AIG', 'IBM'],
  bankrollUsd: 1000,
  agentCount: 30,
  allocation: 'equal',
  seed: 1,
  market: 'equity-usa',
} as const;

/** The arguments of `cohort start` (every one optional: {@link COHORT_START_DEFAULTS}). */
export const CohortStartArgsSchema = z.strictObject({
  /** Bankroll of the parent wallet, USD (50..100,000). */
  bankrollUsd: z.number().optional(),
  /** Agents in the cohort (1..1,000). */
  agentCount: z.number().optional(),
  /** Ticker symbols (1..20), e.g. `["SPY","BAC"]`. */
  symbols: z
    .array(z.string().regex(/^[A-Za-z.]{1,10}$/, 'must be a ticker symbol'))
    .min(1)
    .max(20)
    .optional(),
  /** `equal` or `risk-weighted`. */
  allocation: z.string().optional(),
  /** Seed of a freshly seeded genome pool (integer >= 0). */
  seed: z.number().optional(),
  /** Calendar of the symbols: `equity-usa` (NYSE, default) or `crypto` (24 h UTC days). */
  market: z.enum(['equity-usa', 'crypto']).optional(),
});
export type CohortStartArgs = z.infer<typeof CohortStartArgsSchema>;

export interface CohortStartDeps {
  readonly starter: CohortStarter;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly environment: AuditEnvironment;
  /** A new unique id of `[A-Za-z0-9]` (e.g. a ULID), for the execution name. */
  readonly newId: () => string;
}

/** What a start answers. */
export interface CohortStarted extends CohortStartResult {
  readonly executionName: string;
  /** Id the cohort will be stored under (`coh-YYYYMMDD-<execution name tail>`). */
  readonly cohortId: string;
  /** Session date `YYYY-MM-DD` on the market's calendar. */
  readonly sessionDate: string;
  /** UTC ISO-8601 time of the start: the cohort sees the bars that had ended by about then. */
  readonly requestedAtIso: string;
  readonly partial: true;
  /** The validated request the workflow was started with. */
  readonly request: Readonly<Record<string, unknown>>;
}

function validate(args: unknown, nowMs: number, channel: 'console' | 'slack' | 'cli') {
  const parsed = CohortStartArgsSchema.safeParse(args ?? {});
  if (!parsed.success) {
    const base = validationErrorOf(parsed.error, '', 'args');
    if (parsed.error.issues[0]?.code !== 'unrecognized_keys') throw base;
    throw new ValidationError(
      base.field,
      `unknown argument; allowed: ${Object.keys(CohortStartArgsSchema.shape).join(', ')}`,
    );
  }
  const a = parsed.data;
  const config = parseCohortConfig({
    bankrollUsd: a.bankrollUsd ?? COHORT_START_DEFAULTS.bankrollUsd,
    agentCount: a.agentCount ?? COHORT_START_DEFAULTS.agentCount,
    allocation: a.allocation ?? COHORT_START_DEFAULTS.allocation,
    seed: a.seed ?? COHORT_START_DEFAULTS.seed,
  });
  const market = a.market ?? COHORT_START_DEFAULTS.market;
  const sessionDate = marketDate(nowMs, market);
  const hours = sessionHours(sessionDate, market);
  if (!hours) {
    throw new ValidationError(
      'market',
      `the ${market} market has no session on ${sessionDate}: nothing to start a partial cohort on`,
    );
  }
  const firstBarEndMs = Date.parse(hours.openIso) + 60_000;
  if (nowMs < firstBarEndMs) {
    throw new ValidationError(
      'market',
      `the ${sessionDate} session's first bar ends at ${new Date(firstBarEndMs).toISOString()}; start a partial cohort after that`,
    );
  }
  return {
    source: channel,
    sessionDate,
    symbols: (a.symbols ?? COHORT_START_DEFAULTS.symbols).map((s) => s.toUpperCase()),
    bankrollUsd: config.bankrollUsd,
    agentCount: config.agentCount,
    allocation: config.allocation,
    seed: config.seed,
    market,
    partial: true,
  };
}

/**
 * The execution name of a start with natural key `startKey`:
 * `partial-<channel>-<first 32 hex of SHA-256 of the canonical JSON of the key>` (at most 49
 * characters), the same on every redelivery of the request.
 */
export function startExecutionName(
  channel: 'console' | 'slack' | 'cli',
  startKey: readonly unknown[],
): string {
  return `partial-${channel}-${sha256Hex(canonicalJson({ cohortStart: startKey })).slice(0, 32)}`;
}

/**
 * Starts a partial intraday cohort on behalf of `by` (an identity `scheme:id`) from `channel`.
 *
 * @param input.args untrusted arguments ({@link CohortStartArgsSchema}).
 * @param input.startKey the request's natural key, the same on every delivery of it (Slack:
 *   user and trigger_id; console: user and Idempotency-Key); null/absent: every call is its
 *   own start (a fresh `newId` execution name).
 * @throws ValidationError naming the argument (recorded as `input_rejected` first); the
 *   starter's `TransientError`.
 */
export async function startPartialCohort(
  deps: CohortStartDeps,
  input: {
    readonly by: string;
    readonly channel: 'console' | 'slack' | 'cli';
    readonly args: unknown;
    readonly startKey?: readonly unknown[] | null;
  },
): Promise<CohortStarted> {
  const nowMs = deps.clock.now();
  const key = input.startKey ?? null;
  let request: ReturnType<typeof validate>;
  try {
    request = validate(input.args, nowMs, input.channel);
  } catch (err) {
    if (err instanceof ValidationError) {
      const refused: AuditDraft = {
        kind: 'input_rejected',
        actor: input.by,
        stream: OPERATOR_COMMANDS_STREAM,
        environment: deps.environment,
        payload: {
          source: input.channel,
          command: 'cohort start',
          field: err.field,
          message: err.message,
        },
      };
      await appendKeyed(deps.audit, refused, key ? ['cohort-start-refused', ...key] : null);
    }
    throw err;
  }
  const executionName = key
    ? startExecutionName(input.channel, key)
    : `partial-${input.channel}-${deps.newId()}`;
  const cohortId = cohortIdFor(request.sessionDate, executionName);
  await appendKeyed(
    deps.audit,
    commandDraft(deps, input, request, { executionName, cohortId }),
    key ? ['cohort-start', ...key] : null,
  );
  const started = await deps.starter.start(request, executionName);
  return {
    ...started,
    executionName,
    cohortId,
    sessionDate: request.sessionDate,
    requestedAtIso: new Date(nowMs).toISOString(),
    partial: true,
    request,
  };
}

/** The accepted start's `operator_command` record (the intent, before the workflow starts). */
function commandDraft(
  deps: CohortStartDeps,
  input: { readonly by: string; readonly channel: string },
  request: ReturnType<typeof validate>,
  ids: { readonly executionName: string; readonly cohortId: string },
): AuditDraft {
  const { executionName, cohortId } = ids;
  return {
    kind: 'operator_command',
    actor: input.by,
    stream: OPERATOR_COMMANDS_STREAM,
    environment: deps.environment,
    subject: { cohort_id: cohortId },
    payload: {
      channel: input.channel,
      command: 'cohort start',
      partial: true,
      session_date: request.sessionDate,
      execution_name: executionName,
      symbols: request.symbols,
      bankroll: request.bankrollUsd,
      agent_count: request.agentCount,
      allocation: request.allocation,
      seed: request.seed,
      market: request.market,
    },
  };
}
