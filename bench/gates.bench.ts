/**
 * Latency of `evaluateGates` for one promotion candidate: all 16 gates, with 390 minutes of the
 * strategy's P&L for the VaR / ES gates and ~1,000 open-to-close returns of real SPY daily bars
 * (LEAN, read in place) for their labelled underlying view.
 * Target: p99 < 5 ms per evaluation.
 *
 * Data root: `STAGEGATE_DATA` (LEAN data root), default `../shared/data/lean` from the project
 * root; without the file the bench falls back to seeded Gaussian returns (σ = 1.2 %).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import AdmZip from 'adm-zip';
import { evaluateGates, type GateInput } from '../functions/core/gates/evaluate.js';
import {
  historicalVarGate,
  parametricVarGate,
  promotionWindowGate,
} from '../functions/core/gates/gates.js';
import { DEFAULT_GATE_THRESHOLDS } from '../functions/core/gates/thresholds.js';
import type { DailyBar } from '../functions/core/market/types.js';
import { intradayReturns } from '../functions/core/risk/strategy-pnl.js';
import type { BenchReport } from './run.js';

const HISTORY = 1000;
const WARMUP = 500;
const ITERATIONS = 5000;
const TARGET_P99_MS = 5;

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Last `n + 1` SPY daily bars (LEAN: `YYYYMMDD HH:mm, o, h, l, c, v`, prices in deci-cents). */
function spyDailyBars(n: number): DailyBar[] | null {
  const root = process.env.STAGEGATE_DATA ?? path.resolve(projectRoot, '../shared/data/lean');
  const file = path.join(root, 'equity/usa/daily/spy.zip');
  if (!existsSync(file)) return null;
  const entry = new AdmZip(file).getEntries()[0];
  if (!entry) return null;
  const bars: DailyBar[] = [];
  for (const line of entry.getData().toString('utf8').split('\n')) {
    const f = line.trim().split(',');
    if (f.length < 6) continue;
    const d = f[0] as string;
    const px = (i: number): number => Number(f[i]) / 10_000;
    bars.push({
      date: `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`,
      open: px(1),
      high: px(2),
      low: px(3),
      close: px(4),
      volume: Number(f[5]),
    });
  }
  return bars.slice(-(n + 1));
}

function gaussianReturns(n: number, sigma: number): number[] {
  let a = 7;
  const rand = (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: n }, () => {
    const u = Math.max(rand(), 1e-12);
    return sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  });
}

function measure(fn: () => unknown): { p50: number; p99: number; mean: number; max: number } {
  for (let i = 0; i < WARMUP; i++) fn();
  const samples = new Float64Array(ITERATIONS);
  for (let i = 0; i < ITERATIONS; i++) {
    const t0 = performance.now();
    fn();
    samples[i] = performance.now() - t0;
  }
  samples.sort();
  const q = (p: number): number =>
    samples[Math.min(ITERATIONS - 1, Math.ceil(p * ITERATIONS) - 1)] ?? Number.NaN;
  let sum = 0;
  for (const s of samples) sum += s;
  return {
    p50: q(0.5),
    p99: q(0.99),
    mean: sum / ITERATIONS,
    max: samples[ITERATIONS - 1] ?? Number.NaN,
  };
}

const round = (x: number): number => Number(x.toFixed(4));

export default async function (): Promise<BenchReport> {
  const bars = spyDailyBars(HISTORY);
  const dailyReturns = bars ? intradayReturns(bars) : gaussianReturns(HISTORY, 0.012);
  const source = bars
    ? `SPY daily closes ${bars[0]?.date}..${bars[bars.length - 1]?.date}`
    : 'seeded Gaussian returns';
  const nowMs = Date.UTC(2021, 2, 12, 15, 0); // 11:00 New York, inside the window
  // The strategy's own 390 minutes of P&L on a 5,000 USD slice, the underlying's open-to-close
  // history as the labelled second view.
  const risk = {
    minuteReturns: gaussianReturns(390, 0.00025),
    minutesPerSession: 390,
    capitalSliceUsd: 5_000,
    underlyingIntradayReturns: dailyReturns,
    maxIntradayExposureFraction: 1,
  };
  const input: GateInput = {
    nowMs,
    capitalUsd: 100_000,
    killSwitch: { state: 'off' },
    drawdown: { parentDrawdownFraction: 0.02, agentDrawdownFraction: 0.01 },
    risk,
    positionsAfterTrade: [
      { symbol: 'SPY', notionalUsd: 5_000 },
      { symbol: 'IBM', notionalUsd: -3_000 },
      { symbol: 'BAC', notionalUsd: 2_000 },
    ],
    leverage: { grossNotionalUsd: 10_000, equityUsd: 5_000 },
    trades: { tradeCount: 25 },
    liquidity: {
      orderQty: 10,
      minuteVolume: 50_000,
      dailyVolume: 60_000_000,
      bidUsd: 390.1,
      askUsd: 390.12,
    },
    staleness: { lastBarMs: nowMs - 30_000 },
    window: { isTradingDay: true },
  };
  const t = DEFAULT_GATE_THRESHOLDS;
  const cases: [string, () => unknown][] = [
    ['evaluateGates (all 16 gates)', () => evaluateGates(input, t)],
    ['historicalVarGate alone', () => historicalVarGate(risk, t)],
    ['parametricVarGate alone', () => parametricVarGate(risk, t)],
    ['promotionWindowGate alone', () => promotionWindowGate(input.window, nowMs, t)],
  ];
  const rows = cases.map(([name, fn]) => {
    const m = measure(fn);
    return {
      case: name,
      returns: dailyReturns.length,
      iterations: ITERATIONS,
      p50Ms: round(m.p50),
      p99Ms: round(m.p99),
      meanMs: round(m.mean),
      maxMs: round(m.max),
      targetP99Ms: TARGET_P99_MS,
      meetsTarget: m.p99 < TARGET_P99_MS,
    };
  });
  return {
    name: 'gates',
    description: `evaluateGates latency per candidate (390 minute P&L, ${dailyReturns.length} open-to-close returns from ${source}); target p99 < ${TARGET_P99_MS} ms`,
    rows,
  };
}
