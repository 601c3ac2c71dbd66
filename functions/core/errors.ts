/**
 * Named domain errors. Every error the core throws is a subclass of {@link StagegateError};
 * `name` is the stable identifier Step Functions Retry/Catch and the CLI exit path match on
 * (see `functions/handlers/shared/error-mapping.ts`), so never rename one casually.
 *
 * Retryable errors (a transient fault outside our control) are marked with `retryable = true`;
 * everything else is a permanent rejection of the input or configuration.
 */
import type * as z from 'zod';
import type { KillSwitchState } from '../ports/kill-switch.js';

export abstract class StagegateError extends Error {
  /**
   * The class name, stated as a string literal by every subclass: the deployed bundles are
   * minified without keepNames, so `new.target.name` would be a minified name there
   * (test/infra/bundling.test.ts checks each class inside a minified bundle).
   */
  override readonly name: string = 'StagegateError';
  /** True when retrying the same input may succeed (transient I/O fault). */
  readonly retryable: boolean = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Input (event, CLI flag, config field) failed validation. `field` names the offending path. */
export class ValidationError extends StagegateError {
  override readonly name: string = 'ValidationError';
  constructor(
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${message}`, options);
  }
}

/** A zod issue path as a field name: keys joined by `.`, array indices as `[n]` (`pool[0].params`). */
function formatIssuePath(path: readonly PropertyKey[]): string {
  return path
    .map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i ? '.' : ''}${String(k)}`))
    .join('');
}

/**
 * The one conversion of a failed zod parse into a {@link ValidationError}. `field` is `where`
 * followed by the first issue's path (`request.symbols[0]`); an unknown key is named
 * (`request.replayStartIso`); an issue without a path gives `where` (or `root` when `where` is
 * empty). The message is the issue's message; `cause` holds the ZodError.
 *
 * @param where the prefix naming the input (`request`, `env`, `alpaca.order`), or `''`.
 * @param root the field for a path-less issue when `where` is empty.
 */
export function validationErrorOf(
  error: z.ZodError,
  where: string,
  root = 'input',
): ValidationError {
  const issue = error.issues[0];
  const unknownKey = issue?.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [];
  const path = formatIssuePath([...(issue?.path ?? []), ...unknownKey]);
  let field = path || where || root;
  if (path && where) field = path.startsWith('[') ? `${where}${path}` : `${where}.${path}`;
  return new ValidationError(field, issue?.message ?? 'invalid', { cause: error });
}

/**
 * Parses `input` with `schema`.
 *
 * @returns the parsed value.
 * @throws ValidationError from {@link validationErrorOf} when it does not match.
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  input: unknown,
  where: string,
  root?: string,
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  throw validationErrorOf(parsed.error, where, root);
}

/** Base of everything that goes wrong while reading market data. */
export abstract class MarketDataError extends StagegateError {
  override readonly name: string = 'MarketDataError';
}

/** A data file the session needs does not exist. `path` is the file looked for. */
export class DataFileMissingError extends MarketDataError {
  override readonly name: string = 'DataFileMissingError';
  constructor(
    readonly path: string,
    message?: string,
  ) {
    super(message ?? `market data file not found: ${path}`);
  }
}

/**
 * A symbol has minute data but no daily history file. `path` is the daily file looked for;
 * `neededBy` says what needed it (e.g. the VaR/ES gates). Callers that can run without daily
 * history (the risk gates' underlying view says "no history") catch this; it is never reported as an
 * unknown symbol.
 */
export class NoDailyHistoryError extends DataFileMissingError {
  override readonly name: string = 'NoDailyHistoryError';
  constructor(
    readonly symbol: string,
    path: string,
    readonly neededBy: string,
  ) {
    super(path, `no daily history for ${symbol}: ${path} is missing (needed by ${neededBy})`);
  }
}

/**
 * The market-data root folder itself does not exist (a wrong `--data` / `STAGEGATE_DATA`, or
 * an empty bucket prefix). `folder` is the absolute folder or `s3://bucket/prefix` looked at.
 */
