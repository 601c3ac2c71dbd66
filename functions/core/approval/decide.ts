/**
 * Approval use cases behind the approval page and the Slack interactivity endpoint. They never
 * call Step Functions or the audit sink themselves: they return an outcome, the handler
 * resumes the execution (SendTaskSuccess on `approved`, SendTaskFailure on `rejected`) with the
 * outcome's task token and appends {@link recordAttempt}'s audit draft.
 *
 * Decide from the page (POST):
 *   verify link (id + exp + sig) -> verify CSRF -> parse decision -> load the request
 *   -> allow-list -> pending? -> not expired? -> not signed yet by this approver? -> may sign
 *   the due step of the chain? -> conditional claim (exactly one caller wins the step).
 *   A decision is one signature of the request's chain (chain.ts); only the signature that
 *   completes it (the last approval, or any rejection) carries the task token.
 * Decide from Slack: the Slack request signature replaces link + CSRF (the adapter verifies
 *   it), then the same steps from "load the request".
 * Show (GET): verify link -> load -> (allow-list, when the viewer is known) -> pending? ->
 *   not expired? -> confirmation page. GET never changes state.
 *
 * Refusals are outcomes, not exceptions: each carries a named error, the page kind and the
 * HTTP status. Only infrastructure faults (TransientError) and a task token that fails to
 * decrypt (SignatureInvalidError, a server-side integrity fault) are thrown.
 */
import type { ApprovalStore, ApprovalView, ClaimedDecision } from '../../ports/approval-store.js';
import type { Clock } from '../../ports/clock.js';
import type { AuditDraftWithoutEnvironment } from '../audit/record.js';
import { naturalAuditKey } from '../audit/step-scoped.js';
import {
  ApprovalAlreadyDecidedError,
  ApprovalDuplicateSignerError,
  ApprovalExpiredError,
  ApprovalForbiddenError,
  ApprovalNotFoundError,
  SignatureInvalidError,
  type StagegateError,
  ValidationError,
} from '../errors.js';
import { type ApprovalSignature, signatureRefusal } from './chain.js';
import { claimRefusal, withTaskToken } from './claim.js';
import {
  type ApprovalKey,
  approvalCsrfToken,
  type LinkError,
  type RawLinkParts,
  verifyApprovalCsrfToken,
  verifyApprovalLink,
} from './links.js';
import {
  type ApprovalPageErrorKind,
  ERROR_PAGE_STATUS,
  type RenderedPage,
  renderConfirmationPage,
  renderErrorPage,
  renderResultPage,
  renderSignedPage,
} from './page.js';
import {
  APPROVAL_ID_PATTERN,
  type ApprovalChannel,
  type ApprovalDecision,
  approverIdSchema,
} from './types.js';

/** What the approval use cases need. */
export interface ApprovalDeps {
  readonly store: ApprovalStore;
  /** Approval key (links, CSRF); see links.ts. */
  readonly key: ApprovalKey;
  readonly clock: Clock;
}

/**
 * A recorded signature: when it completes the chain (`chainComplete`), resume the execution
 * with `taskToken`; otherwise the execution keeps waiting for the next step's signature.
 */
export interface DecideSuccess {
  readonly ok: true;
  /** This signature's decision (the request's decision when `chainComplete`). */
  readonly status: ApprovalDecision;
  readonly approvalId: string;
  /** Approver identity `scheme:id`. */
  readonly by: string;
  readonly atIso: string;
  readonly channel: ApprovalChannel;
  readonly executionArn: string;
  readonly candidateId: string;
  readonly agentId: string;
  /** The approver's note, null when none. */
  readonly note: string | null;
  /** 1-based position of this signature in the chain, and the role it was given in. */
  readonly step: number;
  readonly role: string;
  /** Signatures the chain needs. */
  readonly chainLength: number;
  /** True when this signature decided the request. */
  readonly chainComplete: boolean;
  /** The key its `approval_decided` record is appended under ({@link signatureAuditKey}). */
  readonly auditKey: string;
  /**
   * Internal: the decrypted Step Functions task token, for SendTaskSuccess / SendTaskFailure
   * only, null while the chain is incomplete. Non-enumerable, so it stays out of JSON, logs
   * and audit payloads.
   */
  readonly taskToken: string | null;
}

