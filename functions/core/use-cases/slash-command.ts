/**
 * The `/stagegate` slash command (issue 15) as a use case over ports: who may ask what, what
 * each command answers, and the audit trail of every attempt. The edge (the Slack handler,
 * `functions/handlers/slack-command.ts`) verifies the request signature first and renders the
 * answer as Block Kit (`functions/adapters/slack/command-messages.ts`); this module never sees
 * an unverified request.
 *
 * Rules:
 * - The caller is the Slack user id of the verified request, mapped to console roles by the
 *   stage's config (`slack.commandUsers`). An unknown user, a command the user's roles do not
 *   allow, or malformed text is refused and recorded `input_rejected` (stream
 *   `slack:commands`, `source: slack-command`) before the answer.
 * - Every command that is acted on is recorded `chat_command` (who, roles, text, outcome).
 * - `kill on|off` never acts on the command itself: it answers with a confirmation button; the
 *   click (a separate, signed interactivity request) acts after checking the clicker's role
 *   again ({@link confirmKillSwitch}).
 */

import type { AuditSink } from '../../ports/audit.js';
import type { Clock } from '../../ports/clock.js';
import type { ConsoleReadModel } from '../../ports/console-read-model.js';
import type { KillSwitchPort, KillSwitchState } from '../../ports/kill-switch.js';
import type { AuditEnvironment } from '../audit/record.js';
import { appendKeyed, appendKeyedOnce } from '../audit/step-scoped.js';
import { actionOf, parseSlashCommand, type SlashCommand } from '../chatops/command.js';
import { type ConsoleAction, mayPerform, type Role } from '../console/roles.js';
import {
  KillSwitchChangedError,
  PlanRecordCorruptError,
  StagegateError,
  ValidationError,
} from '../errors.js';
import type { CohortSummary } from './cohort-records.js';
import type { ConsoleApiDeps } from './console-api.js';
import {
  type KillSwitchOutcome,
  killSwitchEndedNote,
  killSwitchShortfall,
  killSwitchUnchangedNote,
} from './kill-switch.js';
import type { PaperSessionStatus } from './paper-status.js';
import type { StagedPromotion } from './promotion-records.js';

/** Audit stream of slash commands and their refusals. */
export const SLASH_COMMAND_STREAM = 'slack:commands';

/** Slack user id (`U…`/`W…`) to the console roles that user holds. */
export type SlackCommandUsers = Readonly<Record<string, readonly Role[]>>;

/** A verified slash-command request (the fields of Slack's form this app reads). */
export interface SlashCommandRequest {
  /** Slack user id of the caller (authenticated by the request signature). */
  readonly userId: string;
  readonly teamId: string | null;
  readonly channelId: string | null;
  /** The text after `/stagegate`. */
  readonly text: string;
  /**
   * Slack's `trigger_id` of this invocation (the same on every delivery of it): the command's
   * record is appended once per trigger, and a redelivered `cohort start` starts nothing.
   * Null/absent: every delivery is its own command (recorded each time).
   */
  readonly triggerId?: string | null;
}

/** The natural key of one invocation's records (null without a trigger_id). */
function triggerKey(req: { userId: string; triggerId?: string | null }): unknown[] | null {
  return req.triggerId ? ['slack-command', req.userId, req.triggerId] : null;
}

/** A command that runs longer than Slack's 3 s: answered now, finished through response_url. */
export interface LongCommand<T> {
  /** Starts the work; resolves with the final answer (errors are answered, never thrown). */
  run(): Promise<T>;
}

/**
 * A long command as data (JSON): what an asynchronous follow-up (another invocation of the
 * slash-command function, {@link runSlashFollowUp}) needs to do the work after the 3-second
 * acknowledgement. Built only from a verified, role-checked command.
 */
export interface SlashFollowUpJob {
  readonly command: Extract<SlashCommand, { kind: 'cohort_start' }>;
  /** The caller's identity, `slack:<user id>`. */
  readonly by: string;
  /** Slack's trigger_id of the invocation (names its execution), null/absent when none. */
  readonly triggerId?: string | null;
}

/** A long command of the outcome: its work, and the same work as a job for a follow-up. */
export interface LaterWork extends LongCommand<SlashAnswer> {
  readonly job: SlashFollowUpJob;
}

