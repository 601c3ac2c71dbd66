/**
 * Engaging and releasing the kill switch. Engaging it records the change, cancels every open
 * order at the paper broker by client_order_id (but its own earlier flattens), flattens every running paper session's
 * position (when the sessions' declared kill-switch halt mode is `flatten`, the default), and
 * records the halt; releasing it records the change. Gates read the switch and fail closed
 * when it is on or unreadable.
 *
 * The flatten is sent for each session under {@link killSwitchFlattenOrderId} (one id per
 * session, so engaging twice sends nothing twice), sized from the session's last book
 * (`SessionBookSnapshot.qty`) plus what its open orders filled until they were canceled (or
 * until they ended otherwise: one the cancel found filled counts in full, once). The
 * session adopts that order into its own book at its next tick (`paper/paper-session.ts`), and
 * its own halt (`flatten`) closes whatever the kill switch's order did not: when the flatten
 * cannot be sent here (the broker or the registry fails), the failure is recorded and the
 * session still flattens at its next tick (fail closed).
 */

import type { AuditSink } from '../../ports/audit.js';
import type { BrokerOrder, BrokerPort } from '../../ports/broker.js';
import type { Clock } from '../../ports/clock.js';
import type { KillSwitchPort, KillSwitchState } from '../../ports/kill-switch.js';
import type { SessionBookRegistry, SessionBookSnapshot } from '../../ports/session-books.js';
import { type AuditDraft, sha256Hex } from '../audit/record.js';
import { appendKeyed, appendKeyedOnce } from '../audit/step-scoped.js';
import { marketDate } from '../calendar/market-calendar.js';
import { KillSwitchChangedError, ValidationError } from '../errors.js';
import { DUST_QTY } from '../exchange/position-book.js';
import { parseClientOrderId } from '../orders/client-order-id.js';
import { isTerminalOrderStatus, type OrderStatus } from '../orders/order.js';
import { cancelOrLearn, marketOrderRequest, submitOnce } from '../orders/order-intent.js';
import { KILL_SWITCH_FLATTEN_LEG, killSwitchFlattenOrderId } from '../paper/paper-session.js';

/** Where the running paper sessions' books are, to flatten them on engage. */
export interface KillSwitchFlatten {
  /** Every paper session's last book, per account and day. */
  readonly sessionBooks: SessionBookRegistry;
  /** The broker account's registry key, `<broker name>:<account id>` (`accountKeyOf`). */
  readonly account: string;
}

export interface KillSwitchDeps {
  readonly killSwitch: KillSwitchPort;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly environment: AuditDraft['environment'];
  /** The broker whose open orders are canceled and whose sessions are flattened on engage. */
  readonly broker: BrokerPort;
  /** Absent: engaging cancels orders only (the sessions flatten at their next tick). */
  readonly flatten?: KillSwitchFlatten;
}

/** A flatten order the kill switch sent (or found already sent) for a running session. */
export interface KillSwitchFlattenOrder {
  readonly promotionId: string;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  /** Shares, > 0. */
  readonly qty: number;
  /** The broker's status of the order after the submit. */
  readonly status: string;
}

/**
 * An open order the engage found ended otherwise when it canceled it: it filled before the
 * cancel reached it (or expired, was rejected or replaced). Not canceled: what it filled is
 * in the position the engage's flatten closes.
 */
export interface KillSwitchEndedOrder {
  readonly clientOrderId: string;
  /** The broker's answer to the cancel: `filled`, `expired`, `rejected` or `replaced`. */
  readonly status: OrderStatus;
}

/** What engaging or releasing did. */
export interface KillSwitchOutcome {
  readonly state: KillSwitchState;
  /**
   * client_order_ids whose cancel the broker accepted: its answer is `canceled` (with what
   * filled before it), `pending_cancel`, or still working while the cancel is pending. An
   * order found ended otherwise is in `ended`, never here.
   */
  readonly canceled: readonly string[];
  /** Open orders the cancel found ended otherwise (filled, expired, ...); empty on release. */
  readonly ended: readonly KillSwitchEndedOrder[];
  /** Flatten orders sent for the running sessions (empty on release). */
  readonly flattened: readonly KillSwitchFlattenOrder[];
  /** Sessions (or the registry, `promotionId: '*'`) whose flatten could not be sent here. */
  readonly flattenErrors: readonly { readonly promotionId: string; readonly error: string }[];
  /**
   * Open orders whose cancel failed twice (and the broker did not show them terminal): the
   * switch stays on and the rest is still done, but these orders may still be live. Only a
   * running paper session's own orders are cancelled again by its next ticks; a promotion
   * entry, a micro-live order or a sweeper flatten is not: the operator must engage again
   * (every door says so).
   */
  readonly cancelErrors: readonly { readonly clientOrderId: string; readonly error: string }[];
  /**
   * True when nothing was written because the switch already was as requested: a release of a
   * released switch (whoever released it: `state` is that release), or a redelivery of the
   * same request. See {@link killSwitchUnchangedNote}.
   */
  readonly unchanged: boolean;
}