/** A refused attempt: nothing changed. */
export interface DecideFailure {
  readonly ok: false;
  /** Which error page to show. */
  readonly kind: ApprovalPageErrorKind;
  /** Suggested HTTP status (see `ERROR_PAGE_STATUS`). */
  readonly httpStatus: number;
  /**
   * The named error: SignatureInvalidError (tampered link / bad CSRF), ValidationError
   * (malformed link or form), ApprovalExpiredError, ApprovalAlreadyDecidedError,
   * ApprovalForbiddenError or ApprovalNotFoundError.
   */
  readonly error: StagegateError;
  /** The offending input (`sig`, `exp`, `approvalId`, `csrf`, `decision`, `approver`...). */
  readonly field: string;
  /** The approval id when it was well-formed, else null. */
  readonly approvalId: string | null;
  /** The waiting execution when the request was loaded, else null. */
  readonly executionArn: string | null;
  readonly approver: string | null;
  readonly channel: ApprovalChannel;
}

export type DecideOutcome = DecideSuccess | DecideFailure;

function failure(
  kind: ApprovalPageErrorKind,
  error: StagegateError,
  field: string,
  ctx: {
    approvalId?: string | null;
    executionArn?: string | null;
    approver: string | null;
    channel: ApprovalChannel;
  },
): DecideFailure {
  return {
    ok: false,
    kind,
    httpStatus: ERROR_PAGE_STATUS[kind],
    error,
    field,
    approvalId: ctx.approvalId ?? null,
    executionArn: ctx.executionArn ?? null,
    approver: ctx.approver,
    channel: ctx.channel,
  };
}

function linkFailure(
  error: LinkError,
  raw: RawLinkParts,
  approver: string | null,
  channel: ApprovalChannel,
): DecideFailure {
  const id =
    typeof raw.approvalId === 'string' && APPROVAL_ID_PATTERN.test(raw.approvalId)
      ? raw.approvalId
      : null;
  const ctx = { approvalId: id, approver, channel };
  if (error === 'expired') {
    const expIso = new Date(Number(raw.exp) * 1000).toISOString();
    return failure('expired', new ApprovalExpiredError(id ?? '?', expIso), 'exp', ctx);
  }
  if (error === 'tampered') {
    return failure('tampered', new SignatureInvalidError('approval_link', 'tampered'), 'sig', ctx);
  }
  return failure(
    'malformed',
    new ValidationError('approvalLink', 'id, exp or sig is missing or malformed'),
    'approvalLink',
    ctx,
  );
}

/**
 * A request refused before any approval logic ran (wrong HTTP method, oversized or ambiguous
 * form): a `malformed` failure naming `field`, so it is audited like every other refusal.
 *
 * @param input.approvalId the raw path parameter (kept only when well-formed).
 */
export function refuseRequest(input: {
  readonly field: string;
  readonly message: string;
  readonly approvalId: unknown;
  readonly approver: string | null;
  readonly channel: ApprovalChannel;
}): DecideFailure {
  const id =
    typeof input.approvalId === 'string' && APPROVAL_ID_PATTERN.test(input.approvalId)
      ? input.approvalId
      : null;
  return failure('malformed', new ValidationError(input.field, input.message), input.field, {
    approvalId: id,
    approver: input.approver,
    channel: input.channel,
  });
}

/** Maps a named refusal onto its page kind and offending field. */
function refusalFailure(
  err: StagegateError,
  ctx: {
    approvalId: string;
    executionArn: string | null;
    approver: string | null;
    channel: ApprovalChannel;
  },
): DecideFailure | null {
  if (err instanceof ApprovalForbiddenError) return failure('forbidden', err, 'approver', ctx);
  if (err instanceof ApprovalAlreadyDecidedError) return failure('reused', err, 'approvalId', ctx);
  if (err instanceof ApprovalDuplicateSignerError) return failure('signed', err, 'approver', ctx);
  if (err instanceof ApprovalExpiredError) return failure('expired', err, 'exp', ctx);
  if (err instanceof ApprovalNotFoundError) return failure('missing', err, 'approvalId', ctx);
  return null;
}