/** What the use case reads and acts through. */
export interface SlashCommandDeps {
  readonly users: SlackCommandUsers;
  readonly readModel: Pick<ConsoleReadModel, 'listCohorts' | 'listPromotions' | 'listApprovals'>;
  readonly killSwitch: Pick<KillSwitchPort, 'read'>;
  /** Engages/releases the kill switch (the console's use case: records, cancels on engage). */
  readonly setKillSwitch: ConsoleApiDeps['setKillSwitch'];
  /** Names of the alarms in ALARM, or null where alarms cannot be read (the local mode). */
  readonly alarmsInAlarm?: () => Promise<readonly string[] | null>;
  /**
   * Today's paper sessions (`todaysPaperSessions`), given the promotions the status lists
   * (their broker accounts); absent = not readable here.
   */
  readonly paperSessions?: (
    promotions: readonly StagedPromotion[],
  ) => Promise<readonly PaperSessionStatus[]>;
  /** The other commands (cohort start, fund?, plans); absent = answered "not available". */
  readonly extra?: SlashCommandExtensions;
  readonly audit: AuditSink;
  readonly environment: AuditEnvironment;
  readonly clock: Clock;
}

/** Commands provided by other modules (plans, cohort start, fund?). */
export interface SlashCommandExtensions {
  /**
   * `cohort start`; `triggerId` (Slack's, the same on every delivery of the invocation) makes
   * the start idempotent: every delivery derives the same execution name.
   */
  readonly cohortStart?: (
    command: Extract<SlashCommand, { kind: 'cohort_start' }>,
    by: string,
    triggerId: string | null,
  ) => LongCommand<SlashAnswer>;
  readonly fund?: () => Promise<SlashAnswer>;
  /** `triggerId`: Slack's `trigger_id` of the invocation (a redelivered write is one write). */
  readonly plan?: (
    command: Extract<SlashCommand, { kind: 'plan_grow' | 'plan_status' | 'plan_cancel' }>,
    by: string,
    triggerId?: string | null,
  ) => Promise<SlashAnswer>;
}

/** The status answer's data. */
export interface StatusView {
  readonly nowIso: string;
  /** Newest cohort, or null when none was run yet. */
  readonly latestCohort: CohortSummary | null;
  /** Newest promotions (paper sessions of the promoted candidates), newest first. */
  readonly promotions: readonly StagedPromotion[];
  /** null = never set (off); `unreadable` = the switch could not be read (gates fail closed). */
  readonly killSwitch: KillSwitchState | null | 'unreadable';
  readonly pendingApprovals: readonly {
    readonly approvalId: string;
    readonly candidateId: string;
    readonly symbol: string;
    readonly expiresAtIso: string;
  }[];
  /** Alarms in ALARM, or null where they cannot be read. */
  readonly alarms: readonly string[] | null;
  /** Today's paper sessions; null where not readable, `unreadable` when reading failed. */
  readonly paperSessions: readonly PaperSessionStatus[] | null | 'unreadable';
}

/** What a command answers (rendered to Block Kit at the edge). */
export type SlashAnswer =
  | { readonly kind: 'help'; readonly roles: readonly Role[] }
  | {
      readonly kind: 'refused';
      /**
       * `kill_switch_changed`: a release refused, the switch changed meanwhile (recorded);
       * `kill_switch_unreadable`: `kill off` asked while the switch cannot be read;
       * `confirmation_expired`: a release click whose confirmation carries no seen switch.
       */
      readonly reason: RefusalReason | 'kill_switch_changed';
      readonly message: string;
    }
  | { readonly kind: 'status'; readonly view: StatusView }
  | {
      readonly kind: 'kill_confirm';
      readonly engage: boolean;
      readonly reason: string;
      /**
       * A release's view of the switch, carried by the button to the click: its
       * `changedAtIso` when the confirmation was asked (null: never set); absent on engage or
       * when it could not be read (the click's release is then conditional on its own read).
       */
      readonly seenChangedAtIso?: string | null;
    }
  | {
      readonly kind: 'kill_done';
      readonly state: KillSwitchState;
      /** The orders whose cancel the broker accepted (`KillSwitchOutcome.canceled`). */
      readonly canceled: readonly string[];
      /** The open orders found already ended (`killSwitchEndedNote`), null when none. */
      readonly ended: string | null;
      /** What the engage left undone (`killSwitchShortfall`), null when nothing. */
      readonly shortfall: string | null;
      /** Nothing written, the switch already was so (`killSwitchUnchangedNote`), else null. */
      readonly unchanged: string | null;
    }
  | {
      readonly kind: 'unavailable';
      readonly command: string;
      readonly message: string;
      /**
       * The error's name when the command failed on a stored record that cannot be read
       * (`PlanRecordCorruptError`): a storage fault, logged as an error by the handler and
       * recorded `failed`, not `refused`.
       */
      readonly fault?: string;
    }
  | { readonly kind: 'working'; readonly command: string; readonly message: string }
  | { readonly kind: 'text'; readonly title: string; readonly lines: readonly string[] };