export class DataFolderMissingError extends MarketDataError {
  override readonly name: string = 'DataFolderMissingError';
  constructor(readonly folder: string) {
    super(
      `market data folder not found: ${folder} (set --data or STAGEGATE_DATA to a LEAN data root)`,
    );
  }
}

/** A data file exists but cannot be read as the LEAN format says (bad zip, bad row). */
export class DataFileCorruptError extends MarketDataError {
  override readonly name: string = 'DataFileCorruptError';
  constructor(
    readonly path: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`market data file is corrupt: ${path}: ${detail}`, options);
  }
}

/** A symbol has no data at all under the data root. `known` lists the symbols that do. */
export class UnknownSymbolError extends MarketDataError {
  override readonly name: string = 'UnknownSymbolError';
  constructor(
    readonly symbol: string,
    readonly known: readonly string[],
  ) {
    super(`unknown symbol "${symbol}"; known symbols: ${known.join(', ') || '(none)'}`);
  }
}

/** The date is not a trading session in the data (weekend, holiday, or no file for it). */
export class NoSessionError extends MarketDataError {
  override readonly name: string = 'NoSessionError';
  constructor(
    readonly date: string,
    readonly available: readonly string[],
  ) {
    super(`no trading session on ${date}; sessions with data: ${available.join(', ') || '(none)'}`);
  }
}

/** A transient infrastructure fault (throttling, 5xx, timeout) worth retrying. */
export class TransientError extends StagegateError {
  override readonly name: string = 'TransientError';
  override readonly retryable = true;
}

/** An item the caller expected is not in the store (cohort id, order id, artifact key). */
export class NotFoundError extends StagegateError {
  override readonly name: string = 'NotFoundError';
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} not found: ${id}`);
  }
}

/**
 * An order event is not allowed from the order's current status (see the transition table in
 * `functions/core/orders/order.ts`). The order is left unchanged.
 */
export class IllegalOrderTransitionError extends StagegateError {
  override readonly name: string = 'IllegalOrderTransitionError';
  constructor(
    readonly clientOrderId: string,
    readonly from: string,
    readonly event: string,
  ) {
    super(`order ${clientOrderId}: event "${event}" is not allowed in status "${from}"`);
  }
}

/**
 * A fill would take an order's cumulative filled quantity above its ordered quantity (shares).
 * The order is left unchanged.
 */
export class OrderOverfillError extends StagegateError {
  override readonly name: string = 'OrderOverfillError';
  constructor(
    readonly clientOrderId: string,
    readonly orderQty: number,
    readonly filledQty: number,
    readonly fillQty: number,
  ) {
    super(
      `order ${clientOrderId}: fill of ${fillQty} on ${filledQty} already filled exceeds order qty ${orderQty}`,
    );
  }
}

/**
 * A risk measure needs more (finite) observations than it was given, e.g. VaR on fewer daily
 * returns than the configured minimum. `needed` and `got` are counts.
 */
export class InsufficientDataError extends StagegateError {
  override readonly name: string = 'InsufficientDataError';
  constructor(
    readonly what: string,
    readonly needed: number,
    readonly got: number,
  ) {
    super(`${what}: need at least ${needed} observations, got ${got}`);
  }
}

/** A cohort id was already persisted by a different execution (ids are write-once). */
export class CohortAlreadyExistsError extends StagegateError {
  override readonly name: string = 'CohortAlreadyExistsError';
  constructor(readonly cohortId: string) {
    super(`cohort already exists: ${cohortId}`);
  }
}

/**
 * The audit trail could not be written after bounded retries: S3 or the stream-head table kept
 * failing, or the stream head stayed contended. `operation` names the failed step (for example
 * `put-object`, `advance-head`), `stream` the hash-chain stream. The decision being audited
 * must be treated as NOT recorded (do not act on it); retrying the whole step is safe, at the
 * cost of a possible duplicate record (the audit trail is at-least-once, see docs/audit.md).
 */
export class AuditWriteError extends StagegateError {
  override readonly name: string = 'AuditWriteError';
  override readonly retryable = true;

  constructor(
    readonly operation: string,
    readonly stream: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`audit write failed (${operation}, stream ${stream}): ${message}`, options);
  }
}

/**
 * Audit verification found a broken hash chain. Names the first offending record: `stream`,
 * `seq`, `key` (S3 key, when known) and `reason` (a `VerifyBreakReason` such as
 * `hash-mismatch`, `seq-gap`). Not retryable: the stored trail itself is wrong.
 */
export class AuditChainBrokenError extends StagegateError {
  override readonly name: string = 'AuditChainBrokenError';
  constructor(
    readonly stream: string | null,
    readonly seq: number | null,
    readonly key: string | null,
    readonly reason: string,
    detail: string,
  ) {
    super(`audit chain broken at ${stream ?? '?'}#${seq ?? '?'} (${reason}): ${detail}`);
  }
}

