import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { PlanRecord } from '../../core/chatops/plan.js';
import {
  NotFoundError,
  PlanConflictError,
  PlanRecordCorruptError,
  ValidationError,
} from '../../core/errors.js';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import type { PlanStore, StoredPlan } from '../../ports/plan-store.js';
import { rethrowAws } from '../aws-errors.js';
import { isConditionFailure } from './condition-failure.js';

/** `PLAN / CURRENT`: the one current plan. */
const KEY = { pk: 'PLAN', sk: 'CURRENT' } as const;
const ITEM = 'PLAN / CURRENT';

/**
 * Where the plan lived before it moved to the table (the artifacts bucket, one unconditional
 * JSON object): read once, when the item is missing, and stored as version 1.
 */
export const LEGACY_PLAN_KEY = 'plans/current.json';

const ItemSchema = z.object({
  version: z.number().int().min(1),
  /** The plan as JSON text (a plan is a few KB: 60 sessions at most, 200 of evidence). */
  doc: z.string().min(2),
});

/** What every stored plan has; the rest is the record as the plan use cases wrote it. */
const PlanShape = z.looseObject({
  planId: z.string().min(1),
  status: z.enum(['active', 'completed', 'breached', 'canceled']),
  days: z.array(z.unknown()),
  reports: z.array(z.unknown()),
});

/**
 * `raw` as a plan, or {@link PlanRecordCorruptError} naming `item` and the first bad field.
 */
function planOf(raw: unknown, item: string): PlanRecord {
  const parsed = PlanShape.safeParse(raw);
  if (parsed.success) return raw as PlanRecord;
  const issue = parsed.error.issues[0];
  const field = ['doc', ...(issue?.path ?? [])].join('.');
  throw new PlanRecordCorruptError(item, `${field}: ${issue?.message ?? 'invalid'}`);
}

/**
 * {@link PlanStore} on the stagegate single table: one item, `PLAN / CURRENT`, holding the
 * plan as JSON text and its `version`. A write is a put with `attribute_not_exists(pk)` (the
 * first plan) or `version = :expected`: DynamoDB evaluates the condition and writes in one
 * step, so of two writes decided on one version exactly one is stored. The same table and
 * condition in AWS and in DynamoDB Local (the local S3 emulator ignores `If-Match` and
 * `If-None-Match`, so a conditional S3 write would not be atomic locally). Reads are strongly
 * consistent.
 *
 * Migration: with `legacy` (the artifacts bucket), a read that finds no item reads the plan a
 * stage stored before the move ({@link LEGACY_PLAN_KEY}) and stores it as version 1 under the
 * same `attribute_not_exists(pk)` condition as a first create, so a race with a create is
 * decided by the table (the loser reads the winner's item). An unreadable old object is
 * refused ({@link PlanRecordCorruptError}), never dropped.
 */
export class DynamoPlanStore implements PlanStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly legacy?: ArtifactStore,
  ) {}

  async read(): Promise<StoredPlan | null> {
    return (await this.readItem()) ?? (await this.migrate());
  }

  /** The item as a plan, or null when there is none. */
  private async readItem(): Promise<StoredPlan | null> {
    let item: Record<string, unknown> | undefined;
    try {
      const out = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: KEY, ConsistentRead: true }),
      );
      item = out.Item;
    } catch (err) {
      rethrowAws(err, 'read plan');
    }
    if (!item) return null;
    const parsed = ItemSchema.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new PlanRecordCorruptError(ITEM, `${issue?.path.join('.')}: ${issue?.message}`);
    }
    let plan: unknown;
    try {
      plan = JSON.parse(parsed.data.doc);
    } catch {
      throw new PlanRecordCorruptError(ITEM, 'doc is not JSON');
    }
    return { plan: planOf(plan, ITEM), version: parsed.data.version };
  }

  /**
   * The pre-migration plan stored as version 1 (or the item a concurrent write stored first);
   * null when there is no old object either.
   * @throws PlanRecordCorruptError when the old object is unreadable.
   */
  private async migrate(): Promise<StoredPlan | null> {
    if (!this.legacy) return null;
    const where = `s3 ${LEGACY_PLAN_KEY}`;
    let raw: unknown;
    try {
      raw = await this.legacy.getJson(LEGACY_PLAN_KEY);
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      if (err instanceof ValidationError) throw new PlanRecordCorruptError(where, err.message);
      throw err;
    }
    const plan = planOf(raw, where);
    try {
      return { plan, version: await this.write(plan, null) };
    } catch (err) {
      if (!(err instanceof PlanConflictError)) throw err;
      return await this.readItem();
    }
  }

  async write(plan: PlanRecord, expectedVersion: number | null): Promise<number> {
    const version = (expectedVersion ?? 0) + 1;
    const first = expectedVersion === null;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...KEY,
            version,
            planId: plan.planId,
            status: plan.status,
            doc: JSON.stringify(plan),
          },
          ConditionExpression: first ? 'attribute_not_exists(pk)' : '#version = :expected',
          ...(first
            ? {}
            : {
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':expected': expectedVersion },
              }),
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new PlanConflictError(expectedVersion);
      rethrowAws(err, 'store plan');
    }
    return version;
  }
}