/**
 * Classifies a view for the caller: the refusal, or null when it may proceed. With `attempt`
 * (a decision) the chain's rules apply (chain.ts `signatureRefusal`); without (a page view) the
 * allow-list, pending and expiry checks.
 */
function checkView(
  view: ApprovalView,
  approver: string | null,
  nowMs: number,
  channel: ApprovalChannel,
  attempt?: { readonly decision: ApprovalDecision; readonly roles: readonly string[] | null },
): DecideFailure | null {
  const refusal =
    attempt && approver !== null
      ? signatureRefusal(view, { by: approver, ...attempt, atMs: nowMs })
      : claimRefusal(view, approver, nowMs);
  if (!refusal) return null;
  const ctx = { approvalId: view.approvalId, executionArn: view.executionArn, approver, channel };
  return refusalFailure(refusal, ctx);
}

async function load(
  store: ApprovalStore,
  approvalId: string,
  approver: string | null,
  channel: ApprovalChannel,
): Promise<ApprovalView | DecideFailure> {
  try {
    return await store.getForDisplay(approvalId);
  } catch (err) {
    if (err instanceof ApprovalNotFoundError) {
      return failure('missing', err, 'approvalId', { approvalId, approver, channel });
    }
    throw err;
  }
}

/** A decision attempt ({@link decideApproval}). */
export interface DecideInput {
  readonly approvalId: string;
  readonly decision: ApprovalDecision;
  /** Authenticated identity `scheme:id`. */
  readonly approver: string;
  readonly channel: ApprovalChannel;
  /** The approver's note (validated by the edge, at most 1,000 characters). */
  readonly note?: string | null;
  /** The signer's console roles when the edge knows them; null/absent: unknown. */
  readonly roles?: readonly string[] | null;
  /**
   * The natural key of the request making the attempt (`applyApprovalDecision`'s
   * `attemptKey`, the same on every redelivery); null/absent: the attempt has none.
   */
  readonly attemptKey?: readonly unknown[] | null;
}

/**
 * Records a decision for an approval whose authenticity the caller already established (the
 * Slack interactivity endpoint after `verifySlackSignature`, or {@link decideFromForm} after
 * the link and CSRF checks).
 *
 * @param input.approver authenticated identity `scheme:id` (e.g. `slack:U123`); an identity
 *   of another shape is refused as `forbidden` (fail closed).
 * @returns the success (with the internal task token) or the refusal; never both, and only one
 *   of any number of concurrent callers gets a success.
 * @throws TransientError on store faults; SignatureInvalidError when the stored token does
 *   not decrypt.
 */