/**
 * What an engage left undone, as every door (Slack, CLI, console) tells the operator: `K
 * cancel(s) failed: <client_order_id> (<error>), ...; engage again` (such an order may still be
 * live, and only a running paper session's own orders are cancelled again by its next ticks)
 * and `F flatten(s) not sent: <promotion id> (<error>), ...; each session flattens at its next
 * tick`, joined by `. `.
 *
 * @returns the sentence, or null when every cancel and flatten went out.
 */
export function killSwitchShortfall(
  outcome: Pick<KillSwitchOutcome, 'cancelErrors' | 'flattenErrors'>,
): string | null {
  const list = (items: readonly { id: string; error: string }[]) =>
    items.map((i) => `${i.id} (${i.error})`).join(', ');
  const parts: string[] = [];
  const { cancelErrors: c, flattenErrors: f } = outcome;
  if (c.length > 0)
    parts.push(
      `${c.length} cancel(s) failed: ${list(c.map((e) => ({ id: e.clientOrderId, error: e.error })))}; engage again`,
    );
  if (f.length > 0)
    parts.push(
      `${f.length} flatten(s) not sent: ${list(f.map((e) => ({ id: e.promotionId === '*' ? 'the session registry' : e.promotionId, error: e.error })))}; each session flattens at its next tick`,
    );
  return parts.length > 0 ? parts.join('. ') : null;
}

/**
 * What every door (Slack, CLI, console) says of the open orders an engage found ended when it
 * canceled them: `N order(s) already ended, not canceled: <client_order_id> (<status>), ...`
 * (a `filled` one opened or changed a position: the engage's flatten is sized with its fills).
 *
 * @returns the phrase, or null when every order the engage reached was canceled.
 */
export function killSwitchEndedNote(outcome: Pick<KillSwitchOutcome, 'ended'>): string | null {
  const { ended } = outcome;
  if (ended.length === 0) return null;
  const list = ended.map((e) => `${e.clientOrderId} (${e.status})`).join(', ');
  return `${ended.length} order(s) already ended, not canceled: ${list}`;
}

/**
 * What every door (CLI, Slack, console) says of a change that wrote nothing because the switch
 * already was so: `already released at <changedAtIso> by <changedBy> (<reason>): nothing was
 * written` (`engaged` for an engage's redelivery).
 *
 * @returns the phrase, or null when the switch was written.
 */
export function killSwitchUnchangedNote(
  outcome: Pick<KillSwitchOutcome, 'state' | 'unchanged'>,
): string | null {
  if (!outcome.unchanged) return null;
  const { state } = outcome;
  return `already ${state.engaged ? 'engaged' : 'released'} at ${state.changedAtIso} by ${state.changedBy} (${state.reason}): nothing was written`;
}

/**
 * What every door (CLI `kill status`, Slack `status`, the console) says of a released switch
 * that was engaged before: `last engaged at <lastEngagedAtIso> (paper sessions running
 * between then and the release stay halted for their day under the kill switch halt modes
 * flatten and reduce-only; under pause-entries a released switch does not hold them)`:
 * `paper/paper-session.ts` halts a session whose span overlaps that engage, also one that
 * never read the switch while it was on, unless the session's kill-switch halt mode is
 * `pause-entries` (entries paused only while the switch is on; its settle records no halt).
 * Each session takes its mode from its own start (its limits), so the phrase names both.
 *
 * @returns the phrase, or null when the switch is on (its own time says it) or never engaged.
 */
export function lastEngageNote(state: KillSwitchState | null): string | null {
  if (!state || state.engaged || !state.lastEngagedAtIso) return null;
  return `last engaged at ${state.lastEngagedAtIso} (paper sessions running between then and the release stay halted for their day under the kill switch halt modes flatten and reduce-only; under pause-entries a released switch does not hold them)`;
}

