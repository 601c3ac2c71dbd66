/**
 * The account's pre-trade pattern-day-trader rule applies to US equities only: FINRA 4210
 * covers securities in a margin account, and Alpaca applies no PDT check to crypto orders.
 * The exposure limit applies to every market.
 */
import { describe, expect, it } from 'vitest';
import {
  type AccountView,
  accountRefusal,
  DEFAULT_ACCOUNT_LIMITS,
} from '../../../functions/core/paper/account.js';

/** A $1,000 account that already made three day trades this week. */
const smallAccount: AccountView = {
  equityUsd: 1_000,
  grossExposureUsd: 0,
  otherSessionsOpenNotionalUsd: 0,
  dayTradeCount: 3,
  openPositions: 0,
};
const opening = { notionalUsd: 100, reducingNotionalUsd: 0, opensFromFlat: true };

describe('pattern-day-trader rule by market', () => {
  it('refuses a fourth equity day trade below the minimum equity (market absent = equity-usa)', () => {
    expect(accountRefusal(DEFAULT_ACCOUNT_LIMITS, smallAccount, opening)).toMatch(
      /pattern-day-trader limit/,
    );
    expect(
      accountRefusal(DEFAULT_ACCOUNT_LIMITS, smallAccount, { ...opening, market: 'equity-usa' }),
    ).toMatch(/pattern-day-trader limit/);
  });

  it('lets the same crypto order through, even with an unknown day-trade count', () => {
    expect(
      accountRefusal(DEFAULT_ACCOUNT_LIMITS, smallAccount, { ...opening, market: 'crypto' }),
    ).toBeNull();
    expect(
      accountRefusal(
        DEFAULT_ACCOUNT_LIMITS,
        { ...smallAccount, dayTradeCount: null },
        { ...opening, market: 'crypto' },
      ),
    ).toBeNull();
  });

  it('still applies the gross exposure limit to crypto', () => {
    expect(
      accountRefusal(DEFAULT_ACCOUNT_LIMITS, smallAccount, {
        ...opening,
        notionalUsd: 1_000_000,
        market: 'crypto',
      }),
    ).toMatch(/account exposure limit/);
  });
});
