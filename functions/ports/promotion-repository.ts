import type { AccountBook } from '../core/exchange/position-book.js';
import type { PromotionOrder, StagedPromotion } from '../core/use-cases/promotion-records.js';

/**
 * Persistence of promotions, their orders and the local position book of each broker
 * account (DynamoDB). Writes that decide something are conditional, so a retried or
 * restarted step never creates a second promotion or a second order for a leg.
 *
 * Errors: `NotFoundError` for unknown ids, `TransientError` for retryable storage faults.
 */
export interface PromotionRepository {
  /** Creates the promotion once; a second call returns the stored one (`created: false`). */
  stage(promotion: StagedPromotion): Promise<{ created: boolean; promotion: StagedPromotion }>;
  get(promotionId: string): Promise<StagedPromotion>;
  setStatus(promotionId: string, status: StagedPromotion['status'], reason: string): Promise<void>;
  /**
   * Reserves an order (status `pending_new`) before it is sent: created once per
   * client_order_id; a second call returns the stored order (`created: false`).
   */
  reserveOrder(order: PromotionOrder): Promise<{ created: boolean; order: PromotionOrder }>;
  saveOrder(order: PromotionOrder): Promise<void>;
  /**
   * Ids of promotions still `staged` or `submitted` that were staged in
   * `[fromIso, toIso)` (UTC ISO-8601), oldest first: the crash sweeper's candidates.
   */
  listInFlight(fromIso: string, toIso: string): Promise<readonly string[]>;
  /**
   * The `limit` most recently staged promotions (by staging time, then id), newest first,
   * whatever their status: where the paper slot's holder is read (`use-cases/promotion-slot.ts`).
   */
  listRecent(limit: number): Promise<readonly StagedPromotion[]>;
  listOrders(promotionId: string): Promise<readonly PromotionOrder[]>;
  /** The local position book (average cost) of a broker account, with its version for updates. */
  getBook(account: string): Promise<{ book: AccountBook; version: number }>;
  /** Saves the book if its version is still `expectedVersion`; false when it moved. */
  saveBook(account: string, book: AccountBook, expectedVersion: number): Promise<boolean>;
}