/**
 * The stand-in of a seen `changedAtIso` too long to carry whole (a Slack `block_id` holds 255
 * characters): `sha256:<64 hex>`, the SHA-256 of it (UTF-8). A release whose
 * `expectedChangedAtIso` is one is checked against the digest of the stored switch's time.
 */
export function killSwitchSeenDigest(changedAtIso: string): string {
  return `sha256:${sha256Hex(changedAtIso)}`;
}

/**
 * Whether `current` is the switch its requester saw: its `changedAtIso` is `seen`, or `seen` is
 * its {@link killSwitchSeenDigest}; null both when never set.
 */
function isSeenSwitch(current: KillSwitchState | null, seen: string | null): boolean {
  const at = current?.changedAtIso ?? null;
  if (at === seen) return true;
  return at !== null && seen?.startsWith('sha256:') === true && seen === killSwitchSeenDigest(at);
}

/**
 * Sets the switch to `engaged` on behalf of `by` and records `kill_switch_changed`; when
 * engaging, cancels the broker's open orders (each recorded as `order_status_changed`), sends
 * each running session's flatten (`order_intent` / `order_submitted` on the session's stream),
 * and records the halt (`rollback`, action `halt`: `canceled_orders`, the orders whose cancel
 * the broker accepted; `ended_orders`, those it showed filled, expired, rejected or replaced
 * instead; the flatten orders and what failed).
 * The state keeps the time of the latest engage across a release (`lastEngagedAtIso`), so a
 * paper session that did not read the switch while it was on still halts for the day. A
 * release is written only over the switch it read: when someone changed the switch between
 * the release's read and its write (an engage it never saw), the release is refused, recorded
 * (`input_rejected`, reason `changed_meanwhile`) and thrown (`KillSwitchChangedError`), and
 * the switch stays as that change left it. An engage is always written (the stricter state).
 *
 * A redelivery of an engage under the same `idempotencyKey` records no second change but runs
 * the halt again, so a first delivery that failed mid-cancel leaves nothing live: it cancels
 * what is still open, re-sends each flatten under its deterministic client_order_id (the
 * broker's known order is taken, never a second one) and records the halt once.
 *
 * @returns the new state, the client_order_ids canceled by THIS call, the orders it found
 *   ended otherwise (`ended`) and the flatten orders.
 * @throws ValidationError (recorded) for a keyed release without `expectedChangedAtIso`;
 *   KillSwitchChangedError when a release finds the switch changed since it read it
 *   (nothing written, the refusal recorded); the switch store's or the audit sink's errors (the
 *   switch is set first: a failure
 *   after it leaves the switch engaged, so gates fail closed); the broker's error when its open
 *   orders cannot be listed (after the switch is set). A cancel's record that fails is thrown
 *   only after every other order is cancelled, the flattens are sent and the halt recorded (an
 *   audit outage never leaves an order live). A cancel that fails twice and a flatten failure
 *   are recorded in the halt (`cancel_errors`, `flatten_errors`), not thrown.
 */
export async function setKillSwitch(
  deps: KillSwitchDeps,
  input: {
    readonly engaged: boolean;
    readonly reason: string;
    readonly by: string;
    /**
     * The caller's key of this request (the console's `Idempotency-Key`), the same on every
     * delivery of it: see {@link changeOnce}. Null/absent: every call is its own change.
     */
    readonly idempotencyKey?: string | null;
    /**
     * A release's view of the switch: its `changedAtIso` as the requester last saw it (the
     * console page, the Slack confirmation; {@link killSwitchSeenDigest} of it when too long to
     * carry), null when they saw it never set. The release is
     * refused (as a change between its read and its write) unless the stored switch still has
     * it, so a page or a confirmation left open never releases an engage made since. Absent:
     * not known (the CLI, which reads and releases in one process); the release is conditional
     * on its own read only. Required for a keyed release (`idempotencyKey`: the doors' requests,
     * which can be redelivered). Ignored on engage.
     */
    readonly expectedChangedAtIso?: string | null;
  },
): Promise<KillSwitchOutcome> {
  const base = { actor: input.by, stream: 'kill-switch:global', environment: deps.environment };
  if (!input.engaged && input.idempotencyKey && input.expectedChangedAtIso === undefined) {
    await refuseUnseenRelease(deps, input, base);
  }
  // A redelivered engage still runs the halt (the first delivery may have failed after the
  // switch was set, mid-cancel): what is still open is cancelled, each flatten is re-sent under
  // its deterministic client_order_id (the broker's known order is taken, never a second), and
  // the halt is recorded once under its key.
  const { state, haltKey, unchanged } = await changeOnce(deps, input, base);
  if (!input.engaged) {
    const none = { canceled: [], ended: [], flattened: [], flattenErrors: [], cancelErrors: [] };
    return { state, ...none, unchanged };
  }
  const { after, cancelErrors, auditError } = await cancelAll(deps, base, haltKey);
  // The flatten is sized with every answer, an order found filled included.
  const { flattened, flattenErrors } = deps.flatten
    ? await flattenSessions(deps, deps.flatten, after)
    : { flattened: [], flattenErrors: [] };
  const out = { state, ...cancelsOf(after), flattened, flattenErrors, cancelErrors, unchanged };
  await appendKeyed(
    deps.audit,
    { ...base, kind: 'rollback', payload: haltPayload(out, input.reason, deps.broker.name) },
    haltKey,
  );
  if (auditError) throw auditError;
  return out;
}

