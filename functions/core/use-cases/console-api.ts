/**
 * The operator console's HTTP API (docs/console-api.openapi.yaml), as a pure router over
 * ports: the Lambda handler (`functions/handlers/console-api.ts`) behind API Gateway and the
 * local console server call it with the same {@link ConsoleRequest}.
 *
 * Rules:
 * - Every route lives under `/api`. Reads need any console role; the kill switch and cohort
 *   start need `operator`; approval decisions need `risk` (`functions/core/console/roles.ts`).
 * - A GET never changes state. Every write is a POST with a JSON body and a CSRF token: the
 *   `x-csrf-token` header must equal the `stagegate_csrf` cookie (double submit; a page of
 *   another origin can neither read the cookie nor set the header).
 * - Errors are RFC 9457 problem+json (`type`, `title`, `status`, `detail`, `field`).
 * - Every refused request (no identity, missing role, bad CSRF token, invalid write input) is
 *   recorded as an `input_rejected` audit record (stream `console:refusals`) before the answer.
 * - CSV exports (`/api/exports/{cohorts,agents,orders,audit}.csv`) carry bankroll columns in
 *   USD.
 *
 * Units: money in USD, fractions as fractions, times UTC ISO-8601 unless named `...Ms` (epoch
 * milliseconds UTC); session dates `YYYY-MM-DD` in the market's time zone.
 */
import * as z from 'zod';
import type { ApprovalView } from '../../ports/approval-store.js';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import type { AuditReader, AuditSink } from '../../ports/audit.js';
import type { Clock } from '../../ports/clock.js';
import type { CohortRepository } from '../../ports/cohort-repository.js';
import type { ConsoleReadModel, Page } from '../../ports/console-read-model.js';
import type { KillSwitchPort } from '../../ports/kill-switch.js';
import type { MarketDataPort } from '../../ports/market-data.js';
import type { MicroLiveRepository } from '../../ports/micro-live.js';
import type { PromotionRepository } from '../../ports/promotion-repository.js';
import { approvalExpiredAt } from '../approval/pending.js';
import { AUDIT_KINDS, type AuditDraft, type AuditEnvironment } from '../audit/record.js';
import { verifyChains } from '../audit/verify.js';
import type { SlashCommand } from '../chatops/command.js';
import type { PlanRecord } from '../chatops/plan.js';
import type { SimulationResult } from '../cohort/simulate.js';
import { type CsvCell, toCsv } from '../console/csv.js';
import { decodeCursor, encodeCursor } from '../console/cursor.js';
import { type ConsoleAction, mayPerform, type Role } from '../console/roles.js';
import {
  IdempotencyKeyReusedError,
  KillSwitchChangedError,
  NotFoundError,
  PlanConflictError,
  PlanRecordCorruptError,
  StagegateError,
  ValidationError,
  validationErrorOf,
} from '../errors.js';
import { symbolMinutes } from '../exchange/exchange-model.js';
import type { LeveragePolicy } from '../leverage/policy.js';
import { downsampleIndices } from '../report/downsample.js';
import { periodSharpe, returnMoments, sharpeEvidence } from '../scoring/sharpe-inference.js';
import { gateRowsOf, PROMOTION_STREAMS, readAuditRows, utcDayAndNext } from './audit-rows.js';
import type { CohortRecord, CohortSummary } from './cohort-records.js';
import type { CohortStarted } from './cohort-start.js';
import {
  type AuditRow,
  approvalChain,
  microLiveView,
  paperSessionOf,
  paperSessionSummary,
  paperSessionsFrom,
  sliceIdsFrom,
} from './console-trading.js';
import { deskStatus } from './desk-status.js';
import {
  type KillSwitchOutcome,
  killSwitchEndedNote,
  killSwitchShortfall,
  killSwitchUnchangedNote,
  lastEngageNote,
} from './kill-switch.js';
import { promotionMarket } from './promotion.js';
import type { PromotionOrder, StagedPromotion } from './promotion-records.js';
import { readSimulation } from './simulation-artifact.js';

/** A plan command of the shared grammar (`plan grow`, `plan status`, `plan cancel`). */
export type ConsolePlanCommand = Extract<
  SlashCommand,
  { kind: 'plan_grow' | 'plan_status' | 'plan_cancel' }
>;

/** The plan use cases as the console API calls them. */
export interface ConsolePlans {
  /** The stored plan (null when there is none); reads only. */
  current(): Promise<PlanRecord | null>;
  /**
   * Runs a plan command for `by` (recorded as the use case records it); with the request's
   * `Idempotency-Key`, a repeated create or cancel (same body) is answered as the first and
   * recorded once.
   * @throws ValidationError (a prerequisite), NotFoundError (no active plan),
   *   IdempotencyKeyReusedError (the key was used with another body) or PlanConflictError (a
   *   concurrent change kept winning), each recorded.
   */
  run(
    command: ConsolePlanCommand,
    by: string,
    idempotencyKey?: string | null,
  ): Promise<{ title: string; lines: readonly string[]; plan: PlanRecord | null }>;
}

/** A request as the edge hands it over (headers lower-case). */
export interface ConsoleRequest {
  readonly method: string;
  /** The path, starting with `/api/`. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Authenticated identity `scheme:id`, or null. */
  readonly identity: string | null;
  /** Console roles of the identity (from the authorizer), empty when none. */
  readonly roles: readonly Role[];
}

/** A response: JSON, CSV or problem+json. */
export interface ConsoleResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Outcome of a console approval decision (see {@link ConsoleApiDeps.decideApproval}). */
export type ConsoleDecisionOutcome =
  | {
      readonly ok: true;
      /** This signature's decision. */
      readonly status: 'approved' | 'rejected';
      /**
       * `resumed` (now, or by an earlier delivery of this request), `waiting` (the chain needs
       * more signatures), `gone` (recorded, but the workflow had already timed out or ended: NOT
       * acted on); for a repeat whose re-sent resume was refused, what the execution says
       * (`workflow`): `running`, `concluded` (with the decision it took) or `unconfirmed` (its
       * state could not be read: nothing claimed).
       */
      readonly execution: string;
      /** What the execution did with the decision, after a refused re-send; null otherwise. */
      readonly workflow?: {
        readonly status: string | null;
        readonly decision: string | null;
        readonly outcome: string | null;
        readonly message: string;
      } | null;
      /** True for a repeat of a request already recorded under the same Idempotency-Key. */
      readonly replayed?: boolean;
      /** Where the signature stands in the request's approval chain. */
      readonly chain: { readonly step: number; readonly of: number; readonly complete: boolean };
      /**
       * Why the announced Slack request could not be updated after this signature (null when
       * it was, or nothing was announced). The signature stands either way.
       */
      readonly messageUpdateError: string | null;
    }
  | {
      readonly ok: false;
      readonly httpStatus: number;
      readonly field: string;
      readonly detail: string;
    };

