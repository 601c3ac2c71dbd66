/**
 * The paper track record of a genome: one result per paper session it traded (the
 * paper-session workflow's Finish appends it), read back as evidence (the Day-3 review, the
 * leverage policy, the statistics of "paper sessions as evidence").
 *
 * Money USD, returns fractions of the session's capital, dates New York `YYYY-MM-DD`, times
 * UTC ISO-8601.
 */
import * as z from 'zod';
import type { PaperSessionState } from './paper-session.js';
import type { ParityRecord } from './reference.js';

/** |paper − reference| below half a cent: the session is at parity to the cent. */
export const PARITY_TOLERANCE_USD = 0.005;

/** One paper session's result, as stored. */
export const PaperSessionResultSchema = z.object({
  genomeId: z.string().min(1),
  promotionId: z.string().min(1),
  /** Session date, `YYYY-MM-DD`. */
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  symbol: z.string().min(1),
  family: z.string().min(1),
  /** `<broker name>:<account id>` the session traded on. */
  broker: z.string().min(1),
  /** The session's capital (its slice), USD > 0. */
  capitalUsd: z.number().positive(),
  /** PnL from the broker's fills at the close mark, USD. */
  paperPnlUsd: z.number(),
  /** The reference simulation's PnL, USD. */
  referencePnlUsd: z.number(),
  /** paper − reference, USD. */
  parityDifferenceUsd: z.number(),
  /** `exact`: |difference| < {@link PARITY_TOLERANCE_USD}; `diverged` otherwise. */
  parity: z.enum(['exact', 'diverged']),
  /** paperPnlUsd / capitalUsd (the session's daily return), fraction. */
  dailyReturn: z.number(),
  /** Orders with at least one fill at the broker, count. */
  filledOrders: z.number().int().min(0),
  /** Round trips: times the position went from flat to open and back to flat, count. */
  roundTrips: z.number().int().min(0),
  /** The cohort's PnL of the genome on the session that promoted it, USD. */
  cohortPnlUsd: z.number(),
  /** The breaker that halted the session (mode and reason), or null. */
  halt: z.object({ mode: z.string(), reason: z.string() }).nullable(),
  /** This session's book agreed with the broker at the end. */
  reconciliationClean: z.boolean(),
  recordedAtIso: z.string(),
});
export type PaperSessionResult = z.infer<typeof PaperSessionResultSchema>;

/** A genome's paper track record, oldest session first. */
export interface PaperTrackRecord {
  readonly genomeId: string;
  /** One result per paper session (per promotion), by date then promotion id. */
  readonly sessions: readonly PaperSessionResult[];
  /** The sessions' daily returns, same order, fractions of each session's capital. */
  readonly dailyReturns: readonly number[];
  /** Sum of the sessions' paper PnL, USD. */
  readonly totalPaperPnlUsd: number;
  /** Sessions at parity to the cent, count. */
  readonly paritySessions: number;
  /** Sessions whose paper and reference PnL differ by a cent or more, count. */
  readonly divergedSessions: number;
  /** Sessions halted by a breaker (kill switch, loss stop, rollback, reconciliation), count. */
  readonly haltedSessions: number;
}

/** Round trips of the session's fills: flat → open → flat, count. */
function roundTripsOf(orders: PaperSessionState['orders']): number {
  let position = 0;
  let trips = 0;
  const byTime = [...orders].sort((a, b) => a.submittedAtMs - b.submittedAtMs);
  for (const o of byTime) {
    if (!(o.filledQty > 0)) continue;
    const before = position;
    position += o.side === 'buy' ? o.filledQty : -o.filledQty;
    if (Math.abs(position) < 1e-9) position = 0;
    if (before !== 0 && position === 0) trips++;
  }
  return trips;
}

/**
 * The result of a finished paper session (its final state and parity record).
 *
 * @param broker `<broker name>:<account id>`.
 */
export function paperSessionResult(input: {
  readonly state: PaperSessionState;
  readonly parity: ParityRecord;
  readonly broker: string;
  readonly reconciliationClean: boolean;
  readonly recordedAtIso: string;
}): PaperSessionResult {
  const { state, parity } = input;
  return {
    genomeId: state.genome.id,
    promotionId: state.promotionId,
    date: state.date,
    symbol: state.symbol,
    family: state.genome.family,
    broker: input.broker,
    capitalUsd: state.capitalUsd,
    paperPnlUsd: parity.paperPnlUsd,
    referencePnlUsd: parity.referencePnlUsd,
    parityDifferenceUsd: parity.differenceUsd,
    parity: Math.abs(parity.differenceUsd) < PARITY_TOLERANCE_USD ? 'exact' : 'diverged',
    dailyReturn: parity.paperPnlUsd / state.capitalUsd,
    filledOrders: state.orders.filter((o) => o.filledQty > 0).length,
    roundTrips: roundTripsOf(state.orders),
    cohortPnlUsd: parity.cohortPnlUsd,
    halt: state.halt ? { mode: state.halt.mode, reason: state.halt.reason } : null,
    reconciliationClean: input.reconciliationClean,
    recordedAtIso: input.recordedAtIso,
  };
}

/** Folds stored results into a track record (sorted by date, then promotion id). */
export function paperTrackRecordOf(
  genomeId: string,
  results: readonly PaperSessionResult[],
): PaperTrackRecord {
  const sessions = results
    .filter((r) => r.genomeId === genomeId)
    .sort((a, b) =>
      a.date === b.date ? a.promotionId.localeCompare(b.promotionId) : a.date < b.date ? -1 : 1,
    );
  return {
    genomeId,
    sessions,
    dailyReturns: sessions.map((s) => s.dailyReturn),
    totalPaperPnlUsd: sessions.reduce((sum, s) => sum + s.paperPnlUsd, 0),
    paritySessions: sessions.filter((s) => s.parity === 'exact').length,
    divergedSessions: sessions.filter((s) => s.parity === 'diverged').length,
    haltedSessions: sessions.filter((s) => s.halt !== null).length,
  };
}

/**
 * THE read of a genome's paper track record: every paper session it traded, oldest first,
 * with its daily returns (paper PnL / session capital) and parity counts. An unknown genome
 * has an empty record (no sessions), never an error.
 *
 * @throws TransientError (storage), ValidationError (a stored result that fails its schema).
 */
export async function readPaperTrackRecord(
  /** The store's read (`ports/paper-track-record.ts`, `PaperTrackRecordStore.list`). */
  store: { list(genomeId: string): Promise<readonly PaperSessionResult[]> },
  genomeId: string,
): Promise<PaperTrackRecord> {
  return paperTrackRecordOf(genomeId, await store.list(genomeId));
}