/**
 * Refuses a keyed release (a door's request: the console, a Slack click) that does not name the
 * switch its requester saw: a redelivery of it, after another operator engaged, would read the
 * new engage and release it. Recorded (`input_rejected`, field `expectedChangedAtIso`, reason
 * `unseen_release`, once per key); the doors require the field before they get here.
 *
 * @throws ValidationError (field `expectedChangedAtIso`), after the record.
 */
async function refuseUnseenRelease(
  deps: KillSwitchDeps,
  input: { reason: string; by: string; idempotencyKey?: string | null },
  base: { actor: string; stream: string; environment: AuditDraft['environment'] },
): Promise<never> {
  const err = new ValidationError(
    'expectedChangedAtIso',
    'a keyed release must name the switch its requester saw (its changedAtIso, null when never set); nothing was written',
  );
  const payload = {
    source: 'kill-switch',
    field: err.field,
    message: err.message,
    reason: 'unseen_release',
    requested: { engaged: false, reason: input.reason },
  };
  const key = ['kill-switch-unseen', input.by, input.idempotencyKey, input.reason];
  await appendKeyed(deps.audit, { ...base, kind: 'input_rejected', payload }, key);
  throw err;
}

/**
 * The broker's answers to the engage's cancels, split as the paper session's tick splits its
 * own (`cancelOpen` in paper/paper-session.ts): `canceled`, the orders whose cancel the broker
 * accepted (`canceled`, `pending_cancel`, or still working with the cancel pending); `ended`,
 * those it shows ended otherwise (filled before the cancel, expired, rejected, replaced).
 */
function cancelsOf(
  after: ReadonlyMap<string, BrokerOrder>,
): Pick<KillSwitchOutcome, 'canceled' | 'ended'> {
  const canceled: string[] = [];
  const ended: KillSwitchEndedOrder[] = [];
  for (const [clientOrderId, now] of after) {
    if (isTerminalOrderStatus(now.status) && now.status !== 'canceled')
      ended.push({ clientOrderId, status: now.status });
    else canceled.push(clientOrderId);
  }
  return { canceled, ended };
}

/** The halt record's payload (`rollback`, action `halt`; snake_case). */
function haltPayload(
  out: Omit<KillSwitchOutcome, 'state' | 'unchanged'>,
  reason: string,
  broker: string,
) {
  return {
    action: 'halt',
    reason,
    canceled_orders: out.canceled,
    ended_orders: out.ended.map((e) => ({ client_order_id: e.clientOrderId, status: e.status })),
    flattened: out.flattened.map((f) => ({
      promotion_id: f.promotionId,
      client_order_id: f.clientOrderId,
      symbol: f.symbol,
      side: f.side,
      qty: f.qty,
      status: f.status,
    })),
    flatten_errors: out.flattenErrors.map((e) => ({ promotion_id: e.promotionId, error: e.error })),
    cancel_errors: out.cancelErrors.map((e) => ({
      client_order_id: e.clientOrderId,
      error: e.error,
    })),
    broker,
  };
}

