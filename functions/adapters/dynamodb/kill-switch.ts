import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { KillSwitchChangedError } from '../../core/errors.js';
import type {
  KillSwitchCondition,
  KillSwitchPort,
  KillSwitchState,
} from '../../ports/kill-switch.js';
import { rethrowAws } from '../aws-errors.js';
import { isConditionFailure } from './condition-failure.js';

const KEY = { pk: 'CONFIG', sk: 'KILL_SWITCH' } as const;
const StateSchema = z.object({
  engaged: z.boolean(),
  reason: z.string(),
  changedBy: z.string(),
  changedAtIso: z.string(),
  // Optional: items stored before it parse; an engaged one's changedAtIso is its engage time.
  lastEngagedAtIso: z.iso.datetime().optional(),
});

/**
 * The kill switch flag as one item (`CONFIG / KILL_SWITCH`) of the single table. Reads are
 * strongly consistent; a malformed item is an error (callers fail closed on any error). A
 * release's put is conditional on the item it read (no new IAM action: a conditional PutItem
 * is PutItem, and naming who changed it is a GetItem).
 */
export class DynamoKillSwitch implements KillSwitchPort {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(): Promise<KillSwitchState | null> {
    try {
      const out = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: KEY, ConsistentRead: true }),
      );
      return out.Item ? StateSchema.parse(out.Item) : null;
    } catch (err) {
      rethrowAws(err, 'read kill switch');
    }
  }

  /**
   * PutItem of the item; with `condition`, a `ConditionExpression` on the item as read (its
   * `engaged`, `reason`, `changedBy` and `changedAtIso`, or `attribute_not_exists(pk)` for
   * `expected: null`), checked by DynamoDB atomically with the put.
   *
   * @throws KillSwitchChangedError when the condition fails (the item is read back, strongly
   *   consistent, to name who changed it); `TransientError` when DynamoDB keeps failing.
   */
  async set(state: KillSwitchState, condition?: KillSwitchCondition): Promise<void> {
    const valid = StateSchema.parse(state);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...KEY, ...valid },
          ...(condition ? conditionOf(condition.expected) : {}),
        }),
      );
    } catch (err) {
      if (condition && isConditionFailure(err)) {
        const found = await this.read().catch(() => 'unreadable' as const);
        throw new KillSwitchChangedError(condition.expected, found);
      }
      rethrowAws(err, 'set kill switch');
    }
  }
}

/** The put's condition: the stored item is still `expected` (absent when null). */
function conditionOf(expected: KillSwitchState | null) {
  if (!expected) return { ConditionExpression: 'attribute_not_exists(pk)' };
  return {
    ConditionExpression: '#engaged = :engaged AND #reason = :reason AND #by = :by AND #at = :at',
    ExpressionAttributeNames: {
      '#engaged': 'engaged',
      '#reason': 'reason',
      '#by': 'changedBy',
      '#at': 'changedAtIso',
    },
    ExpressionAttributeValues: {
      ':engaged': expected.engaged,
      ':reason': expected.reason,
      ':by': expected.changedBy,
      ':at': expected.changedAtIso,
    },
  };
}
