import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { KillSwitchPort, KillSwitchState } from '../../ports/kill-switch.js';
import { rethrowAws } from '../aws-errors.js';

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
 * strongly consistent; a malformed item is an error (callers fail closed on any error).
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

  async set(state: KillSwitchState): Promise<void> {
    const valid = StateSchema.parse(state);
    try {
      await this.doc.send(
        new PutCommand({ TableName: this.tableName, Item: { ...KEY, ...valid } }),
      );
    } catch (err) {
      rethrowAws(err, 'set kill switch');
    }
  }
}
