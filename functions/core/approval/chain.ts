/**
 * The multi-signature approval chain of a Day-3 request (issue 14, "roles and approval chain"):
 * an ordered list of steps, each a named role (`operator`, `risk`: the console roles of
 * functions/core/console/roles.ts) and the approver identities who may sign it. The request is
 * approved, and its task token released, only when every step has an `approved` signature of a
 * DISTINCT approver, in order; one `rejected` signature of any approver of the chain who has not
 * signed yet ends it as rejected; nobody deciding before the deadline is "not approved"
 * (timeout = no). Every signature (who, role, step, when, channel, note) is stored with the
 * request and recorded as its own `approval_decided` audit record.
 *
 * Without a configured chain a request has one step, role `risk`, signed by any approver of its
 * allow-list: the single-approver behaviour (and console rule) that predates the chain.
 */
import * as z from 'zod';
import {
  ApprovalAlreadyDecidedError,
  ApprovalDuplicateSignerError,
  ApprovalExpiredError,
  ApprovalForbiddenError,
  type StagegateError,
} from '../errors.js';

/** A signature's decision (the `ApprovalDecision` of types.ts, which builds on this module). */
type ApprovalDecision = 'approved' | 'rejected';
/** Through which door a signature came in (types.ts `ApprovalChannel`). */
type ApprovalChannel = 'web' | 'slack' | 'cli';

/**
 * An approver identity `scheme:id`, the same shape as an audit `actor` (e.g. `slack:U024BE7LH`,
 * `web:alice@example.com`, `cli:alice`). Compared exactly (case-sensitive) against the
 * allow-list. It must come from an authenticated source at the edge (the Slack request
 * signature, an API authorizer claim, the local CLI user), never from a form field.
 */
export const approverIdSchema = z
  .string()
  .max(200)
  .regex(/^[a-z][a-z0-9-]*:[A-Za-z0-9._@+-]+$/, 'must be `scheme:identity` (e.g. `slack:U123`)');

/** The roles a chain step can name (console roles that may sign; `viewer` never signs). */
export const APPROVAL_STEP_ROLES = ['operator', 'risk'] as const;
export type ApprovalStepRole = (typeof APPROVAL_STEP_ROLES)[number];

/** Most steps a chain may have. */
export const MAX_CHAIN_STEPS = 5;

/** One step: who may give the step's signature, in which role. */
export const approvalStepSchema = z.strictObject({
  role: z.enum(APPROVAL_STEP_ROLES),
  /** Approver identities (`scheme:id`) who may sign this step; at least one. */
  approvers: z.array(approverIdSchema).min(1).max(50),
});
export type ApprovalStep = z.infer<typeof approvalStepSchema>;

/**
 * Whether every step can be signed by a different person: a matching of steps to distinct
 * approvers exists (Hall's condition, checked by augmenting paths; at most 5 steps).
 */
export function chainIsSatisfiable(steps: readonly ApprovalStep[]): boolean {
  const owner = new Map<string, number>();
  const assign = (step: number, seen: Set<string>): boolean => {
    for (const who of steps[step]?.approvers ?? []) {
      if (seen.has(who)) continue;
      seen.add(who);
      const held = owner.get(who);
      if (held === undefined || assign(held, seen)) {
        owner.set(who, step);
        return true;
      }
    }
    return false;
  };
  return steps.every((_, i) => assign(i, new Set()));
}

/**
 * A configured chain: 1..{@link MAX_CHAIN_STEPS} steps that distinct approvers can sign
 * (a chain "operator then risk" listing the same single person in both steps is refused, since
 * it could never complete).
 */
export const approvalChainSchema = z
  .array(approvalStepSchema)
  .min(1)
  .max(MAX_CHAIN_STEPS)
  .refine(chainIsSatisfiable, {
    message: 'needs a distinct approver for every step (one approver signs once)',
  });

