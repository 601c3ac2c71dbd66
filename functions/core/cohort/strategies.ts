/**
 * The strategy families as incremental state machines: one `step` per completed 1-minute bar,
 * O(1) amortised work, no allocation after construction (ring buffers are preallocated).
 *
 * A strategy answers with a target position as a signed fraction of agent equity (`+0.5` =
 * long half the equity, `-1` = short all of it, `0` = flat) or {@link HOLD} (`NaN`, keep the
 * current target). It answers only when its target changes, so an order is placed on a signal
 * change, not on every bar. Decisions use the bar's close (known at the bar's end): no
 * look-ahead. The caller never feeds a bar whose close is NaN (a minute without a trade).
 *
 * The target is the strategy's own intent; the simulator may clip the order (leverage and
 * exposure ceilings) without telling the strategy, exactly as a broker rejection would.
 */
import { ValidationError } from '../errors.js';
import type { Genome } from './genome.js';

/** "Keep the current target" (no order). */
export const HOLD = Number.NaN;

const MINUTE_MS = 60_000;

/** An incremental strategy over one symbol's bars. */
export interface Strategy {
  /** Clears all state for a new session opening at `sessionOpenMs` (epoch ms UTC). */
  reset(sessionOpenMs: number): void;
  /**
   * Feeds one completed bar (bar start `t`, epoch ms UTC; prices USD; volume shares) and
   * returns the new target (signed fraction of equity) or {@link HOLD}.
   */
  step(t: number, close: number, high: number, low: number, volume: number): number;
}

function gene(genome: Genome, name: string): number {
  const v = genome.params[name];
  if (v === undefined || !Number.isFinite(v)) {
    throw new ValidationError(
      `genome.params.${name}`,
      `missing for ${genome.family} (${genome.id})`,
    );
  }
  return v;
}

/**
 * Time-series momentum (Moskowitz, Ooi & Pedersen, 2012, on minute bars): with
 * `r = close_t / close_{t-lookback} - 1`, long when `r > threshold`, short when
 * `r < -threshold`, flat in between. Target `±riskFraction`.
 */
export class MomentumStrategy implements Strategy {
  private readonly ring: Float64Array;
  private head = 0;
  private count = 0;
  private side = 0;

  constructor(
    lookback: number,
    private readonly threshold: number,
    private readonly riskFraction: number,
  ) {
    this.ring = new Float64Array(lookback + 1);
  }

  reset(_sessionOpenMs: number): void {
    this.head = 0;
    this.count = 0;
    this.side = 0;
  }

  step(_t: number, close: number): number {
    const ring = this.ring;
    ring[this.head] = close;
    this.head = this.head + 1 === ring.length ? 0 : this.head + 1;
    if (this.count < ring.length) {
      this.count++;
      if (this.count < ring.length) return HOLD;
    }
    // After the write, `head` points at the oldest close: lookback bars ago.
    const r = close / (ring[this.head] as number) - 1;
    const want = r > this.threshold ? 1 : r < -this.threshold ? -1 : 0;
    if (want === this.side) return HOLD;
    this.side = want;
    return want * this.riskFraction;
  }
}

/**
 * Bollinger Band mean reversion (Bollinger, 2001): middle band = simple moving average of the
 * last `window` closes, bands = middle ± k × population standard deviation. Long when the
 * close falls below the lower band, short above the upper band, flat again when the close
 * crosses back to the middle band. Rolling sums are kept relative to the first close (for
 * precision) and recomputed exactly once per window (against drift), O(1) amortised.
 */
export class BollingerReversionStrategy implements Strategy {
  private readonly ring: Float64Array;
  private head = 0;
  private count = 0;
  private ref = 0;
  private sum = 0;
  private sumSq = 0;
  private side = 0;

  constructor(
    window: number,
    private readonly k: number,
    private readonly riskFraction: number,
  ) {
    this.ring = new Float64Array(window);
  }

  reset(_sessionOpenMs: number): void {
    this.head = 0;
    this.count = 0;
    this.sum = 0;
    this.sumSq = 0;
    this.side = 0;
  }

  step(_t: number, close: number): number {
    const ring = this.ring;
    const w = ring.length;
    if (this.count === 0) this.ref = close;
    const x = close - this.ref;
    if (this.count >= w) {
      const old = ring[this.head] as number;
      this.sum -= old;
      this.sumSq -= old * old;
    } else {
      this.count++;
    }
    ring[this.head] = x;
    this.sum += x;
    this.sumSq += x * x;
    this.head++;
    if (this.head === w) {
      this.head = 0;
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < w; i++) {
        const v = ring[i] as number;
        s += v;
        s2 += v * v;
      }
      this.sum = s;
      this.sumSq = s2;
    }
    if (this.count < w) return HOLD;
    const mean = this.sum / w;
    const variance = this.sumSq / w - mean * mean;
    if (!(variance > 0)) return HOLD;
    const band = this.k * Math.sqrt(variance);
    let want = this.side;
    if (x < mean - band) want = 1;
    else if (x > mean + band) want = -1;
    else if ((this.side === 1 && x >= mean) || (this.side === -1 && x <= mean)) want = 0;
    if (want === this.side) return HOLD;
    this.side = want;
    return want * this.riskFraction;
  }
}