/**
 * Sets the switch and records `kill_switch_changed`, once per `idempotencyKey` (with the
 * requester and the requested state in the key, so a key reused for another change is
 * another change). A redelivery finds the switch already as requested by the same person and
 * the key's record committed: it changes and records nothing (the current state; the halt key
 * is the first delivery's, so the caller's halt is recorded once). A change made now is never swallowed by a committed key (the switch was changed meanwhile
 * and is set again): it is recorded on its own. The switch is set BEFORE its record (a failure
 * in between leaves it set, so gates fail closed). An engage sets `lastEngagedAtIso` to its
 * change time; a release carries the stored one ({@link currentState}: an engage's failed read
 * of the current state only means "not yet as requested"; a release's is thrown) and is
 * written only over the switch it read ({@link writeSwitch}). A release of a switch that is
 * already released (by anyone, also from a view older than that release) writes nothing: a
 * later `changedAtIso` would move the end of the last engage's halt window
 * ([`lastEngagedAtIso`, `changedAtIso`], `paper/paper-session.ts`) past the real release and
 * halt sessions started after it; it is answered with the stored release (`unchanged`) and
 * recorded as any no-op request is (`kill_switch_changed`, once per key).
 *
 * @returns the state, the key of the halt record (null without an idempotency key, or for a
 *   change recorded on its own) and whether nothing was written (`unchanged`).
 */
async function changeOnce(
  deps: KillSwitchDeps,
  input: {
    engaged: boolean;
    reason: string;
    by: string;
    idempotencyKey?: string | null;
    expectedChangedAtIso?: string | null;
  },
  base: { actor: string; stream: string; environment: AuditDraft['environment'] },
): Promise<{ state: KillSwitchState; haltKey: unknown[] | null; unchanged: boolean }> {
  const key = input.idempotencyKey
    ? ['kill-switch', input.by, input.idempotencyKey, input.engaged, input.reason]
    : null;
  const current = await currentState(deps, input.engaged, key !== null);
  // A release of a released switch writes nothing, whoever released it: a new changedAtIso
  // would move the end of the last engage's halt window past the real release.
  const alreadySo =
    current !== null &&
    current.engaged === input.engaged &&
    (!input.engaged || (current.reason === input.reason && current.changedBy === input.by));
  const changedAtIso = new Date(deps.clock.now()).toISOString();
  const lastEngagedAtIso = input.engaged ? changedAtIso : lastEngagedOf(current);
  const state: KillSwitchState =
    alreadySo && current
      ? current
      : {
          engaged: input.engaged,
          reason: input.reason,
          changedBy: input.by,
          changedAtIso,
          ...(lastEngagedAtIso ? { lastEngagedAtIso } : {}),
        };
  const seen = input.expectedChangedAtIso;
  if (!alreadySo) await writeSwitch(deps, { state, current, key, seen }, base);
  const draft: AuditDraft = {
    ...base,
    kind: 'kill_switch_changed',
    payload: { engaged: input.engaged, reason: input.reason, scope: 'global' },
  };
  const out = await appendKeyedOnce(deps.audit, draft, key);
  const unchanged = alreadySo;
  if (out.replayed && alreadySo)
    return { state, haltKey: key ? [...key, 'halt'] : null, unchanged };
  if (out.replayed) await deps.audit.append(draft);
  return { state, haltKey: key && !out.replayed ? [...key, 'halt'] : null, unchanged };
}

/**
 * Writes the switch: an engage unconditionally (the stricter state always wins, also over a
 * change it did not read); a release only over the switch it read (`current`, null: none
 * stored), atomically (`KillSwitchPort.set`'s condition), and, when the requester said which
 * switch they saw (`seen`, its `changedAtIso`), only when the read one is that one. A release refused because the switch
 * changed meanwhile (another operator's engage, a rollback's or a breaker's) is recorded,
 * `input_rejected` (source `kill-switch`, reason `changed_meanwhile`, the time seen, the switch
 * read and the one found; once per idempotency key), then its `KillSwitchChangedError` is thrown: never
 * retried, so the switch stays as the other change left it and its `lastEngagedAtIso` stands.
 *
 * @throws KillSwitchChangedError (recorded first), the store's and the audit sink's errors.
 */