export async function decideApproval(
  deps: Pick<ApprovalDeps, 'store' | 'clock'>,
  input: DecideInput,
): Promise<DecideOutcome> {
  const { approvalId, decision, approver, channel } = input;
  const auditKey = signatureAuditKey(approvalId, approver, input.attemptKey ?? null);
  const note = input.note?.trim() ? input.note.trim().slice(0, 1000) : null;
  const roles = input.roles ?? null;
  if (!APPROVAL_ID_PATTERN.test(approvalId)) {
    return failure(
      'malformed',
      new ValidationError('approvalId', 'must be 16-64 characters [A-Za-z0-9_-]'),
      'approvalId',
      { approver, channel },
    );
  }
  if (!approverIdSchema.safeParse(approver).success) {
    return failure(
      'forbidden',
      new ApprovalForbiddenError(approvalId, String(approver).slice(0, 200)),
      'approver',
      { approvalId, approver: null, channel },
    );
  }
  const loaded = await load(deps.store, approvalId, approver, channel);
  if ('ok' in loaded) return loaded;
  const nowMs = deps.clock.now();
  const refused = checkView(loaded, approver, nowMs, channel, { decision, roles });
  if (refused) return refused;
  const atIso = new Date(nowMs).toISOString();
  const ctx = { approvalId, executionArn: loaded.executionArn, approver, channel };
  let claimed: ClaimedDecision;
  try {
    claimed = await deps.store.claimDecision(approvalId, {
      decision,
      by: approver,
      atIso,
      channel,
      note,
      roles,
      auditKey,
    });
  } catch (err) {
    const refused = err instanceof Error ? refusalFailure(err as StagegateError, ctx) : null;
    if (refused) return refused;
    throw err;
  }
  return withTaskToken(
    {
      ok: true,
      status: claimed.decision,
      approvalId,
      by: claimed.by,
      atIso: claimed.atIso,
      channel,
      executionArn: claimed.executionArn,
      candidateId: loaded.summary.candidateId,
      agentId: loaded.summary.agentId,
      note,
      step: claimed.signature.step,
      role: claimed.signature.role,
      chainLength: claimed.chainLength,
      chainComplete: claimed.chainComplete,
      auditKey: claimed.signature.auditKey ?? auditKey,
    },
    claimed.taskToken,
  );
}

/**
 * The idempotency key (hex SHA-256) a signature's `approval_decided` record is appended under,
 * stored with the signature: from the approval, the signer and the attempt's natural key when
 * the door has one (so a redelivery of the signing attempt recognises its signature and its
 * record), else null (one approver signs a request once). Distinct from the key of an attempt's
 * refusal record, so a form first refused as not yet due still records its later signature.
 */
export function signatureAuditKey(
  approvalId: string,
  approver: string,
  attemptKey: readonly unknown[] | null,
): string {
  return naturalAuditKey(['approval-signature', approvalId, approver, attemptKey ?? null]);
}

/** Form `decision` values the confirmation page posts. */
const FORM_DECISIONS: Readonly<Record<string, ApprovalDecision>> = {
  approve: 'approved',
  reject: 'rejected',
};

/**
 * The confirmation form's POST: verifies the link (`approvalId` from the path, `exp` and `sig`
 * from the form), then the CSRF token, parses `decision` (`approve` | `reject`) and hands over
 * to {@link decideApproval}.
 *
 * @param input.approvalId the `{approvalId}` path parameter, as received.
 * @param input.form the urlencoded form fields, as received (`note`: optional, at most 1,000
 *   characters, recorded with the signature; `nonce`: optional, {@link FORM_NONCE_PATTERN},
 *   a malformed one is refused).
 * @param input.approver authenticated identity of the person submitting (from the edge: an
 *   authorizer claim, or the local CLI user), NEVER a form field.
 * @throws TransientError on store faults; SignatureInvalidError when the stored token does
 *   not decrypt; ValidationError when the approval key is too short.
 */
export async function decideFromForm(
  deps: ApprovalDeps,
  input: {
    readonly approvalId: unknown;
    readonly form: Readonly<Record<string, unknown>>;
    readonly approver: string;
  },
): Promise<DecideOutcome> {
  const channel: ApprovalChannel = 'web';
  const raw: RawLinkParts = {
    approvalId: input.approvalId,
    exp: input.form.exp,
    sig: input.form.sig,
  };
  const link = verifyApprovalLink(raw, deps.key, deps.clock.now());
  if (!link.ok) return linkFailure(link.error, raw, input.approver, channel);
  const ctx = { approvalId: link.approvalId, approver: input.approver, channel };
  if (
    !verifyApprovalCsrfToken(
      { approvalId: link.approvalId, exp: link.exp, csrf: input.form.csrf },
      deps.key,
    )
  ) {
    return failure('csrf', new SignatureInvalidError('csrf', 'mismatch'), 'csrf', ctx);
  }
  const decisionText = input.form.decision;
  const decision =
    typeof decisionText === 'string' && Object.hasOwn(FORM_DECISIONS, decisionText)
      ? FORM_DECISIONS[decisionText]
      : undefined;
  if (!decision) {
    return failure(
      'malformed',
      new ValidationError('decision', 'must be "approve" or "reject"'),
      'decision',
      ctx,
    );
  }
  const note = input.form.note;
  if (note !== undefined && (typeof note !== 'string' || note.length > 1000)) {
    return failure(
      'malformed',
      new ValidationError('note', 'must be text of at most 1,000 characters'),
      'note',
      ctx,
    );
  }
  const nonce = input.form.nonce;
  if (nonce !== undefined && (typeof nonce !== 'string' || !FORM_NONCE_PATTERN.test(nonce))) {
    return failure(
      'malformed',
      new ValidationError('nonce', 'must be 16-64 characters [A-Za-z0-9_-]'),
      'nonce',
      ctx,
    );
  }
  return decideApproval(deps, {
    approvalId: link.approvalId,
    decision,
    approver: input.approver,
    channel,
    note: note ?? null,
    attemptKey: formAttemptKey(input),
  });
}