/** One recorded signature. */
export const approvalSignatureSchema = z.object({
  /** 1-based step the signature is for. */
  step: z.number().int().min(1).max(MAX_CHAIN_STEPS),
  role: z.enum(APPROVAL_STEP_ROLES),
  decision: z.enum(['approved', 'rejected']),
  /** Approver identity `scheme:id`. */
  by: z.string().min(1).max(200),
  /** UTC ISO-8601. */
  atIso: z.string(),
  channel: z.enum(['web', 'slack', 'cli']),
  /** The approver's note (free text, escape before rendering), null when none. */
  note: z.string().max(1000).nullable(),
  /**
   * The idempotency key (hex SHA-256) its `approval_decided` audit record is appended under
   * (core/approval/decide.ts `signatureAuditKey`): the first delivery, a redelivery of the same
   * attempt and the Conclude sweep all append it under this key, so it is recorded once.
   * Absent on signatures stored before the key (then `signatureAuditKey(id, by, null)`).
   */
  auditKey: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
export type ApprovalSignature = z.infer<typeof approvalSignatureSchema>;

/** The chain a request without a configured one has: one `risk` step over its allow-list. */
export function defaultChain(approvers: readonly string[]): ApprovalStep[] {
  return [{ role: 'risk', approvers: [...approvers] }];
}

/** What {@link signatureRefusal} looks at. */
export interface SignableRecord {
  readonly approvalId: string;
  readonly status: 'pending' | ApprovalDecision;
  /** The allow-list (every approver of every step is on it). */
  readonly approvers: readonly string[];
  readonly chain: readonly ApprovalStep[];
  readonly signatures: readonly ApprovalSignature[];
  /** UTC ISO-8601. */
  readonly expiresAtIso: string;
  readonly decidedBy: string | null;
}

/** The signature attempt. */
export interface SignatureAttempt {
  readonly by: string;
  readonly decision: ApprovalDecision;
  /**
   * The signer's console roles when the edge knows them (the console's authorizer), else null
   * (approval link, Slack: the step's approver list alone decides).
   */
  readonly roles: readonly string[] | null;
  /** Epoch ms UTC. */
  readonly atMs: number;
}

/** The step whose signature is due (0-based), or null when every step is signed. */
export function dueStep(chain: readonly ApprovalStep[], signatures: readonly unknown[]) {
  return signatures.length < chain.length ? signatures.length : null;
}

/**
 * Why `attempt` may not sign `record`, or null when it may. Refusal order: allow-list, already
 * decided, expired, already signed by this approver, then the step: an approval must come from
 * an approver of the due step (holding its role when roles are known); a rejection from any
 * approver of a step not yet signed (holding that step's role when roles are known).
 */
export function signatureRefusal(
  record: SignableRecord,
  attempt: SignatureAttempt,
): StagegateError | null {
  const { approvalId } = record;
  if (!record.approvers.includes(attempt.by)) {
    return new ApprovalForbiddenError(approvalId, attempt.by);
  }
  if (record.status !== 'pending') {
    return new ApprovalAlreadyDecidedError(approvalId, record.status, record.decidedBy);
  }
  if (!(attempt.atMs < Date.parse(record.expiresAtIso))) {
    return new ApprovalExpiredError(approvalId, record.expiresAtIso);
  }
  const mine = record.signatures.find((s) => s.by === attempt.by);
  if (mine) return new ApprovalDuplicateSignerError(approvalId, attempt.by, mine.atIso);
  const due = dueStep(record.chain, record.signatures);
  if (due === null) return new ApprovalAlreadyDecidedError(approvalId, 'approved', null);
  const may = (s: ApprovalStep | undefined) =>
    !!s &&
    s.approvers.includes(attempt.by) &&
    (attempt.roles === null || attempt.roles.includes(s.role));
  const step = record.chain[due];
  if (attempt.decision === 'approved' ? may(step) : record.chain.slice(due).some(may)) {
    return null;
  }
  const need = `${step?.role ?? '?'} signature ${due + 1} of ${record.chain.length} is due (${(step?.approvers ?? []).join(', ')})`;
  const lacksRole =
    attempt.roles !== null && step?.approvers.includes(attempt.by) === true
      ? `; the signer lacks the ${step.role} role`
      : '';
  return new ApprovalForbiddenError(approvalId, attempt.by, `${need}${lacksRole}`);
}

/**
 * The signature `attempt` adds (for the step that is due) and whether it completes the chain:
 * a rejection always does; an approval when it is the last step's.
 */
export function nextSignature(
  record: Pick<SignableRecord, 'chain' | 'signatures'>,
  attempt: {
    readonly by: string;
    readonly decision: ApprovalDecision;
    readonly atIso: string;
    readonly channel: ApprovalChannel;
    readonly note: string | null;
    /** The key of the signature's audit record ({@link ApprovalSignature.auditKey}). */
    readonly auditKey?: string;
  },
): { readonly signature: ApprovalSignature; readonly complete: boolean } {
  const due = dueStep(record.chain, record.signatures) ?? record.chain.length - 1;
  // An approval signs the due step; a rejection is given in the role of the first step not yet
  // signed that lists the signer (e.g. the risk officer rejecting before the operator signed).
  const step =
    attempt.decision === 'rejected'
      ? (record.chain.slice(due).find((s) => s.approvers.includes(attempt.by)) ??
        (record.chain[due] as ApprovalStep))
      : (record.chain[due] as ApprovalStep);
  const signature: ApprovalSignature = {
    step: due + 1,
    role: step.role,
    decision: attempt.decision,
    by: attempt.by,
    atIso: attempt.atIso,
    channel: attempt.channel,
    note: attempt.note,
    ...(attempt.auditKey ? { auditKey: attempt.auditKey } : {}),
  };
  const complete = attempt.decision === 'rejected' || due === record.chain.length - 1;
  return { signature, complete };
}