async function writeSwitch(
  deps: KillSwitchDeps,
  write: {
    state: KillSwitchState;
    current: KillSwitchState | null;
    key: unknown[] | null;
    seen: string | null | undefined;
  },
  base: { actor: string; stream: string; environment: AuditDraft['environment'] },
): Promise<void> {
  const { state, current, key, seen } = write;
  if (state.engaged) return deps.killSwitch.set(state);
  try {
    if (seen !== undefined && !isSeenSwitch(current, seen)) {
      throw new KillSwitchChangedError(seen === null ? null : { changedAtIso: seen }, current);
    }
    await deps.killSwitch.set(state, { expected: current });
  } catch (err) {
    if (!(err instanceof KillSwitchChangedError)) throw err;
    const found = err.found === 'unreadable' ? 'unreadable' : switchSummary(err.found);
    await appendKeyed(
      deps.audit,
      {
        ...base,
        kind: 'input_rejected',
        payload: {
          source: 'kill-switch',
          field: 'kill_switch',
          message: err.message,
          reason: 'changed_meanwhile',
          requested: { engaged: false, reason: state.reason },
          ...(seen !== undefined ? { seen_changed_at: seen } : {}),
          read: switchSummary(current),
          found,
        },
      },
      key ? [...key, 'refused'] : null,
    );
    throw err;
  }
}

/** A switch as an audit payload shows it (snake_case; null: no item). */
function switchSummary(s: KillSwitchState | null) {
  if (!s) return null;
  return {
    engaged: s.engaged,
    reason: s.reason,
    changed_by: s.changedBy,
    changed_at: s.changedAtIso,
    last_engaged_at: s.lastEngagedAtIso ?? null,
  };
}

/**
 * The switch as stored before a change. An engage never waits on it: read only under an
 * idempotency key, and a failed read means "not yet as requested". A release always reads it,
 * to carry the last engage time (`lastEngagedAtIso`) across, and fails closed: a failed read
 * throws, so the switch stays as it is (engaged) and the operator releases again.
 */
async function currentState(
  deps: KillSwitchDeps,
  engaging: boolean,
  keyed: boolean,
): Promise<KillSwitchState | null> {
  if (!engaging) return deps.killSwitch.read();
  return keyed ? deps.killSwitch.read().catch(() => null) : null;
}

/**
 * The last engage time a release carries: the stored one, else an engaged item's own change
 * time (an item stored before `lastEngagedAtIso` existed, or engaged by a direct write).
 */
function lastEngagedOf(current: KillSwitchState | null): string | undefined {
  return current?.lastEngagedAtIso ?? (current?.engaged ? current.changedAtIso : undefined);
}

/** True for a flatten the kill switch itself sent (never canceled by a later engage). */
function isKillSwitchFlatten(id: string): boolean {
  try {
    return parseClientOrderId(id).leg === KILL_SWITCH_FLATTEN_LEG;
  } catch {
    return false;
  }
}

/**
 * Cancels every open order at the broker but the kill switch's own flattens, failing closed: a
 * failed cancel takes the broker's terminal answer (`cancelOrLearn`), else is retried once
 * after the others, else is returned in `cancelErrors` (never thrown: the other orders are
 * still cancelled and the flattens still sent). Each cancel is recorded (`order_status_changed`)
 * OUTSIDE the cancel's failure handling: an audit error is never taken for a failed cancel (an
 * append that committed and then threw is not retried into a second record); the first one is
 * returned in `auditError`, for the caller to throw once the rest is done. With the engage's idempotency key the record is keyed
 * (`['kill-switch-cancel', ...haltKey, client_order_id, status]`): a redelivery that still finds
 * the order open records the same transition once.
 *
 * @returns the broker's view after each cancel, by id, the cancels that failed twice and the
 *   first error of a cancel's record (undefined when every record was appended).
 * @throws the broker's error when its open orders cannot be listed.
 */
async function cancelAll(
  deps: KillSwitchDeps,
  base: { actor: string; stream: string; environment: AuditDraft['environment'] },
  haltKey: unknown[] | null,
): Promise<
  Pick<KillSwitchOutcome, 'cancelErrors'> & { after: Map<string, BrokerOrder>; auditError?: Error }
> {
  const after = new Map<string, BrokerOrder>();
  const open = (await deps.broker.listOpenOrders()).filter(
    (o) => !isKillSwitchFlatten(o.clientOrderId),
  );
  let failed: { order: BrokerOrder; error: string }[] = [];
  let auditError: Error | undefined;
  for (const round of [open, null]) {
    const todo = round ?? failed.map((f) => f.order);
    failed = [];
    for (const order of todo) {
      let now: BrokerOrder;
      try {
        now = await cancelOrLearn(deps.broker, order.clientOrderId);
      } catch (err) {
        failed.push({ order, error: (err as Error).message });
        continue;
      }
      after.set(order.clientOrderId, now);
      auditError ??= await recordCancel(deps, base, { order, now, haltKey }).then(
        () => undefined,
        (err: unknown) => err as Error,
      );
    }
  }
  const cancelErrors = failed.map((f) => ({
    clientOrderId: f.order.clientOrderId,
    error: f.error,
  }));
  return { after, cancelErrors, ...(auditError ? { auditError } : {}) };
}