/** The confirmation form's per-render `nonce`: 16-64 characters `[A-Za-z0-9_-]` (a UUID fits). */
export const FORM_NONCE_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;

/**
 * The natural key of a confirmation-form POST (`applyApprovalDecision`'s `attemptKey`): the
 * approval id, the posted `decision`, the authenticated approver and the form's per-render
 * `nonce`, so a double submit or a retried POST of one rendered form is one attempt (recorded
 * once, answered the same) while a new render is a new attempt.
 *
 * @returns the key's parts, or null when the form carries no well-formed nonce (then every
 *   POST is its own attempt, as before the nonce).
 */
export function formAttemptKey(input: {
  readonly approvalId: unknown;
  readonly form: Readonly<Record<string, unknown>>;
  readonly approver: string;
}): unknown[] | null {
  const nonce = input.form.nonce;
  if (typeof nonce !== 'string' || !FORM_NONCE_PATTERN.test(nonce)) return null;
  return [
    'approval-page',
    String(input.approvalId ?? ''),
    String(input.form.decision ?? ''),
    input.approver,
    nonce,
  ];
}

/**
 * The GET of an approval link: the confirmation page when the link verifies and the request is
 * pending and unexpired, otherwise the matching error page. Never changes state.
 *
 * @param input.link the raw `approvalId` path parameter and `exp` / `sig` query parameters.
 * @param input.viewer authenticated viewer identity when the edge has one: a viewer not on the
 *   allow-list gets `forbidden`; null skips that check (the link alone shows the page).
 * @returns the page to send and, for a refusal, the failure to audit (null when shown).
 * @throws TransientError on store faults.
 */
export async function showApprovalPage(
  deps: ApprovalDeps,
  input: {
    readonly link: RawLinkParts;
    readonly viewer: string | null;
    /** This render's form nonce (the handler draws it; {@link formAttemptKey}). */
    readonly nonce?: string;
  },
): Promise<{ readonly page: RenderedPage; readonly failure: DecideFailure | null }> {
  const channel: ApprovalChannel = 'web';
  const nowMs = deps.clock.now();
  const link = verifyApprovalLink(input.link, deps.key, nowMs);
  if (!link.ok) {
    const f = linkFailure(link.error, input.link, input.viewer, channel);
    return { page: pageForOutcome(f), failure: f };
  }
  const loaded = await load(deps.store, link.approvalId, input.viewer, channel);
  if ('ok' in loaded) return { page: pageForOutcome(loaded), failure: loaded };
  const refused = checkView(loaded, input.viewer, nowMs, channel);
  if (refused) return { page: pageForOutcome(refused), failure: refused };
  const page = renderConfirmationPage({
    summary: loaded.summary,
    equityCurve: loaded.equityCurve,
    approvalId: link.approvalId,
    exp: link.exp,
    sig: String(input.link.sig),
    csrfToken: approvalCsrfToken(link.approvalId, link.exp, deps.key),
    expiresAtIso: loaded.expiresAtIso,
    ...(input.nonce ? { nonce: input.nonce } : {}),
  });
  return { page, failure: null };
}