/**
 * Donchian channel breakout with an ATR stop (Turtle-style): the channel is the highest high
 * and lowest low of the previous `window` bars (the current bar excluded). Long when the
 * close breaks above the channel, short below it; the stop sits `atrStop` × ATR from the
 * entry close, ATR being Wilder's (1978) average true range over `atrWindow` bars (simple
 * mean of the first `atrWindow` true ranges, then `ATR = (ATR × (n-1) + TR) / n`). A stop-out
 * goes flat; an opposite breakout flips. Rolling max/min with monotonic deques (O(1)
 * amortised).
 */
export class DonchianBreakoutStrategy implements Strategy {
  private readonly maxIdx: Int32Array;
  private readonly maxVal: Float64Array;
  private readonly minIdx: Int32Array;
  private readonly minVal: Float64Array;
  private maxHead = 0;
  private maxLen = 0;
  private minHead = 0;
  private minLen = 0;
  private n = 0;
  private prevClose = Number.NaN;
  private trSum = 0;
  private atr = Number.NaN;
  private side = 0;
  private stop = Number.NaN;

  constructor(
    private readonly window: number,
    private readonly atrWindow: number,
    private readonly atrStop: number,
    private readonly riskFraction: number,
  ) {
    const cap = window + 1;
    this.maxIdx = new Int32Array(cap);
    this.maxVal = new Float64Array(cap);
    this.minIdx = new Int32Array(cap);
    this.minVal = new Float64Array(cap);
  }

  reset(_sessionOpenMs: number): void {
    this.maxHead = 0;
    this.maxLen = 0;
    this.minHead = 0;
    this.minLen = 0;
    this.n = 0;
    this.prevClose = Number.NaN;
    this.trSum = 0;
    this.atr = Number.NaN;
    this.side = 0;
    this.stop = Number.NaN;
  }

  step(_t: number, close: number, high: number, low: number): number {
    const h = Number.isNaN(high) ? close : high;
    const l = Number.isNaN(low) ? close : low;
    const n = this.n;
    const cap = this.maxIdx.length;

    // Wilder's ATR, including the current bar (known at its close).
    const pc = this.prevClose;
    const tr = Number.isNaN(pc) ? h - l : Math.max(h - l, Math.abs(h - pc), Math.abs(l - pc));
    const aw = this.atrWindow;
    if (n < aw) {
      this.trSum += tr;
      if (n + 1 === aw) this.atr = this.trSum / aw;
    } else {
      this.atr = (this.atr * (aw - 1) + tr) / aw;
    }
    this.prevClose = close;

    // Expire bars older than the channel window [n - window, n - 1].
    const oldest = n - this.window;
    while (this.maxLen > 0 && (this.maxIdx[this.maxHead] as number) < oldest) {
      this.maxHead = this.maxHead + 1 === cap ? 0 : this.maxHead + 1;
      this.maxLen--;
    }
    while (this.minLen > 0 && (this.minIdx[this.minHead] as number) < oldest) {
      this.minHead = this.minHead + 1 === cap ? 0 : this.minHead + 1;
      this.minLen--;
    }

    let want = this.side;
    const atr = this.atr;
    if (n >= this.window && !Number.isNaN(atr)) {
      const upper = this.maxVal[this.maxHead] as number;
      const lower = this.minVal[this.minHead] as number;
      const dist = this.atrStop * atr;
      if (close > upper && this.side !== 1) {
        want = 1;
        this.stop = close - dist;
      } else if (close < lower && this.side !== -1) {
        want = -1;
        this.stop = close + dist;
      } else if (
        (this.side === 1 && close < this.stop) ||
        (this.side === -1 && close > this.stop)
      ) {
        want = 0;
      }
    }

    // Push the current bar into the deques (after the decision: the channel excludes it).
    while (this.maxLen > 0) {
      const back = (this.maxHead + this.maxLen - 1) % cap;
      if ((this.maxVal[back] as number) > h) break;
      this.maxLen--;
    }
    const maxPos = (this.maxHead + this.maxLen) % cap;
    this.maxIdx[maxPos] = n;
    this.maxVal[maxPos] = h;
    this.maxLen++;
    while (this.minLen > 0) {
      const back = (this.minHead + this.minLen - 1) % cap;
      if ((this.minVal[back] as number) < l) break;
      this.minLen--;
    }
    const minPos = (this.minHead + this.minLen) % cap;
    this.minIdx[minPos] = n;
    this.minVal[minPos] = l;
    this.minLen++;
    this.n = n + 1;

    if (want === this.side) return HOLD;
    this.side = want;
    return want * this.riskFraction;
  }
}

