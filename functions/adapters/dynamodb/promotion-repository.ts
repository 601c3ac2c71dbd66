import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { NotFoundError, ValidationError } from '../../core/errors.js';
import { type AccountBook, emptyAccountBook } from '../../core/exchange/position-book.js';
import {
  type PromotionOrder,
  PromotionOrderSchema,
  type StagedPromotion,
  StagedPromotionSchema,
} from '../../core/use-cases/promotion-records.js';
import type {
  BookWrite,
  OrderTransition,
  PromotionRepository,
} from '../../ports/promotion-repository.js';
import { rethrowAws } from '../aws-errors.js';
import { isConditionFailure } from './condition-failure.js';

const promotionPk = (id: string) => `PROMOTION#${id}`;
const bookPk = (account: string) => `BROKER_BOOK#${account}`; // account: `<broker>:<account id>`
/**
 * {@link PromotionRepository} on the stagegate single table.
 *
 * Items: `PROMOTION#<id> / META` (the frozen candidate and its status, indexed in `gsi1`
 * under `PROMOTIONS`), `PROMOTION#<id> / ORDER#<client_order_id>` (each order's snapshot,
 * reserved with `attribute_not_exists` before it is sent), `BROKER_BOOK#<account> / BOOK`
 * (the position book, versioned for optimistic concurrency).
 */