/**
 * What a door answers for an attempt: the recorded signature, or the refusal. Built from a
 * fresh outcome ({@link answerOf}) or, for a redelivered request whose first delivery was
 * recorded, from that attempt's audit record ({@link answerOfRecord}), so the redelivery
 * answers as the first delivery did.
 */
export type AttemptAnswer =
  | {
      readonly ok: true;
      readonly status: ApprovalDecision;
      readonly by: string;
      readonly atIso: string;
      /** 1-based chain position, of `of` signatures; `complete` when it decided the request. */
      readonly step: number;
      readonly of: number;
      readonly role: string;
      readonly complete: boolean;
    }
  | {
      readonly ok: false;
      readonly kind: ApprovalPageErrorKind;
      readonly httpStatus: number;
      /** The named error (`ApprovalAlreadyDecidedError`, ...). */
      readonly errorName: string;
      readonly message: string;
      /** The offending input. */
      readonly field: string;
    };

/** The answer of a fresh outcome. */
export function answerOf(outcome: DecideOutcome): AttemptAnswer {
  if (outcome.ok) {
    return {
      ok: true,
      status: outcome.status,
      by: outcome.by,
      atIso: outcome.atIso,
      step: outcome.step,
      of: outcome.chainLength,
      role: outcome.role,
      complete: outcome.chainComplete,
    };
  }
  return {
    ok: false,
    kind: outcome.kind,
    httpStatus: outcome.httpStatus,
    errorName: outcome.error.name,
    message: outcome.error.message,
    field: outcome.field,
  };
}

const isPageKind = (k: unknown): k is ApprovalPageErrorKind =>
  typeof k === 'string' && Object.hasOwn(ERROR_PAGE_STATUS, k);

/**
 * The answer an attempt gave, read back from its audit record ({@link recordAttempt}'s
 * `approval_decided` or `input_rejected`): what a redelivered request answers.
 *
 * @throws ValidationError when the record is not an attempt's record (fail closed: the
 *   caller answers 500, nothing is acted on).
 */
export function answerOfRecord(record: {
  readonly kind: string;
  readonly actor: string;
  /** The record's payload: its stored JSON text, or the parsed object. */
  readonly payload: unknown;
}): AttemptAnswer {
  const raw = typeof record.payload === 'string' ? parsePayload(record.payload) : record.payload;
  const p = (raw ?? {}) as Record<string, unknown>;
  if (
    record.kind === 'approval_decided' &&
    (p.decision === 'approved' || p.decision === 'rejected')
  ) {
    return {
      ok: true,
      status: p.decision,
      by: record.actor,
      atIso: String(p.decided_at ?? ''),
      step: Number(p.chain_step ?? 1),
      of: Number(p.chain_steps ?? 1),
      role: String(p.role ?? ''),
      complete: p.chain_complete !== false,
    };
  }
  if (record.kind === 'input_rejected' && isPageKind(p.reason)) {
    return {
      ok: false,
      kind: p.reason,
      httpStatus: ERROR_PAGE_STATUS[p.reason],
      errorName: String(p.error ?? 'ValidationError'),
      message: String(p.message ?? ''),
      field: String(p.field ?? ''),
    };
  }
  throw new ValidationError(
    'audit.kind',
    `${record.kind} is not the record of an approval attempt`,
  );
}

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

/** The page of an answer: the result (or signed) page, or the error page with its message. */
export function pageForAnswer(answer: AttemptAnswer): RenderedPage {
  if (answer.ok && !answer.complete) {
    return renderSignedPage({
      by: answer.by,
      atIso: answer.atIso,
      step: answer.step,
      of: answer.of,
      role: answer.role,
    });
  }
  if (answer.ok) return renderResultPage(answer.status, answer.by, answer.atIso);
  return renderErrorPage(answer.kind, answer.message);
}

/**
 * The page for an outcome: the result page on success, the error page (with the error's
 * message) on a refusal.
 */
export function pageForOutcome(outcome: DecideOutcome): RenderedPage {
  return pageForAnswer(answerOf(outcome));
}