/** The answer now, and (for long commands) the work that answers later via response_url. */
export interface SlashOutcome {
  readonly answer: SlashAnswer;
  readonly later: LaterWork | null;
}

/** Largest number of pending approvals and promotions a status lists. */
const STATUS_LIST = 5;

const identityOf = (userId: string) => `slack:${userId}`;

/** Why the door refuses a command or a click (recorded `input_rejected`). */
type RefusalReason =
  | 'unknown_user'
  | 'forbidden'
  | 'malformed'
  | 'kill_switch_unreadable'
  | 'confirmation_expired';

/** Refuses the command being answered: recorded, then answered `refused`. */
type RefuseCommand = (
  reason: RefusalReason,
  field: string,
  message: string,
) => Promise<SlashOutcome>;

async function refuse(
  deps: SlashCommandDeps,
  req: { userId: string; text: string; triggerId?: string | null },
  reason: RefusalReason,
  field: string,
  message: string,
): Promise<SlashOutcome> {
  await appendKeyed(
    deps.audit,
    {
      kind: 'input_rejected',
      actor: /^[A-Z0-9]{1,32}$/.test(req.userId)
        ? identityOf(req.userId)
        : 'anonymous:unauthenticated',
      stream: SLASH_COMMAND_STREAM,
      environment: deps.environment,
      payload: {
        source: 'slack-command',
        field,
        message,
        reason,
        text: req.text.slice(0, 500),
        channel: 'slack',
      },
    },
    triggerKey(req),
  );
  return { answer: { kind: 'refused', reason, message }, later: null };
}

/**
 * Records a request refused before it reached a command (bad signature, replay, malformed
 * form): `input_rejected` on the slash-command stream.
 */
export async function recordSlashRefusal(
  deps: Pick<SlashCommandDeps, 'audit' | 'environment'>,
  input: { readonly field: string; readonly message: string; readonly reason: string },
): Promise<void> {
  await deps.audit.append({
    kind: 'input_rejected',
    actor: 'stagegate/slack-command',
    stream: SLASH_COMMAND_STREAM,
    environment: deps.environment,
    payload: { source: 'slack-command', channel: 'slack', ...input },
  });
}

/**
 * Appends the command's `chat_command` record, once per `key` when given.
 * @returns true when a redelivery found the key committed (nothing appended now).
 */
async function recordCommand(
  deps: SlashCommandDeps,
  by: string,
  roles: readonly Role[],
  command: string,
  text: string,
  outcome: string,
  extra: Record<string, unknown> = {},
  key: unknown[] | null = null,
): Promise<boolean> {
  const out = await appendKeyedOnce(
    deps.audit,
    {
      kind: 'chat_command',
      actor: by,
      stream: SLASH_COMMAND_STREAM,
      environment: deps.environment,
      payload: { command, text: text.slice(0, 500), roles: [...roles], outcome, ...extra },
    },
    key,
  );
  return out.replayed;
}

/** The roles of a Slack user, or null when the user is not in the stage's mapping. */
export function rolesOfSlackUser(users: SlackCommandUsers, userId: string): Role[] | null {
  if (!Object.hasOwn(users, userId)) return null;
  const roles = users[userId] ?? [];
  return roles.length ? [...roles] : null;
}

/**
 * `kill on|off`: records `confirmation_requested` and answers with the confirmation. A release's
 * confirmation shows and carries the switch as read now (`seenChangedAtIso`, also recorded as
 * `seen_changed_at`), so its click never releases an engage made after the question. When the
 * switch cannot be read, `kill off` is refused (fail closed; `input_rejected`, reason
 * `kill_switch_unreadable`): no button is posted, the operator asks again.
 */
