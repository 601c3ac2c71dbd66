import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { parseOrThrow, TransientError } from '../../core/errors.js';
import type { PostClaim, PostClaimStore } from '../../ports/post-claims.js';
import { rethrowAws } from '../aws-errors.js';
import { isConditionFailure } from './condition-failure.js';

/** `POST_CLAIM#<key> / CLAIM`. */
const keyOf = (key: string) => ({ pk: `POST_CLAIM#${key}`, sk: 'CLAIM' });

const ClaimSchema = z.discriminatedUnion('status', [
  z.object({ status: z.enum(['posting', 'failed']), atIso: z.string().min(1) }),
  z.object({
    status: z.literal('posted'),
    atIso: z.string().min(1),
    channel: z.string().min(1),
    ts: z.string().min(1),
  }),
]);

/**
 * {@link PostClaimStore} on the stagegate single table: one item per claim,
 * `POST_CLAIM#<key> / CLAIM`. `begin` is a put with
 * `attribute_not_exists(pk) OR #status = failed` (DynamoDB evaluates the condition and writes
 * in one step, so two runs at once cannot both win), then a strongly consistent read of the
 * claim that won. The same table and the same condition in AWS and in DynamoDB Local (the S3
 * emulator ignores `If-None-Match` on a PUT, so an S3 conditional create would not be atomic
 * locally).
 */
export class DynamoPostClaims implements PostClaimStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async begin(key: string, atIso: string) {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keyOf(key), status: 'posting', atIso },
          ConditionExpression: 'attribute_not_exists(pk) OR #status = :failed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':failed': 'failed' },
        }),
      );
      return { claimed: true } as const;
    } catch (err) {
      if (!isConditionFailure(err)) rethrowAws(err, `claim post ${key}`);
    }
    return { claimed: false, claim: await this.read(key) } as const;
  }

  async settle(key: string, claim: PostClaim): Promise<void> {
    const valid = parseOrThrow(ClaimSchema, claim, 'post claim');
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.tableName, Item: { ...keyOf(key), ...valid } }),
      );
    } catch (err) {
      rethrowAws(err, `settle post claim ${key}`);
    }
  }

  private async read(key: string): Promise<PostClaim> {
    let item: Record<string, unknown> | undefined;
    try {
      const out = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: keyOf(key), ConsistentRead: true }),
      );
      item = out.Item;
    } catch (err) {
      rethrowAws(err, `read post claim ${key}`);
    }
    // The condition failed on an item that is gone now: only a hand-deleted claim does this.
    if (!item) throw new TransientError(`post claim ${key} changed while it was claimed`);
    const { pk: _pk, sk: _sk, ...claim } = item;
    return parseOrThrow(ClaimSchema, claim, 'post claim');
  }
}
