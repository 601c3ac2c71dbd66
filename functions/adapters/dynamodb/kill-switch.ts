import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { KillSwitchChangedError } from '../../core/errors.js';
import {
  isSameKillSwitchWrite,
  type KillSwitchCondition,
  type KillSwitchPort,
  type KillSwitchState,
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
 * The stored item as DynamoDB returns it on a failed condition (`ReturnValuesOnConditionCheckFailure:
 * 'ALL_OLD'` gives the item in its wire form: the document client does not unmarshall an error).
 */
const WireStateSchema = z
  .object({
    engaged: z.object({ BOOL: z.boolean() }),
    reason: z.object({ S: z.string() }),
    changedBy: z.object({ S: z.string() }),
    changedAtIso: z.object({ S: z.string() }),
    lastEngagedAtIso: z.object({ S: z.string() }).optional(),
  })
  .transform((item) => ({
    engaged: item.engaged.BOOL,
    reason: item.reason.S,
    changedBy: item.changedBy.S,
    changedAtIso: item.changedAtIso.S,
    ...(item.lastEngagedAtIso ? { lastEngagedAtIso: item.lastEngagedAtIso.S } : {}),
  }))
  .pipe(StateSchema);

/**
 * The kill switch flag as one item (`CONFIG / KILL_SWITCH`) of the single table. Reads are
 * strongly consistent; a malformed item is an error (callers fail closed on any error). A
 * release's put is conditional on the item it read (no new IAM action: a conditional PutItem
 * is PutItem, and the item that failed the condition comes back in the same call).
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
   * A failed condition whose stored item IS `state` is the success it is: the put landed but
   * its response was lost, and the SDK's retry then failed its own condition.
   *
   * @throws KillSwitchChangedError when the condition fails and the stored item is not `state`
   *   (the item that failed it, returned atomically by `ReturnValuesOnConditionCheckFailure`,
   *   names who changed it); `TransientError` when DynamoDB keeps failing.
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
        const found = await this.foundOn(err);
        if (found !== 'unreadable' && isSameKillSwitchWrite(found, valid)) return;
        throw new KillSwitchChangedError(condition.expected, found);
      }
      rethrowAws(err, 'set kill switch');
    }
  }

  /**
   * The stored item that failed a condition: the one DynamoDB returned with the failure, else
   * (a backend that returns none, or no item stored) a strongly consistent read back; a read
   * that fails, or an item that does not parse, is `'unreadable'`.
   */
  private async foundOn(err: unknown): Promise<KillSwitchState | null | 'unreadable'> {
    const item = (err as { Item?: unknown }).Item;
    if (item === undefined) return this.read().catch(() => 'unreadable' as const);
    const parsed = WireStateSchema.safeParse(item);
    return parsed.success ? parsed.data : 'unreadable';
  }
}

/** The put's condition: the stored item is still `expected` (absent when null). */
function conditionOf(expected: KillSwitchState | null) {
  const returnOld = { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const };
  if (!expected) return { ConditionExpression: 'attribute_not_exists(pk)', ...returnOld };
  return {
    ...returnOld,
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