export class DynamoPromotionRepository implements PromotionRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** The table's `gsi1` index (promotions by staging time). */
    private readonly indexName = 'gsi1',
  ) {}

  async stage(promotion: StagedPromotion) {
    const valid = StagedPromotionSchema.parse(promotion);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: promotionPk(valid.promotionId),
            sk: 'META',
            gsi1pk: 'PROMOTIONS',
            gsi1sk: `${valid.stagedAtIso}#${valid.promotionId}`,
            ...valid,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true, promotion: valid };
    } catch (err) {
      if (isConditionFailure(err))
        return { created: false, promotion: await this.get(valid.promotionId) };
      rethrowAws(err, `stage promotion ${valid.promotionId}`);
    }
  }

  async get(promotionId: string): Promise<StagedPromotion> {
    let item: Record<string, unknown> | undefined;
    try {
      const out = await this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: promotionPk(promotionId), sk: 'META' },
        }),
      );
      item = out.Item;
    } catch (err) {
      rethrowAws(err, `get promotion ${promotionId}`);
    }
    if (!item) throw new NotFoundError('promotion', promotionId);
    return StagedPromotionSchema.parse(item);
  }

  async setStatus(promotionId: string, status: StagedPromotion['status'], reason: string) {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: promotionPk(promotionId), sk: 'META' },
          UpdateExpression: 'SET #s = :s, statusReason = :r',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': status, ':r': reason },
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new NotFoundError('promotion', promotionId);
      rethrowAws(err, `set status of promotion ${promotionId}`);
    }
  }

  async reserveOrder(order: PromotionOrder) {
    const valid = PromotionOrderSchema.parse(order);
    const key = { pk: promotionPk(valid.promotionId), sk: `ORDER#${valid.order.clientOrderId}` };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key, ...valid },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true, order: valid };
    } catch (err) {
      if (!isConditionFailure(err)) rethrowAws(err, `reserve order ${valid.order.clientOrderId}`);
    }
    const existing = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return { created: false, order: PromotionOrderSchema.parse(existing.Item) };
  }

  async saveOrder(order: PromotionOrder) {
    const valid = PromotionOrderSchema.parse(order);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: promotionPk(valid.promotionId),
            sk: `ORDER#${valid.order.clientOrderId}`,
            ...valid,
          },
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new NotFoundError('order', valid.order.clientOrderId);
      rethrowAws(err, `save order ${valid.order.clientOrderId}`);
    }
  }

  async listInFlight(fromIso: string, toIso: string): Promise<readonly string[]> {
    const ids: string[] = [];
    try {
      const pages = paginateQuery(
        { client: this.doc },
        {
          TableName: this.tableName,
          IndexName: this.indexName,
          KeyConditionExpression: 'gsi1pk = :p AND gsi1sk BETWEEN :from AND :to',
          FilterExpression: '#s IN (:staged, :submitted)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: {
            ':p': 'PROMOTIONS',
            ':from': fromIso,
            // `#` sorts before every id character: the range ends before `toIso`.
            ':to': `${toIso}#`,
            ':staged': 'staged',
            ':submitted': 'submitted',
          },
          ProjectionExpression: 'promotionId',
        },
      );
      for await (const out of pages)
        for (const i of out.Items ?? []) ids.push(String(i.promotionId));
    } catch (err) {
      rethrowAws(err, 'list in-flight promotions');
    }
    return ids;
  }

  async listRecent(limit: number): Promise<readonly StagedPromotion[]> {
    const found: StagedPromotion[] = [];
    try {
      const pages = paginateQuery(
        { client: this.doc, pageSize: Math.min(limit, 100) },
        {
          TableName: this.tableName,
          IndexName: this.indexName,
          KeyConditionExpression: 'gsi1pk = :p',
          ExpressionAttributeValues: { ':p': 'PROMOTIONS' },
          ScanIndexForward: false,
        },
      );
      for await (const out of pages) {
        for (const i of out.Items ?? []) {
          if (found.length >= limit) return found;
          found.push(StagedPromotionSchema.parse(i));
        }
      }
    } catch (err) {
      rethrowAws(err, 'list recent promotions');
    }
    return found;
  }

  async listOrders(promotionId: string): Promise<readonly PromotionOrder[]> {
    try {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :o)',
          ExpressionAttributeValues: { ':pk': promotionPk(promotionId), ':o': 'ORDER#' },
          ConsistentRead: true,
        }),
      );
      return (out.Items ?? []).map((i) => PromotionOrderSchema.parse(i));
    } catch (err) {
      rethrowAws(err, `list orders of promotion ${promotionId}`);
    }
  }

  async getBook(account: string): Promise<{ book: AccountBook; version: number }> {
    try {
      const out = await this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: bookPk(account), sk: 'BOOK' },
          ConsistentRead: true,
        }),
      );
      if (!out.Item) return { book: emptyAccountBook(), version: 0 };
      const book = JSON.parse(String(out.Item.book)) as Partial<AccountBook>;
      if (typeof book.cashUsd !== 'number' || typeof book.positions !== 'object') {
        throw new ValidationError(
          `${bookPk(account)}/BOOK.book`,
          'not an average-cost position book (a FIFO book of an older release?): clear the state folder',
        );
      }
      return {
        book: book as AccountBook,
        version: Number(out.Item.version),
      };
    } catch (err) {
      rethrowAws(err, `get position book ${account}`);
    }
  }

  async saveBook(account: string, book: AccountBook, expectedVersion: number): Promise<boolean> {
    try {
      await this.doc.send(new PutCommand(this.bookPut({ account, book, expectedVersion })));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      rethrowAws(err, `save position book ${account}`);
    }
  }

  /** The conditional Put of a position book at its next version. */
  private bookPut(w: BookWrite) {
    return {
      TableName: this.tableName,
      Item: {
        pk: bookPk(w.account),
        sk: 'BOOK',
        book: JSON.stringify(w.book),
        version: w.expectedVersion + 1,
      },
      ConditionExpression: w.expectedVersion === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
      ...(w.expectedVersion === 0
        ? {}
        : { ExpressionAttributeValues: { ':v': w.expectedVersion } }),
    };
  }

  async transitionOrder(
    order: PromotionOrder,
    expected: PromotionOrder,
    book?: BookWrite,
  ): Promise<OrderTransition> {
    const valid = PromotionOrderSchema.parse(order);
    const key = { pk: promotionPk(valid.promotionId), sk: `ORDER#${valid.order.clientOrderId}` };
    const orderPut = {
      TableName: this.tableName,
      Item: { ...key, ...valid },
      ConditionExpression: '#o.#s = :s AND #o.#f = :f AND #o.#u = :u AND #b = :b',
      ExpressionAttributeNames: {
        '#o': 'order',
        '#s': 'status',
        '#f': 'filledQty',
        '#u': 'updatedAtMs',
        '#b': 'bookedQty',
      },
      ExpressionAttributeValues: {
        ':s': expected.order.status,
        ':f': expected.order.filledQty,
        ':u': expected.order.updatedAtMs,
        ':b': expected.bookedQty,
      },
    };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [{ Put: orderPut }, ...(book ? [{ Put: this.bookPut(book) }] : [])],
        }),
      );
      return { outcome: 'saved' };
    } catch (err) {
      if ((err as { name?: string }).name !== 'TransactionCanceledException') {
        rethrowAws(err, `transition order ${valid.order.clientOrderId}`);
      }
    }
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    if (!out.Item) throw new NotFoundError('order', valid.order.clientOrderId);
    const stored = PromotionOrderSchema.parse(out.Item);
    const same =
      stored.order.status === expected.order.status &&
      stored.order.filledQty === expected.order.filledQty &&
      stored.order.updatedAtMs === expected.order.updatedAtMs &&
      stored.bookedQty === expected.bookedQty;
    return same ? { outcome: 'book_moved' } : { outcome: 'order_moved', stored };
  }
}