/** What the API reads and writes through. */
export interface ConsoleApiDeps {
  readonly readModel: ConsoleReadModel;
  readonly cohorts: Pick<CohortRepository, 'get'>;
  readonly promotions: Pick<PromotionRepository, 'get' | 'listOrders'>;
  readonly artifacts: ArtifactStore;
  /** The session's minute bars, for the paper-session price chart. */
  readonly marketData: Pick<MarketDataPort, 'loadSession'>;
  readonly auditReader: AuditReader;
  readonly audit: AuditSink;
  readonly environment: AuditEnvironment;
  readonly clock: Clock;
  readonly killSwitch: Pick<KillSwitchPort, 'read'>;
  /** Micro-live slices and their leverage decisions (read only). */
  readonly microLive: Pick<MicroLiveRepository, 'getSlice' | 'listLeverageDecisions'>;
  /** The leverage policy the Day-3 workflow applies (for the next tier and its trigger). */
  readonly leveragePolicy: LeveragePolicy;
  /**
   * The plan use cases ("grow $X over N days", `plans.ts`: `currentPlan` and
   * `runPlanCommand` with channel `console`), the same the Slack command and the CLI run;
   * absent: the plan routes answer 503 (not configured in this environment).
   */
  readonly plans?: ConsolePlans;
  /**
   * Engages/releases the kill switch (records it, cancels open orders and flattens the running
   * sessions on engage; `setKillSwitch`): the outcome names the cancels and flattens that failed.
   */
  readonly setKillSwitch: (input: {
    readonly engaged: boolean;
    readonly reason: string;
    readonly by: string;
    /** The request's `Idempotency-Key` (recorded once per key), null when none. */
    readonly idempotencyKey?: string | null;
    /**
     * A release's view of the switch (`changedAtIso` as the requester saw it, null: never
     * set): refused unless the switch is still that one (`setKillSwitch`). Absent: unknown.
     */
    readonly expectedChangedAtIso?: string | null;
  }) => Promise<KillSwitchOutcome>;
  /**
   * Starts a partial intraday cohort for `by` (`startPartialCohort`, channel `console`);
   * throws ValidationError (already recorded) on bad arguments.
   */
  readonly startCohort: (input: {
    readonly by: string;
    readonly args: unknown;
    /**
     * The request's `Idempotency-Key`: a repeat starts no second execution (the name derives
     * from it) and records nothing twice; null when none (every request is its own start).
     */
    readonly idempotencyKey?: string | null;
  }) => Promise<CohortStarted>;
  /**
   * Records a signature on a Day-3 approval request's chain (with the approver's note and
   * console roles) and, when it completes the chain, resumes its execution.
   */
  readonly decideApproval: (input: {
    readonly approvalId: string;
    readonly decision: 'approved' | 'rejected';
    readonly approver: string;
    readonly note: string | null;
    readonly roles: readonly string[];
    /** The request's `Idempotency-Key` (the attempt recorded once per key), null when none. */
    readonly idempotencyKey?: string | null;
  }) => Promise<ConsoleDecisionOutcome>;
}

/** Largest page of any listing. */
export const MAX_PAGE = 200;

/**
 * The market of a record stored before records named theirs (US equities, New York time).
 * Every cohort, agent, promotion and paper session the API returns carries `market`
 * (`equity-usa` | `crypto`): pages show its times in that market's zone.
 */
const DEFAULT_MARKET = 'equity-usa';
/** Longest audit window one request reads, days. */
export const MAX_AUDIT_DAYS = 31;
/** Cohort records, and their simulations (with the agents' PSR/DSR), one console process keeps in memory. */
const SIMULATION_CACHE_SIZE = 2;
/** A simulation as the console reads it: the artifact and its agents' PSR/DSR by agent id. */
interface SimulationView {
  readonly sim: SimulationResult;
  readonly inference: ReadonlyMap<string, { psr: number | null; dsr: number | null }>;
}
/** Agent curves a cohort answer carries unless `agents=` names others. */
export const DEFAULT_CURVE_AGENTS = 10;
/** Most agents `agents=` may name. */
const MAX_CURVE_AGENTS = 50;
/** Audit stream of refused console requests. */
export const REFUSALS_STREAM = 'console:refusals';
const ANONYMOUS = 'anonymous:unauthenticated';

class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly field: string | null = null,
  ) {
    super(detail);
  }
}

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
};

const json = (status: number, body: unknown): ConsoleResponse => ({
  status,
  headers: JSON_HEADERS,
  body: JSON.stringify(body),
});

function problem(p: ApiProblem, instance: string): ConsoleResponse {
  return {
    status: p.status,
    headers: { 'content-type': 'application/problem+json', 'cache-control': 'no-store' },
    body: JSON.stringify({
      type: `https://stagegate.dev/problems/${p.title.toLowerCase().replaceAll(' ', '-')}`,
      title: p.title,
      status: p.status,
      detail: p.detail,
      instance,
      ...(p.field ? { field: p.field } : {}),
    }),
  };
}

function csv(name: string, header: readonly string[], rows: CsvCell[][]): ConsoleResponse {
  return {
    status: 200,
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${name}"`,
      'cache-control': 'no-store',
    },
    body: toCsv(header, rows),
  };
}

/** A cohort the cohort and agent exports cover: a full record (one cohort asked) or a listed summary. */
type ExportCohort = CohortRecord | CohortSummary;

/** The cohorts export (`cohorts.csv`): one row per cohort, its total P&L (USD) and best agent. */
function exportCohorts(cohorts: readonly ExportCohort[]): ConsoleResponse {
  return csv(
    'cohorts.csv',
    [
      'cohort_id',
      'session_date',
      'completed_at',
      'symbols',
      'bankroll_usd',
      'agent_count',
      'total_pnl_usd',
      'best_agent_id',
    ],
    cohorts.map((c) => {
      const total = 'parent' in c ? c.parent.totalPnlUsd : c.totalPnlUsd;
      const best = 'leaderboard' in c ? (c.leaderboard[0]?.agentId ?? null) : c.bestAgentId;
      return [
        c.cohortId,
        c.sessionDate,
        c.completedAtIso,
        c.symbols.join(' '),
        c.bankrollUsd,
        c.agentCount,
        total,
        best,
      ];
    }),
  );
}

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)), 'must be a real calendar date');
const limitParam = z.coerce.number().int().min(1).max(MAX_PAGE).default(50);
const cursorParam = z.string().max(2000).optional();

const CohortListQuerySchema = z.strictObject({
  date: isoDate.optional(),
  /** `partial`: the partial (intraday) cohorts started by operators; default `complete`. */
  kind: z.enum(['complete', 'partial']).default('complete'),
  bankroll: z.coerce.number().positive().max(100_000).optional(),
  cursor: cursorParam,
  limit: limitParam,
});
const PageQuerySchema = z.strictObject({ cursor: cursorParam, limit: limitParam });
const CohortQuerySchema = z.strictObject({
  /** Comma-separated agent ids whose curves to include (default: the top ten). */
  agents: z.string().max(2000).optional(),
});
/** A UTC day window (`from`..`to`, at most {@link MAX_AUDIT_DAYS} days; none: every day). */
const windowRefine = (q: { from?: string | undefined; to?: string | undefined }) =>
  !q.from || !q.to || q.from <= q.to;
const AuditQueryBase = z.strictObject({
  kind: z.enum(AUDIT_KINDS).optional(),
  from: isoDate.optional(),
  to: isoDate.optional(),
  cursor: cursorParam,
  limit: limitParam,
});
const AuditQuerySchema = AuditQueryBase.refine(windowRefine, {
  message: 'must not be before `from`',
  path: ['to'],
});
const PaperSessionListQuerySchema = z
  .strictObject({
    from: isoDate.optional(),
    to: isoDate.optional(),
    cursor: cursorParam,
    limit: limitParam,
  })
  .refine(windowRefine, { message: 'must not be before `from`', path: ['to'] });