/** An audit draft without `environment` (the handler's audit step adds it). */
export type ApprovalAuditDraft = Extract<
  AuditDraftWithoutEnvironment,
  { kind: 'approval_decided' | 'input_rejected' }
>;

const STREAM_ID = /^[A-Za-z0-9._:@/+-]{1,190}$/;

function executionName(executionArn: string | null): string | null {
  if (!executionArn) return null;
  const name = executionArn.split(':').pop() ?? '';
  return STREAM_ID.test(name) ? name : null;
}

/**
 * What to audit for an attempt (the `recordAttempt` hook): `approval_decided` for a recorded
 * signature (actor = the approver; `note`, `chain_step` of `chain_steps`, `role`, and
 * `chain_complete` true on the signature that decided the request), `input_rejected` for a refusal, with `reason` = the page
 * kind (`tampered`, `expired`, `reused`, `forbidden`, `missing`, `csrf`, `malformed`). The
 * stream is the execution's (`execution:<name>`) when the request was loaded, else
 * `approval:<approvalId>` (or `approval:invalid` for a malformed id). Never includes the task
 * token.
 */
export function recordAttempt(outcome: DecideOutcome): ApprovalAuditDraft {
  const name = executionName(outcome.executionArn);
  const stream = name
    ? `execution:${name}`
    : `approval:${outcome.approvalId && STREAM_ID.test(outcome.approvalId) ? outcome.approvalId : 'invalid'}`;
  const subject = outcome.executionArn ? { execution_id: outcome.executionArn } : {};
  if (outcome.ok) {
    return signatureDraft(
      {
        approvalId: outcome.approvalId,
        executionArn: outcome.executionArn,
        summary: { candidateId: outcome.candidateId, agentId: outcome.agentId },
        chain: { length: outcome.chainLength },
      },
      {
        step: outcome.step,
        role: outcome.role,
        decision: outcome.status,
        by: outcome.by,
        atIso: outcome.atIso,
        channel: outcome.channel,
        note: outcome.note,
      },
      outcome.chainComplete,
    );
  }
  const actor =
    outcome.approver && approverIdSchema.safeParse(outcome.approver).success
      ? outcome.approver
      : outcome.channel === 'slack'
        ? 'stagegate/slack-interactivity'
        : 'stagegate/approval-page';
  return {
    kind: 'input_rejected',
    actor,
    stream,
    subject,
    payload: {
      source: outcome.channel === 'slack' ? 'slack-interactivity' : 'approval-page',
      field: outcome.field,
      message: outcome.error.message,
      reason: outcome.kind,
      error: outcome.error.name,
      approval_id: outcome.approvalId,
      channel: outcome.channel,
    },
  };
}

/**
 * The `approval_decided` draft of one signature (see {@link recordAttempt}), from the request
 * and the signature as stored: what a fresh attempt records, and what a redelivery or the
 * Conclude sweep appends for a stored signature whose record is missing.
 */
export function signatureDraft(
  view: {
    readonly approvalId: string;
    readonly executionArn: string;
    readonly summary: { readonly candidateId: string; readonly agentId: string };
    readonly chain: { readonly length: number };
  },
  signature: Omit<ApprovalSignature, 'role' | 'auditKey'> & { readonly role: string },
  chainComplete: boolean,
): ApprovalAuditDraft {
  const name = executionName(view.executionArn);
  return {
    kind: 'approval_decided',
    actor: signature.by,
    stream: name ? `execution:${name}` : `approval:${view.approvalId}`,
    subject: {
      execution_id: view.executionArn,
      genome_id: view.summary.candidateId,
      agent_id: view.summary.agentId,
    },
    payload: {
      decision: signature.decision,
      reason: signature.note,
      note: signature.note,
      approval_id: view.approvalId,
      channel: signature.channel,
      decided_at: signature.atIso,
      chain_step: signature.step,
      chain_steps: view.chain.length,
      role: signature.role,
      chain_complete: chainComplete,
    },
  };
}
