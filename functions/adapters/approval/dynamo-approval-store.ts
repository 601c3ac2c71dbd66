/**
 * {@link ApprovalStore} on the stagegate single table (DynamoDB).
 *
 * Item: `pk=APPROVAL#<approvalId>`, `sk=META`, with the display fields (summary, equity curve,
 * approver allow-list, status, times), the task token ENCRYPTED (`taskTokenCiphertext`,
 * AES-256-GCM, see functions/core/approval/token-cipher.ts; the table is additionally
 * KMS-encrypted at rest in AWS), `expiresAtMs` (the decision deadline, epoch ms) and the
 * table's TTL attribute `expiresAt` (epoch seconds) set to the deadline PLUS a retention
 * period (default 30 days), so a late click still finds the request and is told "expired" or
 * "already decided" instead of "not found"; TTL purges it afterwards.
 *
 * Signatures: the item holds the request's `chain` (its steps) and `signatures` (a list).
 * `claimDecision` reads the item (strongly consistent), refuses early with the named error
 * (`signatureRefusal`, functions/core/approval/chain.ts), then appends the signature with ONE
 * conditional update (`status = pending AND expiresAtMs > now AND contains(approvers, by) AND
 * size(signatures) = the count it read`); the claim that completes the chain also sets the
 * status and requires the ciphertext it decrypted to be still current. Of any number of
 * concurrent claims for one step exactly one passes the condition; the others re-read and get
 * the named error (or sign the next step when they may). The token is decrypted only for the
 * completing claim.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  type GetCommandOutput,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import {
  type ApprovalSignature,
  approvalSignatureSchema,
  approvalStepSchema,
  defaultChain,
  nextSignature,
  signatureRefusal,
} from '../../core/approval/chain.js';
import { withTaskToken } from '../../core/approval/claim.js';
import type { TaskTokenCipher } from '../../core/approval/token-cipher.js';
import {
  APPROVAL_DECISIONS,
  approvalSummarySchema,
  equityCurveSchema,
  type NewApprovalRequest,
  newApprovalRequestSchema,
} from '../../core/approval/types.js';
import {
  ApprovalAlreadyDecidedError,
  ApprovalNotFoundError,
  parseOrThrow,
  TransientError,
  ValidationError,
} from '../../core/errors.js';
import type {
  ApprovalStore,
  ApprovalView,
  ClaimedDecision,
  CreatedApprovalRequest,
  DecisionClaim,
  ResumeMark,
} from '../../ports/approval-store.js';
import { rethrowAws } from '../aws-errors.js';
import { isConditionFailure } from '../dynamodb/condition-failure.js';

const META = 'META';
/** Partition of every approval request in `gsi1`, sorted by creation time. */
export const APPROVALS_GSI_PK = 'APPROVALS';
const approvalPk = (id: string) => `APPROVAL#${id}`;
/** Default time an approval item outlives its deadline before TTL purges it: 30 days, s. */
export const DEFAULT_APPROVAL_RETENTION_SECONDS = 30 * 24 * 3600;
/** Claims re-tried when the token was replaced (a retried request step) between read and write. */
const MAX_CLAIM_ATTEMPTS = 3;

/** Display attributes (everything but the ciphertext); names aliased to dodge reserved words. */
const DISPLAY_ATTRIBUTES = [
  'approvalId',
  'executionArn',
  'summary',
  'equityCurve',
  'approvers',
  'chain',
  'signatures',
  'status',
  'createdAtIso',
  'expiresAtIso',
  'expiresAtMs',
  'decidedBy',
  'decidedAtIso',
  'decidedChannel',
  'resume',
] as const;

const storedSchema = z.object({
  approvalId: z.string(),
  executionArn: z.string(),
  summary: approvalSummarySchema,
  equityCurve: equityCurveSchema,
  approvers: z.array(z.string()),
  /** Absent on requests stored before the chain: one `risk` step over `approvers`. */
  chain: z.array(approvalStepSchema).optional(),
  signatures: z.array(approvalSignatureSchema).optional(),
  status: z.enum(['pending', ...APPROVAL_DECISIONS]),
  createdAtIso: z.string(),
  expiresAtIso: z.string(),
  expiresAtMs: z.number(),
  decidedBy: z.string().nullish(),
  decidedAtIso: z.string().nullish(),
  decidedChannel: z.enum(['web', 'slack', 'cli']).nullish(),
  taskTokenCiphertext: z.string().optional(),
  resume: z.object({ outcome: z.enum(['resumed', 'gone']), atIso: z.string() }).nullish(),
});
type Stored = z.infer<typeof storedSchema>;

/**
 * The display view of a stored approval item (the console lists them through `gsi1`); the
 * task-token ciphertext is never part of it.
 * @throws ValidationError when the item is not an approval.
 */
export function approvalViewOfItem(item: Record<string, unknown>): ApprovalView {
  const parsed = storedSchema.safeParse(item);
  if (!parsed.success) throw new ValidationError('approval', 'stored item is not an approval');
  return toView(parsed.data);
}