const MicroLiveListQuerySchema = z
  .strictObject({ from: isoDate.optional(), to: isoDate.optional() })
  .refine(windowRefine, { message: 'must not be before `from`', path: ['to'] });
const NoQuerySchema = z.strictObject({});
const NoBodySchema = z.union([z.null(), z.strictObject({})]);
const ApprovalListQuerySchema = z.strictObject({
  status: z.enum(['pending', 'approved', 'rejected', 'all']).default('all'),
  cursor: cursorParam,
  limit: limitParam,
});
const KillSwitchBodySchema = z
  .strictObject({
    engaged: z.boolean(),
    reason: z.string().trim().min(3).max(500),
    /**
     * The switch's `changedAtIso` as the page showed it (null: never set). Required for a
     * release (a request without it is a 400 naming the field, recorded), refused (409) when
     * the switch changed since; ignored on engage.
     */
    expectedChangedAtIso: z.string().min(1).max(200).nullable().optional(),
  })
  .refine((b) => b.engaged || b.expectedChangedAtIso !== undefined, {
    path: ['expectedChangedAtIso'],
    message:
      'required to release: the changedAtIso of the switch you saw (null when never set), so a release never undoes an engage made since',
  });
const PlanGrowBodySchema = z.strictObject({
  /** Target gain, USD. */
  amountUsd: z.number().positive().max(10_000_000),
  /** Trading sessions the plan covers. */
  days: z.number().int().min(1).max(60),
});
const PlanCancelBodySchema = z.strictObject({
  reason: z.string().trim().min(3).max(500),
});
const DecisionBodySchema = z.strictObject({
  decision: z.enum(['approve', 'reject']),
  note: z.string().max(1000).optional(),
});
const CohortExportQuerySchema = z.strictObject({
  date: isoDate.optional(),
  bankroll: z.coerce.number().positive().max(100_000).optional(),
  cohort: z.string().max(200).optional(),
});
const OrdersExportQuerySchema = z.strictObject({ promotion: z.string().max(200).optional() });
const AuditExportQuerySchema = AuditQueryBase.omit({ cursor: true, limit: true });

/**
 * The query schema of every GET route and the body schema of every POST route handled here,
 * keyed as in `docs/console-api.openapi.yaml` (`get /api/cohorts`); the contract test holds
 * the document's parameters and request bodies to them. (`post /api/cohorts` validates its
 * body in `cohort-start.ts`.)
 */
export const ROUTE_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  'get /api/me': NoQuerySchema,
  'get /api/status': NoQuerySchema,
  'get /api/cohorts': CohortListQuerySchema,
  'get /api/cohorts/{cohortId}': CohortQuerySchema,
  'get /api/cohorts/{cohortId}/agents/{agentId}': NoQuerySchema,
  'get /api/promotions': PageQuerySchema,
  'get /api/promotions/{promotionId}': NoQuerySchema,
  'get /api/paper-sessions': PaperSessionListQuerySchema,
  'get /api/paper-sessions/{promotionId}': NoQuerySchema,
  'get /api/micro-live': MicroLiveListQuerySchema,
  'get /api/micro-live/{sliceId}': NoQuerySchema,
  'get /api/kill-switch': NoQuerySchema,
  'get /api/plans/current': NoQuerySchema,
  'post /api/plans': PlanGrowBodySchema,
  'post /api/plans/current/report': NoBodySchema,
  'post /api/plans/current/cancel': PlanCancelBodySchema,
  'post /api/kill-switch': KillSwitchBodySchema,
  'get /api/approvals': ApprovalListQuerySchema,
  'get /api/approvals/{approvalId}': NoQuerySchema,
  'post /api/approvals/{approvalId}/decision': DecisionBodySchema,
  'get /api/audit': AuditQuerySchema,
  'get /api/exports/cohorts.csv': CohortExportQuerySchema,
  'get /api/exports/agents.csv': CohortExportQuerySchema,
  'get /api/exports/orders.csv': OrdersExportQuerySchema,
  'get /api/exports/audit.csv': AuditExportQuerySchema,
};

function parse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'query' | 'body',
): z.infer<S> {
  const out = schema.safeParse(value);
  if (out.success) return out.data;
  // The error's message is already `<field>: <issue>`.
  const { field, message } = validationErrorOf(out.error, where);
  throw new ApiProblem(400, 'Invalid request', message, field);
}

function pageOf<T, R>(page: Page<T>, map: (t: T) => R): { items: R[]; nextCursor: string | null } {
  return { items: page.items.map(map), nextCursor: page.next ? encodeCursor(page.next) : null };
}

function cursorOf(q: { cursor?: string | undefined }): Record<string, unknown> | undefined {
  if (!q.cursor) return undefined;
  try {
    return decodeCursor(q.cursor);
  } catch (err) {
    throw new ApiProblem(400, 'Invalid request', (err as Error).message, 'query.cursor');
  }
}

/** Days `from..to` inclusive, `YYYY-MM-DD`. */
function daysBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (
    let t = Date.parse(`${from}T00:00:00Z`);
    t <= Date.parse(`${to}T00:00:00Z`);
    t += 86_400_000
  ) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

/** Reads a CSRF cookie value from a `cookie` header. */
function cookieValue(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return null;
}

/** A downsampled curve: `[epoch ms UTC, value]` pairs. */
function curve(timestamps: readonly number[], values: readonly number[]): [number, number][] {
  return downsampleIndices(values).map((i) => [timestamps[i] as number, values[i] as number]);
}

/** Running drawdown of an equity curve, fractions of the running peak (<= 0). */
function underwater(values: readonly number[]): number[] {
  let peak = Number.NEGATIVE_INFINITY;
  return values.map((v) => {
    peak = Math.max(peak, v);
    return peak > 0 ? v / peak - 1 : 0;
  });
}

/**
 * The value of `key` in a least-recently-used cache of at most `SIMULATION_CACHE_SIZE` entries,
 * read with `load` on a miss; a read that fails is dropped, so the next call tries again.
 */