async function killConfirmOutcome(
  deps: SlashCommandDeps,
  command: Extract<SlashCommand, { kind: 'kill' }>,
  ctx: { readonly record: RecordOutcome; readonly refuse: RefuseCommand },
): Promise<SlashOutcome> {
  const { engage, reason } = command;
  if (engage) {
    await ctx.record('confirmation_requested', { engage, reason });
    return { answer: { kind: 'kill_confirm', engage, reason }, later: null };
  }
  let seen: string | null;
  try {
    seen = (await deps.killSwitch.read())?.changedAtIso ?? null;
  } catch {
    return ctx.refuse(
      'kill_switch_unreadable',
      'kill_switch',
      'the kill switch cannot be read now: nothing to confirm, it stays as it is (fail closed); ask `kill off` again',
    );
  }
  await ctx.record('confirmation_requested', { engage, reason, seen_changed_at: seen });
  return { answer: { kind: 'kill_confirm', engage, reason, seenChangedAtIso: seen }, later: null };
}

/** Reads the status view (never throws for an unreadable kill switch: it says so). */
export async function readStatus(deps: SlashCommandDeps): Promise<StatusView> {
  const [cohorts, promotions, approvals, killSwitch, alarms] = await Promise.all([
    deps.readModel.listCohorts({ limit: 1 }),
    deps.readModel.listPromotions({ limit: STATUS_LIST }),
    deps.readModel.listApprovals({ limit: 50 }),
    deps.killSwitch.read().catch(() => 'unreadable' as const),
    deps.alarmsInAlarm ? deps.alarmsInAlarm() : Promise.resolve(null),
  ]);
  const paperSessions = deps.paperSessions
    ? await deps.paperSessions(promotions.items).catch(() => 'unreadable' as const)
    : null;
  return {
    nowIso: new Date(deps.clock.now()).toISOString(),
    paperSessions,
    latestCohort: cohorts.items[0] ?? null,
    promotions: promotions.items,
    killSwitch,
    pendingApprovals: approvals.items
      .filter((a) => a.status === 'pending')
      .slice(0, STATUS_LIST)
      .map((a) => ({
        approvalId: a.approvalId,
        candidateId: a.summary.candidateId,
        symbol: a.summary.symbol,
        expiresAtIso: a.expiresAtIso,
      })),
    alarms,
  };
}

/**
 * Answers one verified slash command.
 *
 * @returns the answer for Slack's 3-second acknowledgement and, for long commands (cohort
 *   start), the work whose answer goes to `response_url`.
 * @throws AuditWriteError when the audit trail cannot record the attempt (nothing was done).
 */
export async function answerSlashCommand(
  deps: SlashCommandDeps,
  req: SlashCommandRequest,
): Promise<SlashOutcome> {
  const authorized = await authorizeSlashCommand(deps, req);
  if ('refused' in authorized) return authorized.refused;
  const { roles, command } = authorized;
  const by = identityOf(req.userId);
  const record: RecordOutcome = (outcome, extra) =>
    recordCommand(deps, by, roles, command.kind, req.text, outcome, extra, triggerKey(req));
  return dispatchSlashCommand(deps, command, {
    by,
    roles,
    record,
    refuse: (reason, field, message) => refuse(deps, req, reason, field, message),
    triggerId: req.triggerId ?? null,
  });
}

/** Records the command's outcome; true when a redelivery of it was recorded already. */
type RecordOutcome = (outcome: string, extra?: Record<string, unknown>) => Promise<boolean>;

/**
 * Who may run what: the caller's roles, the parsed command, and the role check. A refusal is
 * recorded (`input_rejected`) and returned as the outcome.
 */
async function authorizeSlashCommand(
  deps: SlashCommandDeps,
  req: SlashCommandRequest,
): Promise<{ roles: Role[]; command: SlashCommand } | { refused: SlashOutcome }> {
  const roles = rolesOfSlackUser(deps.users, req.userId);
  if (!roles) {
    return {
      refused: await refuse(
        deps,
        req,
        'unknown_user',
        'user_id',
        `Slack user ${req.userId} has no stagegate role`,
      ),
    };
  }
  let command: SlashCommand;
  try {
    command = parseSlashCommand(req.text);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    return { refused: await refuse(deps, req, 'malformed', err.field, err.message) };
  }
  const action: ConsoleAction = actionOf(command);
  if (!mayPerform(roles, action)) {
    return {
      refused: await refuse(
        deps,
        req,
        'forbidden',
        'user_id',
        `${command.kind} needs the ${action === 'read' ? 'any' : 'operator'} role; you have ${roles.join(', ')}`,
      ),
    };
  }
  return { roles, command };
}

