import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { PlanRecord } from '../../core/chatops/plan.js';
import { PlanConflictError, parseOrThrow, ValidationError } from '../../core/errors.js';
import type { PlanStore, StoredPlan } from '../../ports/plan-store.js';
import { rethrowAws } from '../aws-errors.js';
import { isConditionFailure } from './condition-failure.js';

/** `PLAN / CURRENT`: the one current plan. */
const KEY = { pk: 'PLAN', sk: 'CURRENT' } as const;

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
 * {@link PlanStore} on the stagegate single table: one item, `PLAN / CURRENT`, holding the
 * plan as JSON text and its `version`. A write is a put with `attribute_not_exists(pk)` (the
 * first plan) or `version = :expected`: DynamoDB evaluates the condition and writes in one
 * step, so of two writes decided on one version exactly one is stored. The same table and
 * condition in AWS and in DynamoDB Local (the local S3 emulator ignores `If-Match` and
 * `If-None-Match`, so a conditional S3 write would not be atomic locally). Reads are strongly
 * consistent.
 */
export class DynamoPlanStore implements PlanStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(): Promise<StoredPlan | null> {
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
    const { version, doc } = parseOrThrow(ItemSchema, item, 'plan store');
    let plan: unknown;
    try {
      plan = JSON.parse(doc);
    } catch {
      throw new ValidationError('plan store.doc', 'is not JSON');
    }
    parseOrThrow(PlanShape, plan, 'plan store.doc');
    return { plan: plan as PlanRecord, version };
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