/**
 * Opening range breakout (Crabel, 1990): the range is the high and low of the bars starting
 * in the first `rangeMinutes` minutes after the session open. After it, a close above the
 * range high goes long with a stop `stopRangeMultiple` × range width below the range high
 * (1 = the range low), a close below the range low goes short symmetrically. One trade per
 * session: after the stop is hit the agent stays flat (the simulator flattens at the close).
 */
export class OpeningRangeBreakoutStrategy implements Strategy {
  private rangeEnd = Number.POSITIVE_INFINITY;
  private hi = Number.NEGATIVE_INFINITY;
  private lo = Number.POSITIVE_INFINITY;
  private side = 0;
  private stop = Number.NaN;
  private done = false;

  constructor(
    private readonly rangeMinutes: number,
    private readonly stopRangeMultiple: number,
    private readonly riskFraction: number,
  ) {}

  reset(sessionOpenMs: number): void {
    this.rangeEnd = sessionOpenMs + this.rangeMinutes * MINUTE_MS;
    this.hi = Number.NEGATIVE_INFINITY;
    this.lo = Number.POSITIVE_INFINITY;
    this.side = 0;
    this.stop = Number.NaN;
    this.done = false;
  }

  step(t: number, close: number, high: number, low: number): number {
    if (t < this.rangeEnd) {
      const h = Number.isNaN(high) ? close : high;
      const l = Number.isNaN(low) ? close : low;
      if (h > this.hi) this.hi = h;
      if (l < this.lo) this.lo = l;
      return HOLD;
    }
    if (this.done) return HOLD;
    const width = this.hi - this.lo;
    if (!(width > 0)) return HOLD;
    if (this.side === 0) {
      if (close > this.hi) {
        this.side = 1;
        this.stop = this.hi - this.stopRangeMultiple * width;
        return this.riskFraction;
      }
      if (close < this.lo) {
        this.side = -1;
        this.stop = this.lo + this.stopRangeMultiple * width;
        return -this.riskFraction;
      }
      return HOLD;
    }
    if ((this.side === 1 && close < this.stop) || (this.side === -1 && close > this.stop)) {
      this.side = 0;
      this.done = true;
      return 0;
    }
    return HOLD;
  }
}

/**
 * Baseline `buy_and_hold`: targets `+riskFraction` on the session's first bar and holds it
 * (the simulator's flatten closes it at the session's end, as for every agent): the passive
 * holding an active strategy must beat net of costs (W. F. Sharpe, "The Arithmetic of Active
 * Management", Financial Analysts Journal 47(1), 1991), held over the session.
 */
export class BuyAndHoldStrategy implements Strategy {
  private started = false;
  constructor(private readonly riskFraction: number) {}
  reset(): void {
    this.started = false;
  }
  step(): number {
    if (this.started) return HOLD;
    this.started = true;
    return this.riskFraction;
  }
}

/** Baseline `flat`: never holds a position (its session return is 0 by construction). */
export class FlatStrategy implements Strategy {
  reset(): void {}
  step(): number {
    return HOLD;
  }
}

/**
 * Builds the strategy of a genome (call `reset(sessionOpenMs)` before the first bar).
 *
 * @throws ValidationError('genome.params.<gene>') when a gene the family needs is missing.
 */
export function createStrategy(genome: Genome): Strategy {
  if (genome.family === 'flat') return new FlatStrategy();
  const rf = gene(genome, 'riskFraction');
  switch (genome.family) {
    case 'buy_and_hold':
      return new BuyAndHoldStrategy(rf);
    case 'momentum':
      return new MomentumStrategy(gene(genome, 'lookback'), gene(genome, 'threshold'), rf);
    case 'bollinger_reversion':
      return new BollingerReversionStrategy(gene(genome, 'window'), gene(genome, 'k'), rf);
    case 'donchian_breakout':
      return new DonchianBreakoutStrategy(
        gene(genome, 'window'),
        gene(genome, 'atrWindow'),
        gene(genome, 'atrStop'),
        rf,
      );
    case 'opening_range_breakout':
      return new OpeningRangeBreakoutStrategy(
        gene(genome, 'rangeMinutes'),
        gene(genome, 'stopRangeMultiple'),
        rf,
      );
  }
}