/** Runs one authorized command (one case per verb) and records its outcome. */
async function dispatchSlashCommand(
  deps: SlashCommandDeps,
  command: SlashCommand,
  ctx: {
    readonly by: string;
    readonly roles: readonly Role[];
    readonly record: RecordOutcome;
    readonly refuse: RefuseCommand;
    /** Slack's `trigger_id` (the same on a redelivery), null when absent. */
    readonly triggerId?: string | null;
  },
): Promise<SlashOutcome> {
  const { by, roles, record } = ctx;
  switch (command.kind) {
    case 'help':
      await record('answered');
      return { answer: { kind: 'help', roles }, later: null };
    case 'status': {
      const view = await readStatus(deps);
      await record('answered');
      return { answer: { kind: 'status', view }, later: null };
    }
    case 'kill':
      return killConfirmOutcome(deps, command, ctx);
    case 'cohort_start':
      return cohortStartOutcome(deps, command, ctx);
    case 'fund': {
      const fund = deps.extra?.fund;
      if (!fund) return unavailable(record, 'fund?');
      const answer = await fund();
      await record('answered');
      return { answer, later: null };
    }
    case 'plan_grow':
    case 'plan_status':
    case 'plan_cancel': {
      const plan = deps.extra?.plan;
      if (!plan) return unavailable(record, 'plan');
      const answer = await answerOrExplain(() => plan(command, by, ctx.triggerId ?? null));
      await record(outcomeOf(answer));
      return { answer, later: null };
    }
  }
}

/**
 * `cohort start`: records `started` (once per trigger) and hands the start over as later work.
 * A redelivery of the invocation (same trigger_id) records nothing and (re)starts the same
 * execution, whose name derives from the trigger: one execution whether or not the first
 * delivery got to start it (it may have crashed right after its record).
 */
async function cohortStartOutcome(
  deps: SlashCommandDeps,
  command: Extract<SlashCommand, { kind: 'cohort_start' }>,
  ctx: {
    readonly by: string;
    readonly record: RecordOutcome;
    readonly triggerId?: string | null;
  },
): Promise<SlashOutcome> {
  const start = deps.extra?.cohortStart;
  if (!start) return unavailable(ctx.record, 'cohort start');
  const redelivered = await ctx.record('started', {
    bankroll_usd: command.bankrollUsd,
    agents: command.agents,
    symbols: command.symbols,
  });
  const message = redelivered
    ? 'this command was received before: its cohort starts once (one execution per command); the result follows'
    : 'starting a partial intraday cohort on the bars up to now; the result follows';
  const by = ctx.by;
  const triggerId = ctx.triggerId ?? null;
  return {
    answer: { kind: 'working', command: 'cohort start', message },
    later: { run: () => start(command, by, triggerId).run(), job: { command, by, triggerId } },
  };
}

async function unavailable(
  record: (outcome: string) => Promise<boolean>,
  command: string,
): Promise<SlashOutcome> {
  await record('unavailable');
  return {
    answer: { kind: 'unavailable', command, message: `${command} is not available in this stage` },
    later: null,
  };
}

/**
 * Runs `fn`; a named domain error becomes an `unavailable` answer naming it (with `fault` set
 * when it is an unreadable stored record, not a refusal of the command).
 */
async function answerOrExplain(fn: () => Promise<SlashAnswer>): Promise<SlashAnswer> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof StagegateError) || err.retryable) throw err;
    const message = `${err.name}: ${err.message}`;
    const fault = err instanceof PlanRecordCorruptError ? { fault: err.name } : {};
    return { kind: 'unavailable', command: 'plan', message, ...fault };
  }
}

/** The recorded outcome of an answer: `answered`, `refused`, or `failed` (a fault). */
const outcomeOf = (answer: SlashAnswer) =>
  answer.kind !== 'unavailable' ? 'answered' : answer.fault ? 'failed' : 'refused';

/**
 * Does the work of a long command whose acknowledgement was already sent (an asynchronous
 * follow-up of the slash-command function): the job was verified and role-checked when the
 * command was answered, so it is not checked again; the answer goes to `response_url`.
 */