/** The broker refused an order (insufficient buying power, invalid order); never retried. */
export class BrokerRejectedError extends StagegateError {
  override readonly name: string = 'BrokerRejectedError';
  constructor(
    readonly clientOrderId: string,
    readonly reason: string,
    readonly httpStatus?: number,
  ) {
    super(`broker rejected order ${clientOrderId}: ${reason}`);
  }
}

/** The broker could not be reached or kept failing (timeout, 5xx, 429) after bounded retries. */
export class BrokerUnavailableError extends TransientError {
  override readonly name: string = 'BrokerUnavailableError';
}
/** The broker refused our credentials (401/403 auth); never retried. */
export class BrokerAuthError extends StagegateError {
  override readonly name: string = 'BrokerAuthError';
}
/** The kill switch is engaged (or unreadable: fail closed); nothing may reach a broker. */
export class KillSwitchEngagedError extends StagegateError {
  override readonly name: string = 'KillSwitchEngagedError';
  constructor(readonly state: 'on' | 'unknown') {
    super(
      state === 'on'
        ? 'kill switch is on: no order may be submitted'
        : 'kill switch state cannot be read: failing closed, no order may be submitted',
    );
  }
}

/**
 * A kill switch release refused because the stored switch changed between the release's read
 * and its write (`KillSwitchPort.set` with a condition), or since its requester saw it (the
 * console page, the Slack confirmation): another operator, a rollback or a breaker engaged (or
 * changed) it meanwhile. Nothing was written: the switch stays as that
 * other change left it, so a release never undoes an engage its releaser did not see. Never
 * retried blindly: the operator looks at the new state and releases again if still meant.
 *
 * `expected` is the switch the release was made over (the one it read, or only the
 * `changedAtIso` its requester saw; null: none); `found` the stored one (null: no item;
 * `'unreadable'` when it could not be read back).
 */
export class KillSwitchChangedError extends StagegateError {
  override readonly name: string = 'KillSwitchChangedError';
  constructor(
    readonly expected: Pick<KillSwitchState, 'changedAtIso'> | null,
    readonly found: KillSwitchState | null | 'unreadable',
  ) {
    const now =
      found === 'unreadable'
        ? 'it cannot be read back now'
        : found === null
          ? 'its item was removed'
          : `${found.engaged ? 'engaged' : 'released'} by ${found.changedBy} at ${found.changedAtIso} (${found.reason})`;
    super(
      `the kill switch changed while releasing it: ${now}; the release was refused and nothing was written (the switch stays as that change left it: check it, then release again if still meant)`,
    );
  }
}

/** No approval request with this id exists (never created, or purged by TTL). */
export class ApprovalNotFoundError extends NotFoundError {
  override readonly name: string = 'ApprovalNotFoundError';
  constructor(readonly approvalId: string) {
    super('approval', approvalId);
  }
}

/**
 * The approval request was already decided (approved or rejected): each one can be decided
 * ONCE. `status` is the recorded decision, `decidedBy` who made it (null when unknown).
 */
export class ApprovalAlreadyDecidedError extends StagegateError {
  override readonly name: string = 'ApprovalAlreadyDecidedError';
  constructor(
    readonly approvalId: string,
    readonly status: string,
    readonly decidedBy: string | null,
  ) {
    super(
      `approval ${approvalId} was already decided (${status}${decidedBy ? ` by ${decidedBy}` : ''})`,
    );
  }
}