function toView(item: Stored): ApprovalView {
  return {
    approvalId: item.approvalId,
    executionArn: item.executionArn,
    summary: item.summary,
    equityCurve: item.equityCurve,
    approvers: item.approvers,
    chain: item.chain ?? defaultChain(item.approvers),
    signatures: item.signatures ?? [],
    status: item.status,
    createdAtIso: item.createdAtIso,
    expiresAtIso: item.expiresAtIso,
    exp: Math.floor(item.expiresAtMs / 1000),
    decidedBy: item.decidedBy ?? null,
    decidedAtIso: item.decidedAtIso ?? null,
    decidedChannel: item.decidedChannel ?? null,
    resume: item.resume ?? null,
  };
}

/** Parses a create request, turning the first zod issue into a ValidationError. */
function parseRequest(request: NewApprovalRequest) {
  return parseOrThrow(newApprovalRequestSchema, request, '', 'approvalRequest');
}

/** Options of {@link DynamoApprovalStore}. */
export interface DynamoApprovalStoreOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Encrypts the task token (createTaskTokenCipher(approvalKey)). */
  readonly cipher: TaskTokenCipher;
  /**
   * How long an item outlives its deadline before TTL purges it, seconds.
   * @default DEFAULT_APPROVAL_RETENTION_SECONDS (30 days)
   */
  readonly retentionSeconds?: number;
}

