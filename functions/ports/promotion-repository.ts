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
   * Saves `order` only if the stored order is still `expected` (the same status, filled
   * quantity, booked quantity and `updatedAtMs`), together with the position book of
   * `book.account` at `book.expectedVersion` when given: all or nothing. So of two writers
   * that read the same order (two crash sweeps, a sweep and a late poll), one moves it and
   * books its fill; the other is told and gets the stored order.
   *
   * @returns `saved`; `order_moved` with the stored order (nothing saved); `book_moved` (the
   *   book's version moved: nothing saved, re-read the book and retry).
   * @throws NotFoundError when the order was never reserved.
   */
  transitionOrder(
    order: PromotionOrder,
    expected: PromotionOrder,
    book?: BookWrite,
  ): Promise<OrderTransition>;
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

/** A position book to save with an order transition (see `transitionOrder`). */
export interface BookWrite {
  /** `<broker name>:<account id>`. */
  readonly account: string;
  readonly book: AccountBook;
  /** The version the book was read at (0: none stored yet). */
  readonly expectedVersion: number;
}

/** What `transitionOrder` did. */
export type OrderTransition =
  | { readonly outcome: 'saved' }
  | { readonly outcome: 'order_moved'; readonly stored: PromotionOrder }
  | { readonly outcome: 'book_moved' };