function cached<T>(
  cache: Map<string, Promise<T>>,
  key: string,
  load: () => Promise<T>,
): Promise<T> {
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const value = load();
  cache.set(key, value);
  value.catch(() => {
    if (cache.get(key) === value) cache.delete(key);
  });
  while (cache.size > SIMULATION_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return value;
}

/** The router. Construct once per process with its deps; `handle` never throws. */
export class ConsoleApi {
  /**
   * The last few cohorts' simulations read and their per-agent PSR/DSR, keyed by the cohort
   * record's simulation key, execution and completion time (a simulation artifact is written once
   * per execution; a re-run under the same key is another entry). Saves reading, decompressing
   * and parsing the whole simulation and recomputing PSR/DSR of every agent on each
   * `GET /cohorts/{id}` (about 0.7 s of CPU for 1,000 agents). Values are shared: never mutate
   * them.
   */
  private readonly simulations = new Map<string, Promise<SimulationView>>();
  /**
   * The last few cohort records read (header and 1,000-row leaderboard), by cohort id. A saved
   * cohort never changes (the repository writes a cohort id once, header last and
   * conditionally), so a hit is never stale; a failed read (unknown id) is not kept. Saves the
   * leaderboard query on every `GET /cohorts/{id}` and agent drill-down (most of the request's
   * time on a 1,000-agent cohort). Values are shared: never mutate them.
   */
  private readonly records = new Map<string, Promise<CohortRecord>>();

  constructor(private readonly deps: ConsoleApiDeps) {}

  /** Answers one request (see the module comment for the rules). */
  async handle(req: ConsoleRequest): Promise<ConsoleResponse> {
    const method = req.method.toUpperCase();
    const path = req.path.replace(/\/+$/, '') || '/';
    try {
      if (!path.startsWith('/api/')) throw new ApiProblem(404, 'Not found', `no route ${path}`);
      const route = path.slice('/api'.length);
      if (method === 'GET' || method === 'HEAD') return await this.read(req, route);
      if (method !== 'POST') {
        throw new ApiProblem(405, 'Method not allowed', `${method} is not allowed`);
      }
      return await this.write(req, route);
    } catch (err) {
      if (err instanceof ApiProblem) {
        if ([400, 401, 403, 415].includes(err.status)) {
          await this.recordRefusal(req, err);
        }
        return problem(err, path);
      }
      if (err instanceof NotFoundError) {
        return problem(new ApiProblem(404, 'Not found', err.message), path);
      }
      if (err instanceof ValidationError) {
        return problem(new ApiProblem(400, 'Invalid request', err.message, err.field), path);
      }
      if (err instanceof PlanRecordCorruptError) {
        // A storage fault, not the request's: a 500 naming the item (the 5xx alarm fires).
        return problem(new ApiProblem(500, 'Stored plan unreadable', err.message, 'plan'), path);
      }
      const retryable = err instanceof StagegateError && err.retryable;
      return problem(
        new ApiProblem(
          retryable ? 503 : 500,
          retryable ? 'Temporarily unavailable' : 'Internal error',
          retryable
            ? 'storage is temporarily unavailable; nothing was changed'
            : 'unexpected error',
        ),
        path,
      );
    }
  }

  private authorize(req: ConsoleRequest, action: ConsoleAction): string {
    if (!req.identity) {
      throw new ApiProblem(401, 'Unauthorized', 'sign in first (no authenticated identity)');
    }
    if (!mayPerform(req.roles, action)) {
      const need =
        action === 'read'
          ? 'any console role'
          : action === 'approve'
            ? 'operator or risk'
            : 'operator';
      throw new ApiProblem(403, 'Forbidden', `${action} requires the ${need} role`, 'role');
    }
    return req.identity;
  }

  private async recordRefusal(req: ConsoleRequest, p: ApiProblem): Promise<void> {
    const draft: AuditDraft = {
      kind: 'input_rejected',
      actor: req.identity ?? ANONYMOUS,
      stream: REFUSALS_STREAM,
      environment: this.deps.environment,
      payload: {
        source: 'console-api',
        field: p.field ?? (p.status === 401 ? 'identity' : 'request'),
        message: p.detail,
        status: p.status,
        method: req.method.toUpperCase(),
        path: req.path.slice(0, 300),
        roles: [...req.roles],
      },
    };
    await this.deps.audit.append(draft);
  }

  // -------------------------------------------------------------------------------------------
  // Reads
  // -------------------------------------------------------------------------------------------

  private async read(req: ConsoleRequest, route: string): Promise<ConsoleResponse> {
    const identity = this.authorize(req, 'read');
    const q = req.query;
    if (route === '/me') {
      parse(NoQuerySchema, q, 'query');
      return json(200, { identity, roles: req.roles });
    }
    if (route === '/status') {
      parse(NoQuerySchema, q, 'query');
      return json(200, await deskStatus(this.deps));
    }
    if (route === '/cohorts') return json(200, await this.listCohorts(q));
    const m1 = /^\/cohorts\/([^/]+)$/.exec(route);
    if (m1) {
      return json(200, await this.cohort(decodeURIComponent(m1[1] as string), q));
    }
    const m2 = /^\/cohorts\/([^/]+)\/agents\/([^/]+)$/.exec(route);
    if (m2) {
      parse(NoQuerySchema, q, 'query');
      return json(
        200,
        await this.agent(decodeURIComponent(m2[1] as string), decodeURIComponent(m2[2] as string)),
      );
    }
    if (route === '/promotions') {
      const p = parse(PageQuerySchema, q, 'query');
      const page = await this.deps.readModel.listPromotions({
        limit: p.limit,
        cursor: cursorOf(p),
      });
      return json(
        200,
        pageOf(page, (x) => ({ ...x, market: promotionMarket(x) })),
      );
    }
    const m3 = /^\/promotions\/([^/]+)$/.exec(route);
    if (m3) {
      parse(NoQuerySchema, q, 'query');
      return json(200, await this.promotion(decodeURIComponent(m3[1] as string)));
    }
    if (route === '/paper-sessions') return json(200, await this.listPaperSessions(q));
    const m7 = /^\/paper-sessions\/([^/]+)$/.exec(route);
    if (m7) {
      parse(NoQuerySchema, q, 'query');
      return json(200, await this.paperSession(decodeURIComponent(m7[1] as string)));
    }
    if (route === '/micro-live') return json(200, await this.listMicroLive(q));
    const m8 = /^\/micro-live\/([^/]+)$/.exec(route);
    if (m8) {
      parse(NoQuerySchema, q, 'query');
      return json(200, await this.microLive(decodeURIComponent(m8[1] as string)));
    }
    if (route === '/kill-switch') {
      parse(NoQuerySchema, q, 'query');
      const state = await this.deps.killSwitch.read();
      return json(200, {
        ...(state ?? { engaged: false, reason: 'never set', changedBy: null, changedAtIso: null }),
        lastEngageNote: lastEngageNote(state),
      });
    }
    if (route === '/plans/current') {
      parse(NoQuerySchema, q, 'query');
      // The stored plan as last reported (a GET never reports: POST .../report does).
      return json(200, { plan: await this.plansDeps().current() });
    }
    if (route === '/approvals') return json(200, await this.listApprovals(q));
    const m4 = /^\/approvals\/([^/]+)$/.exec(route);
    if (m4) {
      parse(NoQuerySchema, q, 'query');
      return json(200, await this.approval(decodeURIComponent(m4[1] as string)));
    }
    if (route === '/audit') return json(200, await this.auditPage(q));
    const m5 = /^\/exports\/(cohorts|agents|orders|audit)\.csv$/.exec(route);
    if (m5) {
      return this.export(m5[1] as 'cohorts' | 'agents' | 'orders' | 'audit', q);
    }
    throw new ApiProblem(404, 'Not found', `no route GET /api${route}`);
  }

  private async listCohorts(q: Readonly<Record<string, string>>) {
    const p = parse(CohortListQuerySchema, q, 'query');
    const page = await this.deps.readModel.listCohorts({
      ...(p.date ? { sessionDate: p.date } : {}),
      ...(p.bankroll !== undefined ? { bankrollUsd: p.bankroll } : {}),
      kind: p.kind,
      limit: p.limit,
      cursor: cursorOf(p),
    });
    return pageOf(page, (c) => ({ ...c, market: c.market ?? DEFAULT_MARKET }));
  }

  /**
   * The cohort's simulation, sharded ones (big cohorts) assembled from their shards, with its
   * agents' PSR/DSR; from the cache of the last `SIMULATION_CACHE_SIZE` cohorts read.
   */
  private simulation(record: CohortRecord): Promise<SimulationView> {
    const key = `${record.artifacts.simulationKey}|${record.executionId}|${record.completedAtIso}`;
    return cached(this.simulations, key, () =>
      readSimulation(this.deps.artifacts, record.artifacts.simulationKey).then((sim) => ({
        sim,
        inference: psrDsrOfAgents(sim),
      })),
    );
  }

  /** A cohort record, from the cache of the last `SIMULATION_CACHE_SIZE` cohorts read. */
  private cohortRecord(cohortId: string): Promise<CohortRecord> {
    return cached(this.records, cohortId, () => this.deps.cohorts.get(cohortId));
  }

  private async cohort(cohortId: string, q: Readonly<Record<string, string>>) {
    const p = parse(CohortQuerySchema, q, 'query');
    const record = await this.cohortRecord(cohortId);
    const wanted = p.agents
      ? p.agents.split(',').filter(Boolean).slice(0, MAX_CURVE_AGENTS)
      : record.leaderboard.slice(0, DEFAULT_CURVE_AGENTS).map((r) => r.agentId);
    const { sim, inference } = await this.simulation(record);
    const ts = sim.timestamps;
    const { leaderboard, parent, ...rest } = record;
    const { sharpe: _parentSharpe, ...parentFigures } = parent;
    return {
      cohort: { ...rest, market: rest.market ?? DEFAULT_MARKET, parent: parentFigures },
      leaderboard: leaderboard.map((r) => ({ ...withoutSharpe(r), ...inference.get(r.agentId) })),
      /** How `psr`/`dsr` of the rows were measured. */
      sharpeInference: {
        frequency: 'minute',
        returns: 'the agent equity curve of this session, one simple return per bar',
        benchmarkSharpe: 0,
        trials: new Set(sim.agents.map((a) => a.genome.id)).size,
        source: 'Bailey & López de Prado 2012 (PSR), 2014 (DSR)',
      },
      curves: {
        parent: {
          equity: curve(ts, sim.parent.equityCurve),
          grossExposure: curve(ts, sim.parent.grossExposureCurve),
          underwater: curve(ts, underwater(sim.parent.equityCurve)),
          /** Σ agent gross exposure / bankroll, fraction. */
          utilization: curve(
            ts,
            sim.parent.grossExposureCurve.map((g) => g / Math.max(1e-9, sim.bankrollUsd)),
          ),
        },
        agents: wanted.flatMap((id) => {
          const a = sim.agents.find((x) => x.agentId === id);
          return a ? [{ agentId: a.agentId, equity: curve(ts, a.equityCurve) }] : [];
        }),
      },
      risk: {
        parentMaxDrawdownFraction: record.parent.maxDrawdownFraction,
        peakUtilization: record.parent.peakUtilization,
        meanUtilization: record.parent.meanUtilization,
        leverageBreaches: leaderboard.reduce((s, r) => s + r.leverageBreaches, 0),
        exposureBreaches: leaderboard.reduce((s, r) => s + r.exposureBreaches, 0),
      },
    };
  }

  private async agent(cohortId: string, agentId: string) {
    const record = await this.cohortRecord(cohortId);
    const row = record.leaderboard.find((r) => r.agentId === agentId);
    if (!row) throw new NotFoundError('agent', `${agentId} in cohort ${cohortId}`);
    const { sim } = await this.simulation(record);
    const agent = sim.agents.find((a) => a.agentId === agentId);
    if (!agent) throw new NotFoundError('agent', `${agentId} in ${record.artifacts.simulationKey}`);
    return {
      cohortId,
      sessionDate: record.sessionDate,
      market: record.market ?? DEFAULT_MARKET,
      row: withoutSharpe(row),
      genome: agent.genome,
      equity: curve(sim.timestamps, agent.equityCurve),
      underwater: curve(sim.timestamps, underwater(agent.equityCurve)),
      fills: agent.fills,
      positions: agent.positions,
    };
  }

  private async gateTable(promotion: StagedPromotion) {
    const records = await this.readAudit(utcDayAndNext(promotion.stagedAtIso));
    return gateRowsOf(records, promotion.promotionId);
  }

  private async promotion(promotionId: string) {
    const promotion = await this.deps.promotions.get(promotionId);
    const [orders, gates] = await Promise.all([
      this.deps.promotions.listOrders(promotionId),
      this.gateTable(promotion),
    ]);
    return {
      promotion: { ...promotion, market: promotionMarket(promotion) },
      gates,
      orders: orders.map(orderView),
    };
  }

  /** The records of the staging day of `promotion` and the next (a session may cross UTC midnight). */
  private async promotionDays(stagedAtIso: string): Promise<AuditRow[]> {
    return this.readAudit(utcDayAndNext(stagedAtIso));
  }

  private async listPaperSessions(q: Readonly<Record<string, string>>) {
    const p = parse(PaperSessionListQuerySchema, q, 'query');
    const all = paperSessionsFrom(await this.readAudit(this.auditDays(p), PROMOTION_STREAMS));
    const offset = p.cursor ? Number(cursorOf(p)?.offset ?? 0) : 0;
    return {
      items: all.slice(offset, offset + p.limit).map(paperSessionSummary),
      total: all.length,
      nextCursor: offset + p.limit < all.length ? encodeCursor({ offset: offset + p.limit }) : null,
    };
  }

  private async paperSession(promotionId: string) {
    const promotion = await this.deps.promotions.get(promotionId);
    const session = paperSessionOf(promotionId, await this.promotionDays(promotion.stagedAtIso));
    if (!session) throw new NotFoundError('paper session', promotionId);
    return {
      session,
      prices: await this.sessionPrices(session.sessionDate, session.symbol),
      promotion: {
        promotionId: promotion.promotionId,
        cohortId: promotion.cohortId,
        agentId: promotion.agentId,
        sessionDate: promotion.sessionDate,
        bankrollUsd: promotion.bankrollUsd,
        capitalSliceUsd: promotion.capitalSliceUsd,
        status: promotion.status,
        market: promotionMarket(promotion),
      },
    };
  }

  /**
   * The symbol's minute closes of the session (downsampled `[epochMs, close USD]`), for the
   * price chart the orders are drawn on; `error` says why there are none.
   */
  private async sessionPrices(date: string | null, symbol: string | null) {
    if (!date || !symbol)
      return { symbol, close: [], error: 'the session did not record its symbol and date' };
    try {
      const minutes = symbolMinutes(await this.deps.marketData.loadSession(date, [symbol]), symbol);
      if (!minutes) return { symbol, close: [], error: `no ${symbol} bars on ${date}` };
      const ts: number[] = [];
      const close: number[] = [];
      minutes.ts.forEach((t, i) => {
        const c = minutes.series.close[i] as number;
        if (c > 0) {
          ts.push(t);
          close.push(c);
        }
      });
      return { symbol, close: curve(ts, close), error: null };
    } catch (err) {
      if (!(err instanceof StagegateError)) throw err;
      return { symbol, close: [], error: `${err.name}: ${err.message}` };
    }
  }

  private async sliceView(sliceId: string) {
    const [slice, decisions] = await Promise.all([
      this.deps.microLive.getSlice(sliceId),
      this.deps.microLive.listLeverageDecisions(sliceId),
    ]);
    return microLiveView(slice, decisions, this.deps.leveragePolicy);
  }

  private async listMicroLive(q: Readonly<Record<string, string>>) {
    const p = parse(MicroLiveListQuerySchema, q, 'query');
    const ids = sliceIdsFrom(await this.readAudit(this.auditDays(p))).slice(0, MAX_PAGE);
    const items = [];
    for (const id of ids) {
      try {
        items.push(await this.sliceView(id));
      } catch (err) {
        // A slice named in the trail but not stored (purged, or another table): left out.
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    return { items, policy: this.deps.leveragePolicy };
  }

  private async microLive(sliceId: string) {
    return { ...(await this.sliceView(sliceId)), policy: this.deps.leveragePolicy };
  }

  /** One approval request with its chain (signatures, refusals, task-token state) from the trail. */
  private async approval(approvalId: string) {
    const v = await this.deps.readModel.getApproval(approvalId);
    const from = v.createdAtIso.slice(0, 10);
    const to = [from, v.expiresAtIso.slice(0, 10), (v.decidedAtIso ?? '').slice(0, 10)]
      .sort()
      .at(-1) as string;
    const days = daysBetween(from, to).slice(0, MAX_AUDIT_DAYS);
    const chain = approvalChain(v, await this.readAudit(days), this.deps.clock.now());
    return { ...this.approvalView(v), chain };
  }

  /** The flat view (the chain's steps are in `chain.signatureSteps` of one request). */
  private approvalView(v: ApprovalView) {
    const { equityCurve, chain: steps, ...rest } = v;
    return {
      ...rest,
      signaturesRequired: steps.length,
      equityCurve,
      expired: approvalExpiredAt(v, this.deps.clock.now()),
    };
  }

  private async listApprovals(q: Readonly<Record<string, string>>) {
    const p = parse(ApprovalListQuerySchema, q, 'query');
    const page = await this.deps.readModel.listApprovals({ limit: p.limit, cursor: cursorOf(p) });
    const items = page.items
      .filter((a) => p.status === 'all' || a.status === p.status)
      .map((a) => {
        const { equityCurve: _curve, ...rest } = this.approvalView(a);
        return rest;
      });
    return { items, nextCursor: page.next ? encodeCursor(page.next) : null };
  }

  /**
   * Parsed records of the given UTC days (all days when `days` is null), oldest first; only
   * those of the streams `streamPrefixes` selects when given.
   */
  private readAudit(
    days: readonly string[] | null,
    streamPrefixes?: readonly string[],
  ): Promise<AuditRow[]> {
    return readAuditRows(this.deps.auditReader, this.deps.environment, days, streamPrefixes);
  }

  private auditDays(q: { from?: string | undefined; to?: string | undefined }): string[] | null {
    if (!q.from && !q.to) return null;
    const from = q.from ?? (q.to as string);
    const to = q.to ?? new Date(this.deps.clock.now()).toISOString().slice(0, 10);
    const days = daysBetween(from, to.localeCompare(from) < 0 ? from : to);
    if (days.length > MAX_AUDIT_DAYS) {
      throw new ApiProblem(
        400,
        'Invalid request',
        `query.to: the window is ${days.length} days; at most ${MAX_AUDIT_DAYS}`,
        'query.to',
      );
    }
    return days;
  }

  private async auditPage(q: Readonly<Record<string, string>>) {
    const p = parse(AuditQuerySchema, q, 'query');
    const days = this.auditDays(p);
    const inputs = days
      ? (
          await Promise.all(
            days.map((date) =>
              this.deps.auditReader.readRecords({ environment: this.deps.environment, date }),
            ),
          )
        ).flat()
      : await this.deps.auditReader.readRecords({ environment: this.deps.environment });
    const chain = verifyChains(inputs, { partial: days !== null });
    const all = (await this.readAudit(days)).filter((r) => !p.kind || r.kind === p.kind);
    const offset = p.cursor ? Number(cursorOf(p)?.offset ?? 0) : 0;
    const items = all.slice(offset, offset + p.limit);
    const brokenIds = new Set(chain.breaks.map((b) => b.id).filter((id): id is string => !!id));
    return {
      items: items.map((r) => ({ ...r, chainBroken: brokenIds.has(r.id) })),
      total: all.length,
      nextCursor: offset + p.limit < all.length ? encodeCursor({ offset: offset + p.limit }) : null,
      chain: {
        ok: chain.ok,
        checked: chain.checked,
        streams: chain.streams,
        firstBreak: chain.firstBreak,
        breaks: chain.breaks.slice(0, 20),
        window: days === null ? 'all' : `${days[0]}..${days[days.length - 1]}`,
      },
    };
  }

  private async allPages<T>(
    list: (cursor: Record<string, unknown> | undefined) => Promise<Page<T>>,
    max = 10_000,
  ): Promise<T[]> {
    const out: T[] = [];
    let cursor: Record<string, unknown> | undefined;
    do {
      const page = await list(cursor);
      out.push(...page.items);
      cursor = page.next ?? undefined;
    } while (cursor && out.length < max);
    return out;
  }

  private async export(
    what: 'cohorts' | 'agents' | 'orders' | 'audit',
    q: Readonly<Record<string, string>>,
  ): Promise<ConsoleResponse> {
    if (what === 'audit') return this.exportAudit(q);
    if (what === 'orders') return this.exportOrders(q);
    const cohorts = await this.exportCohortList(q);
    return what === 'cohorts' ? exportCohorts(cohorts) : this.exportAgents(cohorts);
  }

  /** The audit export (`audit.csv`): the audit rows of the query's days, optionally of one kind. */
  private async exportAudit(q: Readonly<Record<string, string>>): Promise<ConsoleResponse> {
    const p = parse(AuditExportQuerySchema, q, 'query');
    const rows = (await this.readAudit(this.auditDays(p))).filter(
      (r) => !p.kind || r.kind === p.kind,
    );
    return csv(
      'audit.csv',
      [
        'id',
        'ts',
        'kind',
        'actor',
        'stream',
        'seq',
        'cohort_id',
        'promotion_id',
        'order_id',
        'payload',
        'hash',
        'prev_hash',
      ],
      rows.map((r) => [
        r.id,
        r.ts,
        r.kind,
        r.actor,
        r.stream,
        r.seq,
        r.subject.cohort_id,
        r.subject.promotion_id,
        r.subject.order_id,
        JSON.stringify(r.payload),
        r.hash,
        r.prevHash,
      ]),
    );
  }

  /** The orders export (`orders.csv`): the orders of one promotion, or of every promotion. */
  private async exportOrders(q: Readonly<Record<string, string>>): Promise<ConsoleResponse> {
    const p = parse(OrdersExportQuerySchema, q, 'query');
    const promotions = p.promotion
      ? [await this.deps.promotions.get(p.promotion)]
      : await this.allPages(
          (cursor) => this.deps.readModel.listPromotions({ limit: MAX_PAGE, cursor }),
          2_000,
        );
    const rows: CsvCell[][] = [];
    for (const promo of promotions) {
      for (const o of await this.deps.promotions.listOrders(promo.promotionId)) {
        const v = orderView(o);
        rows.push([
          promo.promotionId,
          promo.sessionDate,
          promo.agentId,
          promo.bankrollUsd,
          promo.capitalSliceUsd,
          v.clientOrderId,
          v.symbol,
          v.side,
          v.qty,
          v.status,
          v.filledQty,
          v.avgFillPriceUsd,
          v.createdAtIso,
        ]);
      }
    }
    return csv(
      'orders.csv',
      [
        'promotion_id',
        'session_date',
        'agent_id',
        'bankroll_usd',
        'capital_slice_usd',
        'client_order_id',
        'symbol',
        'side',
        'qty',
        'status',
        'filled_qty',
        'avg_fill_price_usd',
        'created_at',
      ],
      rows,
    );
  }

  /** The cohorts the cohort and agent exports cover: one cohort, or those of a date/bankroll filter. */
  private async exportCohortList(q: Readonly<Record<string, string>>): Promise<ExportCohort[]> {
    const p = parse(CohortExportQuerySchema, q, 'query');
    return p.cohort
      ? [await this.deps.cohorts.get(p.cohort)]
      : await this.allPages((cursor) =>
          this.deps.readModel.listCohorts({
            ...(p.date ? { sessionDate: p.date } : {}),
            ...(p.bankroll !== undefined ? { bankrollUsd: p.bankroll } : {}),
            limit: MAX_PAGE,
            cursor,
          }),
        );
  }

  /** The agents export (`agents.csv`): the leaderboard rows of up to 200 of the cohorts. */
  private async exportAgents(cohorts: readonly ExportCohort[]): Promise<ConsoleResponse> {
    const rows: CsvCell[][] = [];
    for (const summary of cohorts.slice(0, 200)) {
      const record =
        'leaderboard' in summary ? summary : await this.deps.cohorts.get(summary.cohortId);
      for (const r of record.leaderboard) {
        rows.push([
          record.cohortId,
          record.sessionDate,
          record.bankrollUsd,
          r.rank,
          r.agentId,
          r.genomeId,
          r.family,
          r.symbol,
          r.allocationUsd,
          r.totalPnlUsd,
          r.realizedPnlUsd,
          r.unrealizedPnlUsd,
          r.feesUsd,
          r.roi,
          r.sessionVolatility ?? null,
          r.maxDrawdownFraction,
          r.bankrollUtilization,
          r.leverageBreaches,
          r.exposureBreaches,
          r.tradeCount,
        ]);
      }
    }
    return csv(
      'agents.csv',
      [
        'cohort_id',
        'session_date',
        'bankroll_usd',
        'rank',
        'agent_id',
        'genome_id',
        'family',
        'symbol',
        'allocation_usd',
        'total_pnl_usd',
        'realized_pnl_usd',
        'unrealized_pnl_usd',
        'fees_usd',
        'roi',
        'session_volatility',
        'max_drawdown_fraction',
        'bankroll_utilization',
        'leverage_breaches',
        'exposure_breaches',
        'trade_count',
      ],
      rows,
    );
  }

  // -------------------------------------------------------------------------------------------
  // Writes
  // -------------------------------------------------------------------------------------------

  private checkCsrf(req: ConsoleRequest): void {
    const header = req.headers['x-csrf-token'];
    const cookie = cookieValue(req.headers.cookie, 'stagegate_csrf');
    if (!header || !cookie || header.length < 16 || header !== cookie) {
      throw new ApiProblem(
        403,
        'CSRF token invalid',
        'the x-csrf-token header must equal the stagegate_csrf cookie',
        'csrf',
      );
    }
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      throw new ApiProblem(415, 'Unsupported media type', 'send application/json', 'content-type');
    }
  }

  /**
   * The `Idempotency-Key` header of a write (the console's pages send one per rendered action,
   * so a double submit or a retried request is one change, recorded once): 16-128 characters
   * `[A-Za-z0-9_-]`, null when absent (every request is then its own change).
   *
   * @throws ApiProblem 400 (recorded) when it is malformed.
   */
  private idempotencyKey(req: ConsoleRequest): string | null {
    const key = req.headers['idempotency-key'];
    if (key === undefined || key === '') return null;
    if (!/^[A-Za-z0-9_-]{16,128}$/.test(key)) {
      throw new ApiProblem(
        400,
        'Invalid request',
        'Idempotency-Key: must be 16-128 characters [A-Za-z0-9_-]',
        'idempotency-key',
      );
    }
    return key;
  }

  private body(req: ConsoleRequest): unknown {
    if (req.body.length > 16 * 1024) {
      throw new ApiProblem(400, 'Invalid request', 'body: larger than 16 KiB', 'body');
    }
    try {
      return JSON.parse(req.body || 'null') as unknown;
    } catch {
      throw new ApiProblem(400, 'Invalid request', 'body: is not JSON', 'body');
    }
  }

  /**
   * `POST /api/kill-switch`: engages or releases; 200 with the outcome, its `endedNote` (the
   * orders found already ended, `killSwitchEndedNote`) and its `shortfall`, 409
   * when a release found the switch changed since it read it, or since the page showed it
   * (`expectedChangedAtIso`; `KillSwitchChangedError`: nothing written, already recorded
   * `input_rejected` by the use case; the detail names who and when).
   */
  private async changeKillSwitch(req: ConsoleRequest): Promise<ConsoleResponse> {
    const by = this.authorize(req, 'kill_switch');
    this.checkCsrf(req);
    const b = parse(KillSwitchBodySchema, this.body(req), 'body');
    const idempotencyKey = this.idempotencyKey(req);
    try {
      const out = await this.deps.setKillSwitch({
        engaged: b.engaged,
        reason: b.reason,
        by,
        idempotencyKey,
        ...(b.expectedChangedAtIso !== undefined
          ? { expectedChangedAtIso: b.expectedChangedAtIso }
          : {}),
      });
      return json(200, {
        ...out,
        endedNote: killSwitchEndedNote(out),
        shortfall: killSwitchShortfall(out),
        unchangedNote: killSwitchUnchangedNote(out),
      });
    } catch (err) {
      if (!(err instanceof KillSwitchChangedError)) throw err;
      throw new ApiProblem(409, 'Kill switch changed meanwhile', err.message, 'kill_switch');
    }
  }

  private async write(req: ConsoleRequest, route: string): Promise<ConsoleResponse> {
    if (route === '/kill-switch') return await this.changeKillSwitch(req);
    if (route === '/plans' || route.startsWith('/plans/')) return await this.writePlan(req, route);
    const m6 = /^\/approvals\/([^/]+)\/decision$/.exec(route);
    if (m6) {
      const by = this.authorize(req, 'approve');
      this.checkCsrf(req);
      const b = parse(DecisionBodySchema, this.body(req), 'body');
      const out = await this.deps.decideApproval({
        approvalId: decodeURIComponent(m6[1] as string),
        decision: b.decision === 'approve' ? 'approved' : 'rejected',
        approver: by,
        note: b.note?.trim() ? b.note.trim() : null,
        roles: req.roles,
        idempotencyKey: this.idempotencyKey(req),
      });
      if (!out.ok) {
        // Already audited by the approval use case (approval_decided / refused attempt).
        return problem(
          new ApiProblem(out.httpStatus, 'Decision refused', out.detail, out.field),
          req.path,
        );
      }
      return json(200, out);
    }
    if (route === '/cohorts') {
      const by = this.authorize(req, 'cohort_start');
      this.checkCsrf(req);
      let out: CohortStarted;
      try {
        out = await this.deps.startCohort({
          by,
          args: this.body(req),
          idempotencyKey: this.idempotencyKey(req),
        });
      } catch (err) {
        // Already recorded as input_rejected by the use case: answer without a second record.
        if (!(err instanceof ValidationError)) throw err;
        return problem(
          new ApiProblem(400, 'Invalid request', `body.${err.message}`, `body.${err.field}`),
          req.path,
        );
      }
      if (out.status === 'FAILED') {
        // The workflow refused or failed (it recorded why): problem+json with the start's ids.
        const p = problem(
          new ApiProblem(422, 'Cohort failed', `${out.error ?? 'failed'}: ${out.cause ?? ''}`),
          req.path,
        );
        return {
          ...p,
          body: JSON.stringify({
            ...JSON.parse(p.body),
            cohortId: out.cohortId,
            executionName: out.executionName,
          }),
        };
      }
      return json(out.status === 'SUCCEEDED' ? 201 : 202, out);
    }
    throw new ApiProblem(404, 'Not found', `no route POST /api${route}`);
  }

  private plansDeps(): ConsolePlans {
    if (!this.deps.plans) {
      throw new ApiProblem(503, 'Not configured', 'plans are not configured in this environment');
    }
    return this.deps.plans;
  }

  /**
   * `POST /api/plans` (create), `/api/plans/current/report` (report the sessions that closed
   * since: actual vs plan, stops on a breach), `/api/plans/current/cancel`: operator role,
   * CSRF token, zod-validated body; the plan use cases record every change (`plan_event`) and
   * every refused prerequisite (`input_rejected`, stream `plan:commands`), so a refusal is
   * answered without a second record.
   */
  private async writePlan(req: ConsoleRequest, route: string): Promise<ConsoleResponse> {
    let command: ConsolePlanCommand;
    const by = this.authorize(req, 'plan');
    this.checkCsrf(req);
    if (route === '/plans') {
      const b = parse(PlanGrowBodySchema, this.body(req), 'body');
      command = { kind: 'plan_grow', amountUsd: b.amountUsd, days: b.days };
    } else if (route === '/plans/current/cancel') {
      const b = parse(PlanCancelBodySchema, this.body(req), 'body');
      command = { kind: 'plan_cancel', reason: b.reason };
    } else if (route === '/plans/current/report') {
      parse(NoBodySchema, this.body(req), 'body');
      command = { kind: 'plan_status' };
    } else {
      throw new ApiProblem(404, 'Not found', `no route POST /api${route}`);
    }
    const deps = this.plansDeps();
    const idempotencyKey = this.idempotencyKey(req);
    try {
      const out = await deps.run(command, by, idempotencyKey);
      return json(command.kind === 'plan_grow' ? 201 : 200, {
        title: out.title,
        lines: out.lines,
        plan: out.plan,
      });
    } catch (err) {
      return problem(planProblem(err), req.path);
    }
  }
}

/**
 * The answer to a refused plan command (already recorded by the use case): 404 no active
 * plan; 409 the plan changed meanwhile (a concurrent request stored first: retry); 422 a
 * prerequisite, another active plan, or the `Idempotency-Key` reused with another body.
 * @throws `err` when it is not a refusal (the generic 5xx mapping answers it).
 */
function planProblem(err: unknown): ApiProblem {
  if (err instanceof NotFoundError) return new ApiProblem(404, 'Not found', err.message, 'plan');
  if (err instanceof PlanConflictError) {
    return new ApiProblem(409, 'Plan changed meanwhile', err.message, 'plan');
  }
  if (err instanceof IdempotencyKeyReusedError) {
    return new ApiProblem(422, 'Idempotency key reused', err.message, 'idempotency-key');
  }
  if (err instanceof ValidationError) {
    return new ApiProblem(422, 'Plan refused', err.message, `body.${err.field}`);
  }
  throw err;
}

/**
 * A leaderboard row without its stored `sharpe` (an annualized minute Sharpe, kept in the
 * record only): no console page or export shows it, since decisions rest on PSR/DSR and
 * session-level statistics.
 */
function withoutSharpe<R extends { sharpe: number }>(row: R): Omit<R, 'sharpe'> {
  const { sharpe: _sharpe, ...rest } = row;
  return rest;
}

/**
 * PSR and DSR of every agent of a cohort on its per-bar (minute) equity returns within the
 * session: PSR(0) = P(true per-minute Sharpe > 0) (Bailey & López de Prado 2012, eq. 11); DSR =
 * the PSR against the expected maximum Sharpe of the cohort's distinct genomes as trials, with
 * the trials' Sharpe variance from the agents themselves (Bailey & López de Prado 2014,
 * eq. 8; `functions/core/scoring/sharpe-inference.ts`). Probabilities, null when undefined
 * (fewer than two returns, no variance). A within-session figure: the Day-3 gates use daily
 * (session) returns across cohorts instead.
 */
function psrDsrOfAgents(
  sim: SimulationResult,
): Map<string, { psr: number | null; dsr: number | null }> {
  const returnsOf = (curve: readonly number[]) => {
    const out: number[] = [];
    for (let i = 1; i < curve.length; i++) {
      const prev = curve[i - 1] as number;
      const cur = curve[i] as number;
      if (prev > 0 && Number.isFinite(prev) && Number.isFinite(cur)) out.push(cur / prev - 1);
    }
    return out;
  };
  const returns = sim.agents.map((a) => returnsOf(a.equityCurve));
  const trialSharpes = returns
    .map((r) => returnMoments(r))
    .filter((m) => m.n >= 2 && m.stdev > 0)
    .map((m) => periodSharpe(m));
  const trials = new Set(sim.agents.map((a) => a.genome.id)).size;
  const out = new Map<string, { psr: number | null; dsr: number | null }>();
  sim.agents.forEach((a, i) => {
    const e = sharpeEvidence({
      returns: returns[i] as number[],
      frequency: 'minute',
      trials,
      trialSharpes,
      confidence: 0.95,
    });
    out.set(a.agentId, { psr: e.psr, dsr: e.dsr });
  });
  return out;
}

/** An order as the console shows it. */
function orderView(o: PromotionOrder) {
  return {
    promotionId: o.promotionId,
    leg: o.leg,
    attempt: o.attempt,
    clientOrderId: o.order.clientOrderId,
    symbol: o.order.symbol,
    side: o.order.side,
    qty: o.order.qty,
    type: o.order.type,
    status: o.order.status,
    filledQty: o.order.filledQty,
    avgFillPriceUsd: o.order.avgFillPriceUsd,
    rejectReason: o.order.rejectReason,
    createdAtIso: new Date(o.order.createdAtMs).toISOString(),
    updatedAtIso: new Date(o.order.updatedAtMs).toISOString(),
  };
}