export class DynamoApprovalStore implements ApprovalStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly cipher: TaskTokenCipher;
  private readonly retentionSeconds: number;

  constructor(options: DynamoApprovalStoreOptions) {
    this.doc = options.doc;
    this.tableName = options.tableName;
    this.cipher = options.cipher;
    this.retentionSeconds = options.retentionSeconds ?? DEFAULT_APPROVAL_RETENTION_SECONDS;
  }

  async create(request: NewApprovalRequest): Promise<CreatedApprovalRequest> {
    const r = parseRequest(request);
    const expiresAtMs = Date.parse(r.expiresAtIso);
    const ciphertext = this.cipher.encrypt(r.taskToken, r.approvalId);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: approvalPk(r.approvalId),
            sk: META,
            entity: 'approval',
            // Listed newest first by the operator console (gsi1 `APPROVALS`).
            gsi1pk: APPROVALS_GSI_PK,
            gsi1sk: `${r.createdAtIso}#${r.approvalId}`,
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
            expiresAtMs,
            expiresAt: Math.floor(expiresAtMs / 1000) + this.retentionSeconds,
            taskTokenCiphertext: ciphertext,
            taskTokenAtMs: Date.parse(r.createdAtIso),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { outcome: 'created', createdAtIso: r.createdAtIso, expiresAtIso: r.expiresAtIso };
    } catch (err) {
      if (!isConditionFailure(err)) rethrowAws(err, `create approval ${r.approvalId}`);
    }
    return this.replaceToken(r, ciphertext);
  }

  /**
   * A retried request step: swaps in its task token iff the request is still pending, of the
   * same execution, and holds no later attempt's token (`taskTokenAtMs`); nothing else changes.
   */
  private async replaceToken(
    r: ReturnType<typeof parseRequest>,
    ciphertext: string,
  ): Promise<CreatedApprovalRequest> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: approvalPk(r.approvalId), sk: META },
          UpdateExpression: 'SET taskTokenCiphertext = :ct, taskTokenAtMs = :at',
          ConditionExpression:
            'executionArn = :arn AND #status = :pending AND (attribute_not_exists(taskTokenAtMs) OR taskTokenAtMs <= :at)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':ct': ciphertext,
            ':at': Date.parse(r.createdAtIso),
            ':arn': r.executionArn,
            ':pending': 'pending',
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const item = storedSchema.parse(out.Attributes);
      return {
        outcome: 'token_replaced',
        createdAtIso: item.createdAtIso,
        expiresAtIso: item.expiresAtIso,
      };
    } catch (err) {
      if (!isConditionFailure(err)) rethrowAws(err, `refresh approval ${r.approvalId}`);
    }
    const existing = await this.read(r.approvalId, true);
    if (!existing) throw new TransientError(`approval ${r.approvalId}: changed while refreshed`);
    if (existing.status !== 'pending') {
      throw new ApprovalAlreadyDecidedError(
        r.approvalId,
        existing.status,
        existing.decidedBy ?? null,
      );
    }
    if (existing.executionArn !== r.executionArn) {
      throw new ValidationError('approvalId', `${r.approvalId} is used by another execution`);
    }
    return {
      outcome: 'superseded',
      createdAtIso: existing.createdAtIso,
      expiresAtIso: existing.expiresAtIso,
    };
  }

  async getForDisplay(approvalId: string): Promise<ApprovalView> {
    const item = await this.read(approvalId, false);
    if (!item) throw new ApprovalNotFoundError(approvalId);
    return toView(item);
  }

  async claimDecision(approvalId: string, claim: DecisionClaim): Promise<ClaimedDecision> {
    const atMs = Date.parse(claim.atIso);
    if (!Number.isFinite(atMs))
      throw new ValidationError('atIso', `not an instant: ${claim.atIso}`);
    for (let attempt = 1; ; attempt++) {
      const item = await this.read(approvalId, true, true);
      if (!item) throw new ApprovalNotFoundError(approvalId);
      const view = toView(item);
      const refusal = signatureRefusal(view, {
        by: claim.by,
        decision: claim.decision,
        roles: claim.roles ?? null,
        atMs,
      });
      if (refusal) throw refusal;
      const { signature, complete } = nextSignature(view, { ...claim, note: claim.note ?? null });
      const ciphertext = item.taskTokenCiphertext ?? '';
      const taskToken = complete ? this.cipher.decrypt(ciphertext, approvalId) : null;
      try {
        await this.doc.send(
          this.signatureUpdate(approvalId, view.signatures.length, signature, {
            complete,
            atMs,
            ciphertext,
          }),
        );
      } catch (err) {
        if (!isConditionFailure(err)) rethrowAws(err, `decide approval ${approvalId}`);
        if (attempt >= MAX_CLAIM_ATTEMPTS) {
          throw new TransientError(`approval ${approvalId}: claim kept losing to other writes`);
        }
        continue; // re-read: another claim won (named error next round) or the token changed
      }
      return withTaskToken(
        {
          approvalId,
          decision: claim.decision,
          by: claim.by,
          atIso: claim.atIso,
          channel: claim.channel,
          executionArn: item.executionArn,
          signature,
          chainLength: view.chain.length,
          chainComplete: complete,
        },
        taskToken,
      );
    }
  }

  async decidedTaskToken(approvalId: string, by: string): Promise<string | null> {
    const item = await this.read(approvalId, true, true);
    if (!item) throw new ApprovalNotFoundError(approvalId);
    if (item.status === 'pending' || item.decidedBy !== by) return null;
    return this.cipher.decrypt(item.taskTokenCiphertext ?? '', approvalId);
  }

  /** Sets `resume`; a `gone` mark only where no `resumed` one is (one conditional update). */
  async markResume(approvalId: string, mark: ResumeMark): Promise<void> {
    const keep =
      mark.outcome === 'gone'
        ? ' AND (attribute_not_exists(#resume) OR #resume.#outcome <> :resumed)'
        : '';
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: approvalPk(approvalId), sk: META },
          UpdateExpression: 'SET #resume = :mark',
          ConditionExpression: `attribute_exists(pk)${keep}`,
          ExpressionAttributeNames: {
            '#resume': 'resume',
            ...(keep ? { '#outcome': 'outcome' } : {}),
          },
          ExpressionAttributeValues: {
            ':mark': { outcome: mark.outcome, atIso: mark.atIso },
            ...(keep ? { ':resumed': 'resumed' } : {}),
          },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) rethrowAws(err, `mark approval ${approvalId} resumed`);
      if (!(await this.read(approvalId, true))) throw new ApprovalNotFoundError(approvalId);
    }
  }

  /**
   * The conditional update appending `signature` after `count` signatures; when it completes
   * the chain it also records the decision, conditioned on the ciphertext read.
   */
  private signatureUpdate(
    approvalId: string,
    count: number,
    signature: ApprovalSignature,
    opts: { readonly complete: boolean; readonly atMs: number; readonly ciphertext: string },
  ): UpdateCommand {
    const countCondition =
      count === 0
        ? '(attribute_not_exists(signatures) OR size(signatures) = :n)'
        : 'size(signatures) = :n';
    const decided = opts.complete
      ? ', #status = :decision, decidedBy = :by, decidedAtIso = :at, decidedChannel = :channel'
      : '';
    return new UpdateCommand({
      TableName: this.tableName,
      Key: { pk: approvalPk(approvalId), sk: META },
      UpdateExpression: `SET signatures = list_append(if_not_exists(signatures, :none), :sig)${decided}`,
      ConditionExpression: `#status = :pending AND expiresAtMs > :atMs AND contains(approvers, :by) AND ${countCondition}${opts.complete ? ' AND taskTokenCiphertext = :ct' : ''}`,
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':sig': [signature],
        ':none': [],
        ':n': count,
        ':by': signature.by,
        ':pending': 'pending',
        ':atMs': opts.atMs,
        ...(opts.complete
          ? {
              ':decision': signature.decision,
              ':at': signature.atIso,
              ':channel': signature.channel,
              ':ct': opts.ciphertext,
            }
          : {}),
      },
    });
  }

  private async read(
    approvalId: string,
    consistent: boolean,
    withCiphertext = false,
  ): Promise<Stored | undefined> {
    const attributes = withCiphertext
      ? [...DISPLAY_ATTRIBUTES, 'taskTokenCiphertext']
      : DISPLAY_ATTRIBUTES;
    let out: GetCommandOutput;
    try {
      out = await this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: approvalPk(approvalId), sk: META },
          ConsistentRead: consistent,
          ProjectionExpression: attributes.map((_, i) => `#a${i}`).join(', '),
          ExpressionAttributeNames: Object.fromEntries(attributes.map((a, i) => [`#a${i}`, a])),
        }),
      );
    } catch (err) {
      rethrowAws(err, `get approval ${approvalId}`);
    }
    if (!out.Item) return undefined;
    return storedSchema.parse(out.Item);
  }
}
