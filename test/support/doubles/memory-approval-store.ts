/**
 * In-memory {@link ApprovalStore} with the same contract as the DynamoDB adapter (encrypted
 * token, decide-once, the same refusal order): for unit tests of the use cases and quick local
 * experiments. Claims are atomic because nothing awaits between the check and the write.
 */
import {
  defaultChain,
  nextSignature,
  signatureRefusal,
} from '../../../functions/core/approval/chain.js';
import { withTaskToken } from '../../../functions/core/approval/claim.js';
import type { TaskTokenCipher } from '../../../functions/core/approval/token-cipher.js';
import {
  type ApprovalChannel,
  type ApprovalStatus,
  type NewApprovalRequest,
  newApprovalRequestSchema,
} from '../../../functions/core/approval/types.js';
import {
  ApprovalAlreadyDecidedError,
  ApprovalNotFoundError,
  ValidationError,
} from '../../../functions/core/errors.js';
import type {
  ApprovalStore,
  ApprovalView,
  ClaimedDecision,
  CreatedApprovalRequest,
  DecisionClaim,
  ResumeMark,
} from '../../../functions/ports/approval-store.js';

interface Entry {
  view: ApprovalView;
  /** The stored form of the token: ciphertext only, like the DynamoDB item. */
  taskTokenCiphertext: string;
  /** When the attempt whose token is stored made the request, epoch ms. */
  taskTokenAtMs: number;
}

export class MemoryApprovalStore implements ApprovalStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly cipher: TaskTokenCipher) {}

  async create(request: NewApprovalRequest): Promise<CreatedApprovalRequest> {
    const parsed = newApprovalRequestSchema.safeParse(request);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ValidationError(
        issue?.path.map(String).join('.') || 'approvalRequest',
        issue?.message ?? 'invalid approval request',
      );
    }
    const r = parsed.data;
    const existing = this.entries.get(r.approvalId);
    if (existing) {
      if (existing.view.status !== 'pending') {
        throw new ApprovalAlreadyDecidedError(
          r.approvalId,
          existing.view.status,
          existing.view.decidedBy,
        );
      }
      if (existing.view.executionArn !== r.executionArn) {
        throw new ValidationError('approvalId', `${r.approvalId} is used by another execution`);
      }
      const stored = {
        createdAtIso: existing.view.createdAtIso,
        expiresAtIso: existing.view.expiresAtIso,
      };
      const atMs = Date.parse(r.createdAtIso);
      if (existing.taskTokenAtMs > atMs) return { outcome: 'superseded', ...stored };
      existing.taskTokenCiphertext = this.cipher.encrypt(r.taskToken, r.approvalId);
      existing.taskTokenAtMs = atMs;
      return { outcome: 'token_replaced', ...stored };
    }
    const expiresAtMs = Date.parse(r.expiresAtIso);
    this.entries.set(r.approvalId, {
      view: {
        approvalId: r.approvalId,
        executionArn: r.executionArn,
        summary: r.summary,
        equityCurve: r.equityCurve,
        approvers: r.approvers,
        chain: r.chain ?? defaultChain(r.approvers),
        signatures: [],
        status: 'pending',
        createdAtIso: r.createdAtIso,
        expiresAtIso: r.expiresAtIso,
        exp: Math.floor(expiresAtMs / 1000),
        decidedBy: null,
        decidedAtIso: null,
        decidedChannel: null,
        resume: null,
      },
      taskTokenCiphertext: this.cipher.encrypt(r.taskToken, r.approvalId),
      taskTokenAtMs: Date.parse(r.createdAtIso),
    });
    return { outcome: 'created', createdAtIso: r.createdAtIso, expiresAtIso: r.expiresAtIso };
  }

  async getForDisplay(approvalId: string): Promise<ApprovalView> {
    const entry = this.entries.get(approvalId);
    if (!entry) throw new ApprovalNotFoundError(approvalId);
    return structuredClone(entry.view);
  }

  async claimDecision(approvalId: string, claim: DecisionClaim): Promise<ClaimedDecision> {
    const entry = this.entries.get(approvalId);
    if (!entry) throw new ApprovalNotFoundError(approvalId);
    const atMs = Date.parse(claim.atIso);
    if (!Number.isFinite(atMs))
      throw new ValidationError('atIso', `not an instant: ${claim.atIso}`);
    const refusal = signatureRefusal(entry.view, {
      by: claim.by,
      decision: claim.decision,
      roles: claim.roles ?? null,
      atMs,
    });
    if (refusal) throw refusal;
    const { signature, complete } = nextSignature(entry.view, {
      ...claim,
      note: claim.note ?? null,
    });
    const taskToken = complete ? this.cipher.decrypt(entry.taskTokenCiphertext, approvalId) : null;
    entry.view = {
      ...entry.view,
      signatures: [...entry.view.signatures, signature],
      ...(complete
        ? {
            status: claim.decision satisfies ApprovalStatus,
            decidedBy: claim.by,
            decidedAtIso: claim.atIso,
            decidedChannel: claim.channel satisfies ApprovalChannel,
          }
        : {}),
    };
    return withTaskToken(
      {
        approvalId,
        decision: claim.decision,
        by: claim.by,
        atIso: claim.atIso,
        channel: claim.channel,
        executionArn: entry.view.executionArn,
        signature,
        chainLength: entry.view.chain.length,
        chainComplete: complete,
      },
      taskToken,
    );
  }

  async decidedTaskToken(approvalId: string, by: string): Promise<string | null> {
    const entry = this.entries.get(approvalId);
    if (!entry) throw new ApprovalNotFoundError(approvalId);
    if (entry.view.status === 'pending' || entry.view.decidedBy !== by) return null;
    return this.cipher.decrypt(entry.taskTokenCiphertext, approvalId);
  }

  async markResume(approvalId: string, mark: ResumeMark): Promise<void> {
    const entry = this.entries.get(approvalId);
    if (!entry) throw new ApprovalNotFoundError(approvalId);
    if (mark.outcome === 'gone' && entry.view.resume?.outcome === 'resumed') return;
    entry.view = { ...entry.view, resume: { ...mark } };
  }

  /** The stored ciphertext of a request's token (tests assert it is not the plain token). */
  storedCiphertext(approvalId: string): string | undefined {
    return this.entries.get(approvalId)?.taskTokenCiphertext;
  }
}