async function recordCancel(
  deps: KillSwitchDeps,
  base: { actor: string; stream: string; environment: AuditDraft['environment'] },
  cancel: { order: BrokerOrder; now: BrokerOrder; haltKey: unknown[] | null },
): Promise<void> {
  const { order, now, haltKey } = cancel;
  const key = haltKey ? ['kill-switch-cancel', ...haltKey, order.clientOrderId, now.status] : null;
  await appendKeyed(
    deps.audit,
    {
      ...base,
      kind: 'order_status_changed',
      subject: { order_id: order.clientOrderId },
      payload: {
        client_order_id: order.clientOrderId,
        status: now.status,
        previous_status: order.status,
        filled_qty: now.filledQty,
        filled_avg_price: now.filledAvgPriceUsd,
        reason: 'kill switch engaged',
      },
    },
    key,
  );
}

/** The running sessions of today (New York and UTC dates: equity and crypto sessions). */
async function runningSessions(
  deps: KillSwitchDeps,
  flatten: KillSwitchFlatten,
): Promise<SessionBookSnapshot[]> {
  const now = deps.clock.now();
  const dates = [...new Set([marketDate(now, 'equity-usa'), marketDate(now, 'crypto')])];
  const out: SessionBookSnapshot[] = [];
  for (const date of dates) {
    for (const s of await flatten.sessionBooks.list(flatten.account, date)) {
      if (!s.done) out.push(s);
    }
  }
  return out;
}

/**
 * A session's position now: its last book plus what its open orders filled since (read from
 * the cancel's answer, or from the broker for an order that ended on its own), signed shares.
 */
async function positionNow(
  broker: BrokerPort,
  s: SessionBookSnapshot,
  after: ReadonlyMap<string, BrokerOrder>,
): Promise<number> {
  let qty = s.qty;
  for (const o of s.open) {
    const now =
      after.get(o.clientOrderId) ?? (await broker.getOrderByClientOrderId(o.clientOrderId));
    const delta = (now?.filledQty ?? o.filledQty) - o.filledQty;
    qty += o.side === 'buy' ? delta : -delta;
  }
  return qty;
}

async function flattenSessions(
  deps: KillSwitchDeps,
  flatten: KillSwitchFlatten,
  after: ReadonlyMap<string, BrokerOrder>,
): Promise<Pick<KillSwitchOutcome, 'flattened' | 'flattenErrors'>> {
  const flattened: KillSwitchFlattenOrder[] = [];
  const flattenErrors: { promotionId: string; error: string }[] = [];
  let sessions: SessionBookSnapshot[];
  try {
    sessions = await runningSessions(deps, flatten);
  } catch (err) {
    return { flattened, flattenErrors: [{ promotionId: '*', error: (err as Error).message }] };
  }
  for (const s of sessions) {
    try {
      const qty = await positionNow(deps.broker, s, after);
      if (Math.abs(qty) <= DUST_QTY) continue;
      const clientOrderId = killSwitchFlattenOrderId(s.promotionId);
      const side = qty > 0 ? 'sell' : 'buy';
      const { order } = await submitOnce(
        {
          audit: deps.audit,
          environment: deps.environment,
          actor: 'stagegate/kill-switch',
          stream: `promotion:${s.promotionId}`,
          subject: { promotion_id: s.promotionId },
        },
        deps.broker,
        marketOrderRequest({
          clientOrderId,
          symbol: s.symbol,
          side,
          qty: Math.abs(qty),
          market: s.market ?? 'equity-usa',
        }),
        { mayBeKnown: true },
      );
      flattened.push({
        promotionId: s.promotionId,
        clientOrderId,
        symbol: s.symbol,
        side,
        qty: order.qty,
        status: order.status,
      });
    } catch (err) {
      flattenErrors.push({ promotionId: s.promotionId, error: (err as Error).message });
    }
  }
  return { flattened, flattenErrors };
}
