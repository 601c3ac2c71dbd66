import { describe, expect, it } from 'vitest';
import { FileSystemBlobSource } from '../../../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../../../functions/adapters/market-data/lean-market-data.js';
import { evaluateGates } from '../../../functions/core/gates/evaluate.js';
import { DEFAULT_GATE_THRESHOLDS } from '../../../functions/core/gates/thresholds.js';
import { dailyHistoryOrNull } from '../../../functions/core/use-cases/promotion-gates.js';
import { DATA_ROOT } from '../../support/paths.js';

const md = new LeanMarketData(new FileSystemBlobSource(DATA_ROOT));

describe('daily history for the risk gates', () => {
  it('ETHUSD (minute data, no daily file): the VaR/ES gates judge the strategy\'s own P&L and say the underlying view has "no history"', async () => {
    // Act
    const h = await dailyHistoryOrNull(md, 'ETHUSD', '2014-01-01', '2018-04-03');

    // Assess
    expect(h.missing).toMatch(/crypto\/coinbase\/daily\/ethusd_trade\.zip is missing/);
    expect(h.note).toMatch(/^no history: /);
    const evaluation = evaluateGates(
      {
        nowMs: 0,
        capitalUsd: 1000,
        killSwitch: null,
        drawdown: null,
        risk: {
          minuteReturns: [0.001, -0.001, 0.0005, -0.0005, 0],
          minutesPerSession: 5,
          capitalSliceUsd: 100,
          underlyingIntradayReturns: null,
          historyNote: h.note,
        },
        positionsAfterTrade: null,
        leverage: null,
        trades: null,
        liquidity: null,
        staleness: null,
        window: null,
      },
      { ...DEFAULT_GATE_THRESHOLDS, varMinObservations: 5 },
    );
    const risk = evaluation.results.filter((r) => /^(var|es)_/.test(r.gate));
    expect(risk.map((r) => r.gate)).toEqual([
      'var_historical',
      'var_parametric',
      'es_historical',
      'es_parametric',
    ]);
    for (const r of risk) {
      expect(r.observed).toEqual(expect.any(Number));
      expect(r.reason).toMatch(/underlying view: no usable history, no history: /);
    }
  });

  it('AIG: adjusted for splits and dividends, and the note says so; BTCUSD: unadjusted, and why', async () => {
    const aig = await dailyHistoryOrNull(md, 'AIG', '2009-01-01', '2009-12-31');
    const btc = await dailyHistoryOrNull(md, 'BTCUSD', '2017-01-01', '2017-12-31');
    expect(aig.note).toBe('history adjusted for split and dividend');
    expect(btc.note).toMatch(
      /^history unadjusted \(crypto market has no corporate-action factor files\)/,
    );
  });
});