/** The approval request (or its link) expired at `expiresAtIso` before it was decided. */
export class ApprovalExpiredError extends StagegateError {
  override readonly name: string = 'ApprovalExpiredError';
  constructor(
    readonly approvalId: string,
    readonly expiresAtIso: string,
  ) {
    super(`approval ${approvalId} expired at ${expiresAtIso}`);
  }
}

/**
 * `approver` may not decide the approval request: not on its allow-list, or (a multi-signature
 * chain, functions/core/approval/chain.ts) not an approver of the step whose signature is due,
 * or without that step's role; `why` says which (null: not on the allow-list).
 */
export class ApprovalForbiddenError extends StagegateError {
  override readonly name: string = 'ApprovalForbiddenError';
  constructor(
    readonly approvalId: string,
    readonly approver: string,
    readonly why: string | null = null,
  ) {
    super(`${approver} is not allowed to decide approval ${approvalId}${why ? `: ${why}` : ''}`);
  }
}

/**
 * `approver` already signed this approval request's chain: one person signs once, so a chain
 * of N signatures always has N distinct signers.
 */
export class ApprovalDuplicateSignerError extends StagegateError {
  override readonly name: string = 'ApprovalDuplicateSignerError';
  constructor(
    readonly approvalId: string,
    readonly approver: string,
    readonly signedAtIso: string,
  ) {
    super(
      `${approver} already signed approval ${approvalId} (at ${signedAtIso}); one approver signs once`,
    );
  }
}

/**
 * A signature or MAC did not verify. `subject` names what was signed (`approval_link`,
 * `csrf`, `slack_request`, `task_token`), `reason` why it failed (for example `tampered`,
 * `malformed`, `stale_timestamp`, `bad_signature`). Never retried.
 */
export class SignatureInvalidError extends StagegateError {
  override readonly name: string = 'SignatureInvalidError';
  constructor(
    readonly subject: string,
    readonly reason: string,
    detail?: string,
  ) {
    super(`${subject} signature invalid: ${reason}${detail ? ` (${detail})` : ''}`);
  }
}

/**
 * A notification provider (Slack Web API, incoming webhook) refused a message permanently
 * (bad channel, revoked token, invalid blocks). `provider` names it, `reason` is its error
 * code (e.g. Slack's `channel_not_found`) or HTTP status. Transient faults (429, 5xx,
 * network) are `TransientError`s instead.
 */
export class NotificationRejectedError extends StagegateError {
  override readonly name: string = 'NotificationRejectedError';
  constructor(
    readonly provider: string,
    readonly reason: string,
  ) {
    super(`${provider} rejected the notification: ${reason}`);
  }
}

/** The market whose genome pool an error is about (`equity-usa` | `crypto`; pools are per market). */
type PoolMarket = 'equity-usa' | 'crypto';

/**
 * A genome-pool generation number was already saved with different content in `market`'s pool
 * (generation numbers are write-once). Saving the identical generation again is a no-op, not
 * this error.
 */
export class GenerationAlreadyExistsError extends StagegateError {
  override readonly name: string = 'GenerationAlreadyExistsError';
  constructor(
    readonly generation: number,
    readonly market: PoolMarket,
  ) {
    super(`${market} genome pool generation ${generation} already exists with different content`);
  }
}

/**
 * Optimistic-concurrency conflict on `market`'s genome pool: the current generation is not the
 * one the new generation was bred from (`expectedPrevious`; `null` = no pool yet), because
 * another learning cycle advanced it first (`actual`, `null` = no pool). Re-read the pool and
 * re-run the cycle; retrying the same write cannot succeed.
 */
export class GenomePoolConflictError extends StagegateError {
  override readonly name: string = 'GenomePoolConflictError';
  constructor(
    readonly expectedPrevious: number | null,
    readonly actual: number | null,
    readonly market: PoolMarket,
  ) {
    super(
      `${market} genome pool moved: expected current generation ${expectedPrevious ?? '(none)'}, found ${actual ?? '(none)'}`,
    );
  }
}

