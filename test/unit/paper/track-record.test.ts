/**
 * A genome's paper track record: one result per finished paper session (daily return, round
 * trips, parity to the cent or not, the halt), folded oldest first; the read of an unknown
 * genome is an empty record.
 */
import { describe, expect, it } from 'vitest';
import type { PaperOrder, PaperSessionState } from '../../../functions/core/paper/paper-session.js';
import type { ParityRecord } from '../../../functions/core/paper/reference.js';
import {
  type PaperSessionResult,
  paperSessionResult,
  paperTrackRecordOf,
  readPaperTrackRecord,
} from '../../../functions/core/paper/track-record.js';
import { MemoryPaperTrackRecord } from '../../support/doubles/memory-paper-track-record.js';

const order = (at: number, side: 'buy' | 'sell', filledQty: number): PaperOrder => ({
  clientOrderId: `o${at}`,
  symbol: 'SPY',
  side,
  qty: Math.max(filledQty, 1),
  reason: 'signal',
  decidedAtMs: at,
  submittedAtMs: at,
  status: filledQty > 0 ? 'filled' : 'canceled',
  filledQty,
  avgPriceUsd: filledQty > 0 ? 100 : null,
  feesUsd: 0,
  updatedAtIso: '',
});

function state(orders: PaperOrder[], halt: PaperSessionState['halt'] = null): PaperSessionState {
  return {
    promotionId: 'pr-1',
    genome: {
      id: 'g-1',
      family: 'momentum',
      symbol: 'SPY',
      generation: 0,
      parentIds: [],
      params: {},
    },
    symbol: 'SPY',
    market: 'equity-usa',
    date: '2013-10-08',
    capitalUsd: 200,
    windowOpenMs: 0,
    closeMs: 0,
    limits: {} as PaperSessionState['limits'],
    startedAtMs: 0,
    accountCashUsd: 100_000,
    pendingTarget: null,
    lastBarMs: null,
    flattenDecided: true,
    halt,
    orders,
    ticks: 10,
    done: true,
  };
}

const parity = (paper: number, reference: number): ParityRecord => ({
  promotionId: 'pr-1',
  paperPnlUsd: paper,
  referencePnlUsd: reference,
  differenceUsd: paper - reference,
  orders: [],
  cohortPnlUsd: 7,
  cohortFlatteryUsd: 7 - reference,
});

describe('paperSessionResult', () => {
  it('counts round trips (flat, open, flat), filled orders, the daily return and parity to the cent', () => {
    // Prepare: long 2 -> flat (1 trip), short 1 -> add 1 -> flat (2nd trip), a canceled order
    const orders = [
      order(1, 'buy', 2),
      order(2, 'sell', 2),
      order(3, 'sell', 1),
      order(4, 'sell', 1),
      order(5, 'buy', 0),
      order(6, 'buy', 2),
    ];

    // Act
    const r = paperSessionResult({
      state: state(orders),
      parity: parity(3, 3),
      broker: 'simulated:paper-1',
      reconciliationClean: true,
      recordedAtIso: '2013-10-08T20:05:00.000Z',
    });

    // Assess
    expect(r).toMatchObject({
      genomeId: 'g-1',
      family: 'momentum',
      filledOrders: 5,
      roundTrips: 2,
      parity: 'exact',
      dailyReturn: 3 / 200,
      cohortPnlUsd: 7,
      halt: null,
    });
  });

  it.each<[number, number, 'exact' | 'diverged']>([
    [10, 10.004, 'exact'],
    [10, 10.01, 'diverged'],
    [-5, -4.99, 'diverged'],
  ])('paper %d vs reference %d: %s', (paper, reference, expected) => {
    // Act
    const r = paperSessionResult({
      state: state([], { mode: 'flatten', reason: 'kill switch engaged: ops' }),
      parity: parity(paper, reference),
      broker: 'alpaca-paper:paper-1',
      reconciliationClean: false,
      recordedAtIso: '2013-10-08T20:05:00.000Z',
    });

    // Assess
    expect(r.parity).toBe(expected);
    expect(r.halt).toEqual({ mode: 'flatten', reason: 'kill switch engaged: ops' });
  });
});

describe('paper track record', () => {
  const result = (date: string, promotionId: string, pnl: number): PaperSessionResult => ({
    ...paperSessionResult({
      state: { ...state([]), date, promotionId },
      parity: parity(pnl, pnl),
      broker: 'simulated:paper-1',
      reconciliationClean: true,
      recordedAtIso: `${date}T20:05:00.000Z`,
    }),
  });

  it('folds the sessions oldest first with their daily returns and counts', async () => {
    // Prepare: stored out of order, one retried Finish writing the same session again
    const store = new MemoryPaperTrackRecord();
    await store.append(result('2013-10-09', 'pr-b', -4));
    await store.append(result('2013-10-08', 'pr-a', 6));
    await store.append(result('2013-10-08', 'pr-a', 6));
    await store.append({ ...result('2013-10-10', 'pr-c', 2), parity: 'diverged', halt: null });
    await store.append({ ...result('2013-10-10', 'pr-x', 99), genomeId: 'g-other' });

    // Act
    const track = await readPaperTrackRecord(store, 'g-1');

    // Assess
    expect(track.sessions.map((s) => s.promotionId)).toEqual(['pr-a', 'pr-b', 'pr-c']);
    expect(track.dailyReturns).toEqual([6 / 200, -4 / 200, 2 / 200]);
    expect(track.totalPaperPnlUsd).toBe(4);
    expect(track).toMatchObject({ paritySessions: 2, divergedSessions: 1, haltedSessions: 0 });
  });

  it('an unknown genome has an empty record', async () => {
    // Act
    const track = await readPaperTrackRecord(new MemoryPaperTrackRecord(), 'nobody');

    // Assess
    expect(track).toEqual(paperTrackRecordOf('nobody', []));
    expect(track.sessions).toEqual([]);
  });
});