export async function runSlashFollowUp(
  deps: Pick<SlashCommandDeps, 'extra'>,
  job: SlashFollowUpJob,
): Promise<SlashAnswer> {
  const start = deps.extra?.cohortStart;
  if (!start) {
    return {
      kind: 'unavailable',
      command: 'cohort start',
      message: 'cohort start is not available in this stage',
    };
  }
  return start(job.command, job.by, job.triggerId ?? null).run();
}

/**
 * Whether a `kill on|off` click may act: the clicker has a role and the operator role, and a
 * release names the switch its confirmation showed. A refusal is recorded (`input_rejected`).
 */
async function checkKillClick(
  deps: SlashCommandDeps,
  input: { userId: string; engage: boolean; expectedChangedAtIso?: string | null },
  text: string,
): Promise<{ roles: Role[] } | { refused: SlashAnswer }> {
  const req = { userId: input.userId, text };
  const no = async (reason: RefusalReason, field: string, message: string) => ({
    refused: (await refuse(deps, req, reason, field, message)).answer,
  });
  const roles = rolesOfSlackUser(deps.users, input.userId);
  if (!roles)
    return no('unknown_user', 'user.id', `Slack user ${input.userId} has no stagegate role`);
  if (!mayPerform(roles, 'kill_switch')) {
    const message = `the kill switch needs the operator role; you have ${roles.join(', ')}`;
    return no('forbidden', 'user.id', message);
  }
  if (!input.engage && input.expectedChangedAtIso === undefined) {
    return no(
      'confirmation_expired',
      'block_id',
      'this confirmation does not name the switch it showed (asked before confirmations did): nothing was released; ask `kill off` again',
    );
  }
  return { roles };
}

/**
 * The confirmation click of `kill on|off` (a signed `block_actions` request): checks the
 * CLICKER's roles again (anyone in the channel could click), then engages or releases the
 * switch through the console's use case and records `chat_command` (outcome `confirmed`) or a
 * refusal. A release must name the switch its confirmation showed (`expectedChangedAtIso`,
 * from the button's `block_id`): one that does not (a confirmation posted before they did) is
 * refused `confirmation_expired` and releases nothing. A release refused because the switch changed between its read and its write
 * (`KillSwitchChangedError`, recorded `input_rejected` by the use case) is answered `refused`
 * (`kill_switch_changed`) with who changed it and when; the switch stays as they left it.
 */
export async function confirmKillSwitch(
  deps: SlashCommandDeps,
  input: {
    readonly userId: string;
    readonly engage: boolean;
    readonly reason: string;
    /**
     * The click's `action_ts` (the same on Slack's redelivery of it): the switch is changed
     * and the click recorded once per click (setKillSwitch's `idempotencyKey`). Null/absent:
     * every delivery is its own change.
     */
    readonly actionTs?: string | null;
    /**
     * A release's view of the switch, as its confirmation showed it (`seenChangedAtIso`).
     * Required for a release: a release click without it is refused (`confirmation_expired`).
     */
    readonly expectedChangedAtIso?: string | null;
  },
): Promise<SlashAnswer> {
  const text = `kill ${input.engage ? 'on' : 'off'} ${input.reason}`;
  const checked = await checkKillClick(deps, input, text);
  if ('refused' in checked) return checked.refused;
  const { roles } = checked;
  const by = identityOf(input.userId);
  const key = input.actionTs ? `slack-click.${input.actionTs}` : null;
  let out: KillSwitchOutcome;
  try {
    out = await deps.setKillSwitch({
      engaged: input.engage,
      reason: input.reason,
      by,
      idempotencyKey: key,
      ...(input.expectedChangedAtIso !== undefined
        ? { expectedChangedAtIso: input.expectedChangedAtIso }
        : {}),
    });
  } catch (err) {
    // A release refused because the switch changed meanwhile (the use case recorded it).
    if (!(err instanceof KillSwitchChangedError)) throw err;
    return { kind: 'refused', reason: 'kill_switch_changed', message: err.message };
  }
  await recordCommand(
    deps,
    by,
    roles,
    'kill',
    text,
    'confirmed',
    { engage: input.engage, canceled_orders: out.canceled.length, ended_orders: out.ended.length },
    key ? ['slack-kill-click', input.userId, input.actionTs, input.engage, input.reason] : null,
  );
  return {
    kind: 'kill_done',
    state: out.state,
    canceled: out.canceled,
    ended: killSwitchEndedNote(out),
    shortfall: killSwitchShortfall(out),
    unchanged: killSwitchUnchangedNote(out),
  };
}
