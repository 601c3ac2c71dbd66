import { type DynamoDBDocumentClient, PutCommand, paginateQuery } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { parseOrThrow } from '../../core/errors.js';
import type { SessionBookRegistry, SessionBookSnapshot } from '../../ports/session-books.js';
import { rethrowAws } from '../aws-errors.js';
import { isConditionFailure } from './condition-failure.js';

/** `SESSION_BOOK#<account>#<date>` (account: `<broker>:<account id>`). */
const sessionBookPk = (account: string, date: string) => `SESSION_BOOK#${account}#${date}`;

const SnapshotSchema = z.object({
  promotionId: z.string().min(1),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  symbol: z.string().min(1),
  market: z.enum(['equity-usa', 'crypto']).optional(),
  qty: z.number().finite(),
  avgPriceUsd: z.number().finite(),
  openOrders: z.number().int().min(0),
  openOrderNotionalUsd: z.number().min(0),
  open: z.array(
    z.object({
      clientOrderId: z.string().min(1),
      side: z.enum(['buy', 'sell']),
      qty: z.number().positive(),
      filledQty: z.number().min(0),
    }),
  ),
  ticks: z.number().int().min(0),
  done: z.boolean(),
  updatedAtIso: z.string(),
});

/**
 * {@link SessionBookRegistry} on the stagegate single table: one item per session and day,
 * `SESSION_BOOK#<account>#<date> / <promotion id>`, overwritten only by a snapshot with at
 * least as many ticks (conditional put).
 */
export class DynamoSessionBooks implements SessionBookRegistry {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async save(account: string, snapshot: SessionBookSnapshot): Promise<void> {
    const valid = parseOrThrow(SnapshotSchema, snapshot, 'snapshot');
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: sessionBookPk(account, valid.date), sk: valid.promotionId, ...valid },
          ConditionExpression: 'attribute_not_exists(pk) OR ticks <= :t',
          ExpressionAttributeValues: { ':t': valid.ticks },
        }),
      );
    } catch (err) {
      // A later snapshot is stored already: this one is older, nothing to do.
      if (isConditionFailure(err)) return;
      rethrowAws(err, `save session book ${valid.promotionId}`);
    }
  }

  async list(account: string, date: string): Promise<readonly SessionBookSnapshot[]> {
    const out: SessionBookSnapshot[] = [];
    try {
      const pages = paginateQuery(
        { client: this.doc },
        {
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': sessionBookPk(account, date) },
          ConsistentRead: true,
        },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) {
          const { pk: _pk, sk: _sk, ...rest } = item;
          out.push(parseOrThrow(SnapshotSchema, rest, `${sessionBookPk(account, date)}/${_sk}`));
        }
      }
    } catch (err) {
      rethrowAws(err, `list session books ${account} ${date}`);
    }
    return out;
  }
}
