/**
 * {@link MicroLiveRepository} on the stagegate single table.
 *
 * Items:
 * - `MICROLIVE#<sliceId> / META`: the slice; while the rollback monitor watches it (`active`,
 *   `flattening`) it is indexed in `gsi1` under `MICROLIVE#WATCHED` (a sparse index entry: the
 *   keys are removed when the slice ends), so the scheduled monitor queries, never scans.
 * - `MICROLIVE#<sliceId> / LEVERAGE#<key>`: one leverage decision, written once
 *   (`attribute_not_exists`), so a retried step cannot decide twice.
 * - `APPROVAL#<approvalId> / MESSAGE`: where the approval request was posted (channel, ts),
 *   beside the approval item itself (`/ META`, owned by the approval store).
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { NotFoundError } from '../../core/errors.js';
import {
  type LeverageDecisionRecord,
  type MicroLiveSlice,
  MicroLiveSliceSchema,
} from '../../core/use-cases/day3-records.js';
import type { MicroLiveRepository } from '../../ports/micro-live.js';
import type { PostedMessage } from '../../ports/notifier.js';
import { rethrowAws } from '../aws-errors.js';
import { isConditionFailure } from './condition-failure.js';

const slicePk = (id: string) => `MICROLIVE#${id}`;
const WATCHED = 'MICROLIVE#WATCHED';
const LeverageItemSchema = z.object({
  sliceId: z.string(),
  key: z.string(),
  previous: z.number().nullable(),
  next: z.number(),
  rule: z.string(),
  rationale: z.string(),
  decidedAtIso: z.string(),
  inputs: z.record(z.string(), z.union([z.number(), z.string(), z.null()])),
});

const MessageRefSchema = z.object({ channel: z.string(), ts: z.string() });

/** Index keys of a slice: present only while the monitor watches it. */
function indexKeys(slice: MicroLiveSlice): Record<string, string> {
  return slice.status === 'active' || slice.status === 'flattening'
    ? { gsi1pk: WATCHED, gsi1sk: `${slice.createdAtIso}#${slice.sliceId}` }
    : {};
}

export class DynamoMicroLiveRepository implements MicroLiveRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async createSlice(slice: MicroLiveSlice) {
    const valid = MicroLiveSliceSchema.parse(slice);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: slicePk(valid.sliceId), sk: 'META', ...indexKeys(valid), ...valid },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true, slice: valid };
    } catch (err) {
      if (isConditionFailure(err))
        return { created: false, slice: await this.getSlice(valid.sliceId) };
      rethrowAws(err, `create micro-live slice ${valid.sliceId}`);
    }
  }

  async getSlice(sliceId: string): Promise<MicroLiveSlice> {
    let item: Record<string, unknown> | undefined;
    try {
      const out = await this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: slicePk(sliceId), sk: 'META' },
          ConsistentRead: true,
        }),
      );
      item = out.Item;
    } catch (err) {
      rethrowAws(err, `get micro-live slice ${sliceId}`);
    }
    if (!item) throw new NotFoundError('micro-live slice', sliceId);
    return MicroLiveSliceSchema.parse(item);
  }

  async updateSlice(slice: MicroLiveSlice): Promise<boolean> {
    const valid = MicroLiveSliceSchema.parse(slice);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: slicePk(valid.sliceId), sk: 'META', ...indexKeys(valid), ...valid },
          ConditionExpression: 'attribute_exists(pk) AND #v = :prev',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: { ':prev': valid.version - 1 },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      rethrowAws(err, `update micro-live slice ${valid.sliceId}`);
    }
  }

  async listWatchedSlices(): Promise<readonly MicroLiveSlice[]> {
    const out: MicroLiveSlice[] = [];
    const pages = paginateQuery(
      { client: this.doc },
      {
        TableName: this.tableName,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk',
        ExpressionAttributeValues: { ':pk': WATCHED },
      },
    );
    try {
      for await (const page of pages) {
        for (const item of page.Items ?? []) out.push(MicroLiveSliceSchema.parse(item));
      }
    } catch (err) {
      rethrowAws(err, 'list watched micro-live slices');
    }
    return out;
  }

  async recordLeverageDecision(record: LeverageDecisionRecord) {
    const valid = LeverageItemSchema.parse(record) as LeverageDecisionRecord;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: slicePk(valid.sliceId), sk: `LEVERAGE#${valid.key}`, ...valid },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true, record: valid };
    } catch (err) {
      if (!isConditionFailure(err)) rethrowAws(err, `record leverage of ${valid.sliceId}`);
      const out = await this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: slicePk(valid.sliceId), sk: `LEVERAGE#${valid.key}` },
          ConsistentRead: true,
        }),
      );
      return {
        created: false,
        record: LeverageItemSchema.parse(out.Item) as LeverageDecisionRecord,
      };
    }
  }

  async listLeverageDecisions(sliceId: string): Promise<readonly LeverageDecisionRecord[]> {
    try {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
          ExpressionAttributeValues: { ':pk': slicePk(sliceId), ':p': 'LEVERAGE#' },
          ConsistentRead: true,
        }),
      );
      return (page.Items ?? [])
        .map((i) => LeverageItemSchema.parse(i) as LeverageDecisionRecord)
        .sort(
          (a, b) =>
            Number(b.key === 'initial') - Number(a.key === 'initial') ||
            a.decidedAtIso.localeCompare(b.decidedAtIso) ||
            a.key.localeCompare(b.key),
        );
    } catch (err) {
      rethrowAws(err, `list leverage of ${sliceId}`);
    }
  }

  async saveMessageRef(approvalId: string, ref: PostedMessage): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `APPROVAL#${approvalId}`, sk: 'MESSAGE', channel: ref.channel, ts: ref.ts },
        }),
      );
    } catch (err) {
      rethrowAws(err, `save message of approval ${approvalId}`);
    }
  }

  async getMessageRef(approvalId: string): Promise<PostedMessage | null> {
    try {
      const out = await this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: `APPROVAL#${approvalId}`, sk: 'MESSAGE' },
        }),
      );
      return out.Item ? MessageRefSchema.parse(out.Item) : null;
    } catch (err) {
      rethrowAws(err, `get message of approval ${approvalId}`);
    }
  }
}
