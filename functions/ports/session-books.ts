/**
 * Every paper session's own book on a broker account, one snapshot per session and day, so a
 * tick can see the account as the SUM of its sessions (account-level exposure across sessions,
 * reconciliation of the sum of the sessions' books against the broker's positions).
 *
 * Quantities in shares (signed: negative is short), prices USD per share, money USD, times
 * UTC ISO-8601.
 *
 * Errors: `TransientError` for retryable storage faults.
 */
export interface SessionBookSnapshot {
  readonly promotionId: string;
  /** Session date, `YYYY-MM-DD`. */
  readonly date: string;
  readonly symbol: string;
  /**
   * The symbol's market: picks the time in force of a flatten sent for the session (the kill
   * switch's, the crash sweeper's). Absent in a snapshot written before it was recorded:
   * read as `equity-usa`.
   */
  readonly market?: 'equity-usa' | 'crypto';
  /** This session's position from its own fills, signed shares. */
  readonly qty: number;
  /** Average entry price of that position, USD per share (0 when flat). */
  readonly avgPriceUsd: number;
  /** Orders of this session not yet in a terminal status. */
  readonly openOrders: number;
  /** Unfilled notional of those orders at the last mark, USD (>= 0). */
  readonly openOrderNotionalUsd: number;
  /**
   * Those orders as the session last read them (the crash sweeper asks the broker about each
   * by client_order_id when the session was abandoned).
   */
  readonly open: readonly {
    readonly clientOrderId: string;
    readonly side: 'buy' | 'sell';
    /** Shares ordered, > 0. */
    readonly qty: number;
    /** Shares filled when the snapshot was taken. */
    readonly filledQty: number;
  }[];
  /**
   * Ticks the session had run when the snapshot was taken (a later snapshot wins). A tick
   * that leaves the book unchanged does not write, so this is the last tick that changed it.
   */
  readonly ticks: number;
  readonly done: boolean;
  readonly updatedAtIso: string;
}

/**
 * Registry key of an account: `<broker name>:<account id>`, as a promotion's `broker` field.
 */
export const accountKeyOf = (brokerName: string, account: string): string =>
  `${brokerName}:${account}`;

export interface SessionBookRegistry {
  /**
   * Stores `snapshot` as the session's current book on `account`, unless a snapshot with
   * more ticks is already stored (a retried tick never moves the book backwards).
   */
  save(account: string, snapshot: SessionBookSnapshot): Promise<void>;
  /** Every session's snapshot on `account` for `date` (`YYYY-MM-DD`), by promotion id. */
  list(account: string, date: string): Promise<readonly SessionBookSnapshot[]>;
}
