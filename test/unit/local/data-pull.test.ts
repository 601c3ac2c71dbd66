/**
 * The flags of `stagegate data pull` (local/data-pull.ts): every refusal names the flag and is
 * a usage error (the CLI exits 2 on PullUsageError); a valid request is normalized.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { alpacaKeysFromEnv, PullUsageError, parsePullRequest } from '../../../local/data-pull.js';

const TODAY = '2026-12-04';
const flags = (over: Partial<Parameters<typeof parsePullRequest>[0]> = {}) => ({
  symbols: ['SPY'],
  from: '2013-10-07',
  to: '2013-10-08',
  out: 'tree',
  feed: 'iex' as const,
  dailyLookbackDays: 550,
  ...over,
});

describe('data pull flags', () => {
  it('normalizes symbols, resolves the folder and finds the market', () => {
    // Act
    const equity = parsePullRequest(flags({ symbols: ['spy', 'brk.b'] }), TODAY);
    const crypto = parsePullRequest(flags({ symbols: ['btcusd', 'ETH/USD'] }), TODAY);

    // Assess
    expect(equity.symbols).toEqual(['SPY', 'BRK.B']);
    expect(equity.market).toBe('equity-usa');
    expect(equity.out).toBe(path.resolve('tree'));
    expect(crypto.market).toBe('crypto');
  });

  it.each([
    [{ symbols: [] }, '--symbols needs at least one symbol'],
    [{ symbols: ['SPY', 'S&P'] }, '--symbols: "S&P" is not a symbol'],
    [{ symbols: ['SPY', 'BTCUSD'] }, '--symbols mixes US equities and crypto pairs'],
    [{ from: '2013-10-32' }, '--from must be a date YYYY-MM-DD, got "2013-10-32"'],
    [{ to: '2013-02-29' }, '--to must be a date YYYY-MM-DD, got "2013-02-29"'],
    [{ from: '7.10.2013' }, '--from must be a date YYYY-MM-DD'],
    [{ from: '1999-12-31' }, '--from must be within the market calendar'],
    [{ from: '2013-10-09' }, '--from 2013-10-09 is after --to 2013-10-08'],
    [{ from: '2012-01-01' }, 'one pull takes at most 366'],
    [{ from: '2026-12-01', to: TODAY }, `--to ${TODAY} is not before today`],
    [{ dailyLookbackDays: 10 }, '--daily-lookback-days must be from 30 to 3660'],
  ])('refuses %j naming the flag', (over, message) => {
    // Act / Assess
    expect(() => parsePullRequest(flags(over), TODAY)).toThrow(PullUsageError);
    expect(() => parsePullRequest(flags(over), TODAY)).toThrow(message);
  });

  it('reads the keys from APCA_API_KEY_ID / APCA_API_SECRET_KEY and names a missing one', () => {
    expect(alpacaKeysFromEnv({ APCA_API_KEY_ID: 'k', APCA_API_SECRET_KEY: 's' })).toEqual({
      keyId: 'k',
      secretKey: 's',
    });
    expect(() => alpacaKeysFromEnv({ APCA_API_KEY_ID: 'k' })).toThrow(
      'set APCA_API_SECRET_KEY (your Alpaca key pair',
    );
    expect(() => alpacaKeysFromEnv({})).toThrow('set APCA_API_KEY_ID and APCA_API_SECRET_KEY');
  });
});