/**
 * A stored generation of `market`'s genome pool cannot be read back (missing part, checksum
 * mismatch).
 */
export class GenomePoolCorruptError extends StagegateError {
  override readonly name: string = 'GenomePoolCorruptError';
  constructor(
    readonly generation: number,
    readonly detail: string,
    readonly market: PoolMarket,
  ) {
    super(`${market} genome pool generation ${generation} is corrupt: ${detail}`);
  }
}

/**
 * A stored cohort cannot be read back: an agent page in a format this code does not know (a
 * newer writer), or whose payload does not decode or validate. `detail` names the item and
 * the fault. Never retried: the stored bytes will not change.
 */
export class CohortRecordCorruptError extends StagegateError {
  override readonly name: string = 'CohortRecordCorruptError';
  constructor(
    readonly cohortId: string,
    readonly detail: string,
  ) {
    super(`cohort ${cohortId} cannot be read: ${detail}`);
  }
}

/**
 * A Step Functions task token can no longer resume its execution: `reason` is `timed_out`
 * (the task's TimeoutSeconds / HeartbeatSeconds passed), `does_not_exist` (the execution
 * ended, or the token was already used) or `invalid` (not a token). Never retried: the
 * decision that tried to resume it was recorded, the execution is no longer waiting.
 */
export class TaskTokenInvalidError extends StagegateError {
  override readonly name: string = 'TaskTokenInvalidError';
  constructor(
    readonly reason: 'timed_out' | 'does_not_exist' | 'invalid',
    detail?: string,
  ) {
    super(
      `task token can no longer resume its execution: ${reason}${detail ? ` (${detail})` : ''}`,
    );
  }
}

/**
 * A retried step got back records committed by its first attempt about another subject (for
 * example a Day-3 review whose candidate changed between the attempts): deciding on them would
 * apply one candidate's verdicts to another, so the step fails closed instead. Not retryable.
 */
export class RecordedDecisionMismatchError extends StagegateError {
  override readonly name = 'RecordedDecisionMismatchError';
}

/**
 * Optimistic-concurrency conflict on the stored plan (`ports/plan-store.ts`): it is no longer
 * at `expectedVersion` (`null` = no plan yet), because another request (a concurrent create,
 * cancel or report) stored its change first. The plan use cases re-read and decide again a
 * few times; this reaches the caller only when the plan kept moving (HTTP 409: retry).
 */
export class PlanConflictError extends StagegateError {
  override readonly name: string = 'PlanConflictError';
  constructor(readonly expectedVersion: number | null) {
    super(
      `the plan changed meanwhile (expected ${expectedVersion === null ? 'no plan' : `version ${expectedVersion}`}): another request stored its change first; retry`,
    );
  }
}

/**
 * The stored plan cannot be read back: `item` names where it is (`PLAN / CURRENT` in the stage
 * table, or the pre-migration S3 object `plans/current.json`), `detail` the fault (not JSON,
 * the field that does not validate). A storage fault, not the caller's input: never recorded as
 * an input rejection, answered 500 by the console and exit 1 by the CLI. Never retried: the
 * stored bytes will not change; the runbook repairs or removes the item.
 */
export class PlanRecordCorruptError extends StagegateError {
  override readonly name: string = 'PlanRecordCorruptError';
  constructor(
    readonly item: string,
    readonly detail: string,
  ) {
    super(`stored plan ${item} cannot be read: ${detail}`);
  }
}

/**
 * An idempotency key (Slack's `trigger_id`, the console's `Idempotency-Key`) was reused for a
 * request with another body (another command, amount, days or reason) than the one it was
 * first used for: answering with the first request's result would pass it off as this one's,
 * so it is refused (HTTP 422, as Stripe does and draft-ietf-httpapi-idempotency-key-header-07,
 * "Error Scenarios", advises). Never retried: send the new request with a new key.
 */
export class IdempotencyKeyReusedError extends StagegateError {
  override readonly name: string = 'IdempotencyKeyReusedError';
  constructor(readonly firstUse: string) {
    super(
      `this idempotency key was already used for another request (${firstUse}): send a new request with a new key`,
    );
  }
}
