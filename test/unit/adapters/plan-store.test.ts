/**
 * The DynamoDB plan store's edges (the compare-and-set itself runs on DynamoDB Local in
 * test/integration/chatops/plan.test.ts): the condition it sends per expected version, a
 * failed condition as PlanConflictError, throttling as TransientError, and an unreadable
 * stored item refused by name (PlanRecordCorruptError) instead of handed to the plan use cases.
 */
import { describe, expect, it } from 'vitest';
import { DynamoPlanStore } from '../../../functions/adapters/dynamodb/plan-store.js';
import type { PlanRecord } from '../../../functions/core/chatops/plan.js';
import {
  PlanConflictError,
  PlanRecordCorruptError,
  TransientError,
} from '../../../functions/core/errors.js';
import { fakeDocumentClient } from '../../support/doubles/document-client.js';

type Sent = { constructor: { name: string }; input: Record<string, unknown> };
const PLAN = { planId: 'plan-1', status: 'active', days: [], reports: [] } as unknown as PlanRecord;

/** A store whose client answers `answer` and keeps what it was sent. */
function storeAnswering(answer: (cmd: Sent) => unknown) {
  const sent: Sent[] = [];
  const doc = fakeDocumentClient((async (cmd: Sent) => {
    sent.push(cmd);
    return answer(cmd);
  }) as never);
  return { store: new DynamoPlanStore(doc, 'stagegate-test'), sent };
}

const sdkError = (name: string, status: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe('DynamoPlanStore', () => {
  it('creates the first plan only where none is, and changes it only at the expected version', async () => {
    // Prepare
    const { store, sent } = storeAnswering(() => ({}));

    // Act
    const first = await store.write(PLAN, null);
    const next = await store.write(PLAN, 4);

    // Assess
    expect([first, next]).toEqual([1, 5]);
    expect(sent.map((c) => c.input.ConditionExpression)).toEqual([
      'attribute_not_exists(pk)',
      '#version = :expected',
    ]);
    expect(sent[1]?.input.ExpressionAttributeValues).toEqual({ ':expected': 4 });
    expect(sent[1]?.input.Item).toMatchObject({ pk: 'PLAN', sk: 'CURRENT', version: 5 });
  });

  it('answers a failed condition with PlanConflictError and throttling with TransientError', async () => {
    // Prepare
    const conflict = storeAnswering(() => {
      throw sdkError('ConditionalCheckFailedException', 400);
    });
    const throttled = storeAnswering(() => {
      throw sdkError('ProvisionedThroughputExceededException', 400);
    });

    // Act + Assess
    await expect(conflict.store.write(PLAN, 2)).rejects.toBeInstanceOf(PlanConflictError);
    await expect(throttled.store.write(PLAN, 2)).rejects.toBeInstanceOf(TransientError);
  });

  it('reads the plan and its version; refuses an unreadable item by name', async () => {
    // Prepare
    const good = storeAnswering(() => ({
      Item: { pk: 'PLAN', sk: 'CURRENT', version: 3, doc: JSON.stringify(PLAN) },
    }));
    const notJson = storeAnswering(() => ({ Item: { version: 3, doc: '{oops' } }));
    const notAPlan = storeAnswering(() => ({ Item: { version: 3, doc: '{"planId":""}' } }));
    const none = storeAnswering(() => ({}));

    // Act + Assess
    expect(await good.store.read()).toEqual({ plan: PLAN, version: 3 });
    expect(good.sent[0]?.input.ConsistentRead).toBe(true);
    await expect(notJson.store.read()).rejects.toThrow(PlanRecordCorruptError);
    await expect(notJson.store.read()).rejects.toThrow(
      'stored plan PLAN / CURRENT cannot be read: doc is not JSON',
    );
    await expect(notAPlan.store.read()).rejects.toThrow(
      /^stored plan PLAN \/ CURRENT cannot be read: doc\.planId/,
    );
    expect(await none.store.read()).toBeNull();
  });
});
