/**
 * The opening state of a test or bench paper session: $100 of capital on a $100,000 paper
 * account, the promotion window opening 30 minutes after the session open and the close
 * 390 minutes after it (a full US equity session), and the limits the shared-data paper tests
 * use (leverage cap 2, aggregate exposure 1, fractional shares, $1,000 per order, daily loss
 * stop 50 %, bars older than 300 s are stale). One definition for `test/unit/paper` and
 * `bench/paper-session.bench.ts`.
 */
import {
  type HaltModes,
  newPaperSession,
  type PaperSessionState,
} from '../../functions/core/paper/paper-session.js';

export interface PaperSessionFixture {
  readonly promotionId: string;
  readonly genome: PaperSessionState['genome'];
  /** Market date, `YYYY-MM-DD` (New York). */
  readonly date: string;
  /** Session open, epoch milliseconds (UTC). */
  readonly openMs: number;
  readonly costs: PaperSessionState['limits']['costs'];
  readonly haltModes?: HaltModes;
}

export function paperSessionFixture(f: PaperSessionFixture): PaperSessionState {
  return newPaperSession({
    promotionId: f.promotionId,
    genome: f.genome,
    market: 'equity-usa',
    date: f.date,
    capitalUsd: 100,
    windowOpenMs: f.openMs + 30 * 60_000,
    closeMs: f.openMs + 390 * 60_000,
    startedAtMs: f.openMs + 30 * 60_000,
    accountCashUsd: 100_000,
    limits: {
      leverageCap: 2,
      maxAggregateExposure: 1,
      costs: f.costs,
      fractionalShares: true,
      maxOrderNotionalUsd: 1_000,
      dailyLossStopFraction: 0.5,
      maxBarAgeSeconds: 300,
      ...(f.haltModes ? { haltModes: f.haltModes } : {}),
    },
  });
}
