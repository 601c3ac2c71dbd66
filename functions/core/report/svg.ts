/**
 * Server-rendered SVG charts for the run report: a multi-series line chart and a bar chart,
 * drawn from our own data with plain `<polyline>`/`<rect>` elements (no chart library: none is
 * installed, and these two chart kinds need ~200 lines). Output is a self-contained `<svg>`
 * string: `viewBox` scaled to the page width by CSS, a `<title>` and `<desc>` for screen
 * readers, a `data-chart` hook on the root and a `data-series` hook on each series (tests and
 * scrapers find them there). Every data string is escaped; coordinates have 0.1 px precision.
 */
import { escapeHtml } from './escape.js';

/** One line of a {@link lineChart}. `xs` and `ys` are parallel; non-finite points are skipped. */
export interface LineSeries {
  /** Value of the `data-series` attribute (for example an agent id). */
  readonly id: string;
  /** Tooltip text (`<title>` of the line). */
  readonly label: string;
  readonly xs: ArrayLike<number>;
  readonly ys: ArrayLike<number>;
  /** CSS color. */
  readonly color: string;
  /** Stroke width, px. */
  readonly width: number;
  /** Stroke opacity, 0..1 (default 1). */
  readonly opacity?: number;
  /** Which y axis the series is drawn against (default `left`). */
  readonly axis?: 'left' | 'right';
}

/** A secondary y axis on the right, for the series with `axis: 'right'`. */
export interface RightAxis {
  readonly label: string;
  readonly format: (value: number) => string;
  /** Colour of its tick labels and title (the colour of its series). */
  readonly color: string;
}

/** An axis tick: position in data units and its label. */
export interface Tick {
  readonly value: number;
  readonly label: string;
}

/** A dashed horizontal line at `y` (a ceiling, a mean). */
export interface ReferenceLine {
  readonly y: number;
  readonly label: string;
  readonly color: string;
}

/** Input of {@link lineChart}. */
export interface LineChartSpec {
  /** Value of the root's `data-chart` attribute, e.g. `equity-2013-10-07`. */
  readonly hook: string;
  /** Accessible name (the `<title>`). */
  readonly title: string;
  /** Accessible description (the `<desc>`). */
  readonly description: string;
  /** Drawn in order: the last one is on top. */
  readonly series: readonly LineSeries[];
  readonly xDomain: readonly [number, number];
  readonly xTicks: readonly Tick[];
  readonly formatY: (value: number) => string;
  /** Written vertically beside the y axis. */
  readonly yAxisLabel: string;
  readonly references?: readonly ReferenceLine[];
  /** Force 0 into the y domain (default false). */
  readonly includeZero?: boolean;
  /**
   * Secondary axis for `axis: 'right'` series. With `includeZero`, both axes put 0 at the same
   * height (one zero line); the right axis is scaled to fit its series, so a large series (a
   * parent wallet) does not flatten small ones (its agents).
   */
  readonly rightAxis?: RightAxis;
  /** viewBox width / height, px (defaults 960 × 300). */
  readonly width?: number;
  readonly height?: number;
}

/** One bar of a {@link barChart}. */
export interface Bar {
  /** Label under the bar. */
  readonly label: string;
  readonly value: number;
  /** Tooltip text. */
  readonly title: string;
}

/** Input of {@link barChart}. */
export interface BarChartSpec {
  readonly hook: string;
  readonly title: string;
  readonly description: string;
  /** Value of the `data-series` attribute of the group holding the bars. */
  readonly seriesId: string;
  readonly bars: readonly Bar[];
  readonly formatValue: (value: number) => string;
  readonly yAxisLabel: string;
  readonly width?: number;
  readonly height?: number;
}

const MARGIN = { top: 14, right: 18, bottom: 30, left: 84 } as const;
/** Right margin of a chart with a right axis, px. */
const RIGHT_AXIS_MARGIN = 84;

/** Width of the plot area of a chart `width` px wide (viewBox units), with or without a right axis. */
export function plotWidth(width: number, rightAxis = false): number {
  return width - MARGIN.left - (rightAxis ? RIGHT_AXIS_MARGIN : MARGIN.right);
}
const AXIS = '#8c959f';
const GRID = '#e6e9ed';
const TEXT = '#57606a';
const POSITIVE = '#1a7f37';
const NEGATIVE = '#cf222e';

/** Rounds a coordinate to 0.1 px (keeps the file small; sub-pixel precision is invisible). */
function px(v: number): string {
  return String(Math.round(v * 10) / 10);
}

/** A DOM-id-safe form of a hook. */
function idOf(hook: string): string {
  return `chart-${hook.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

/**
 * About `count` "nice" tick values (1, 2 or 5 × 10^k apart) covering `[min, max]`, and the
 * domain they span (Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990). A flat
 * range is widened first (by 5% of its magnitude, or ±1 at zero).
 */
export function niceTicks(
  min: number,
  max: number,
  count = 5,
): { ticks: number[]; lo: number; hi: number } {
  let lo = min;
  let hi = max;
  if (!(Number.isFinite(lo) && Number.isFinite(hi))) {
    lo = 0;
    hi = 1;
  }
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(lo))) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.05;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
  const start = Math.floor(lo / step + 1e-9) * step;
  const end = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = start; v <= end + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { ticks, lo: start, hi: end };
}

function open(hook: string, title: string, description: string, w: number, h: number): string {
  const id = idOf(hook);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" data-chart="${escapeHtml(hook)}" viewBox="0 0 ${w} ${h}" ` +
    `role="img" aria-labelledby="${id}-t ${id}-d" preserveAspectRatio="xMidYMid meet">` +
    `<title id="${id}-t">${escapeHtml(title)}</title><desc id="${id}-d">${escapeHtml(description)}</desc>`
  );
}

function yAxis(
  ticks: readonly number[],
  toY: (v: number) => number,
  format: (v: number) => string,
  label: string,
  w: number,
  h: number,
  right: number = MARGIN.right,
): string {
  const parts: string[] = ['<g class="axis y">'];
  for (const t of ticks) {
    const y = px(toY(t));
    parts.push(
      `<line x1="${MARGIN.left}" x2="${w - right}" y1="${y}" y2="${y}" stroke="${GRID}"/>`,
      `<text x="${MARGIN.left - 6}" y="${y}" dy="0.32em" text-anchor="end" fill="${TEXT}" font-size="11">${escapeHtml(format(t))}</text>`,
    );
  }
  const midY = px((MARGIN.top + h - MARGIN.bottom) / 2);
  parts.push(
    `<text transform="translate(12 ${midY}) rotate(-90)" text-anchor="middle" fill="${TEXT}" font-size="11">${escapeHtml(label)}</text>`,
    '</g>',
  );
  return parts.join('');
}

/** Finite min and max of the `ys` of `series` (±Infinity when there is none). */
function extent(series: readonly LineSeries[]): [number, number] {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const s of series) {
    for (let i = 0; i < s.ys.length; i++) {
      const v = s.ys[i] as number;
      if (!Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return [min, max];
}

/** The right y axis (ticks, line and rotated label) in the axis colour. */
function rightYAxis(
  rightAxis: NonNullable<LineChartSpec['rightAxis']>,
  rTicks: readonly number[],
  toRightY: (y: number) => number,
  w: number,
  h: number,
  right: number,
): string {
  const color = escapeHtml(rightAxis.color);
  const parts: string[] = ['<g class="axis y right">'];
  for (const t of rTicks) {
    const y = px(toRightY(t));
    parts.push(
      `<line x1="${w - right}" x2="${w - right + 4}" y1="${y}" y2="${y}" stroke="${color}"/>`,
      `<text x="${w - right + 7}" y="${y}" dy="0.32em" text-anchor="start" fill="${color}" font-size="11">${escapeHtml(rightAxis.format(t))}</text>`,
    );
  }
  const midY = px((MARGIN.top + h - MARGIN.bottom) / 2);
  parts.push(
    `<line x1="${w - right}" x2="${w - right}" y1="${MARGIN.top}" y2="${h - MARGIN.bottom}" stroke="${color}"/>`,
    `<text transform="translate(${w - 10} ${midY}) rotate(90)" text-anchor="middle" fill="${color}" font-size="11">${escapeHtml(rightAxis.label)}</text>`,
    '</g>',
  );
  return parts.join('');
}

/** The x axis: baseline, then one tick and label per `xTicks` entry. */
function xAxis(
  xTicks: LineChartSpec['xTicks'],
  toX: (x: number) => number,
  w: number,
  h: number,
  right: number,
): string {
  const parts: string[] = ['<g class="axis x">'];
  const baseY = px(h - MARGIN.bottom);
  parts.push(
    `<line x1="${MARGIN.left}" x2="${w - right}" y1="${baseY}" y2="${baseY}" stroke="${AXIS}"/>`,
  );
  for (const t of xTicks) {
    const x = px(toX(t.value));
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${baseY}" y2="${px(h - MARGIN.bottom + 4)}" stroke="${AXIS}"/>`,
      `<text x="${x}" y="${px(h - MARGIN.bottom + 17)}" text-anchor="middle" fill="${TEXT}" font-size="11">${escapeHtml(t.label)}</text>`,
    );
  }
  parts.push('</g>');
  return parts.join('');
}

/** One series as a polyline (non-finite points skipped) with its label as the hover title. */
function polyline(s: LineSeries, toX: (x: number) => number, yOf: (y: number) => number): string {
  const pts: string[] = [];
  const n = Math.min(s.xs.length, s.ys.length);
  for (let i = 0; i < n; i++) {
    const x = s.xs[i] as number;
    const y = s.ys[i] as number;
    if (Number.isFinite(x) && Number.isFinite(y)) pts.push(`${px(toX(x))},${px(yOf(y))}`);
  }
  const opacity = s.opacity !== undefined && s.opacity < 1 ? ` stroke-opacity="${s.opacity}"` : '';
  return (
    `<polyline data-series="${escapeHtml(s.id)}" points="${pts.join(' ')}" stroke="${escapeHtml(s.color)}" stroke-width="${s.width}"${opacity}>` +
    `<title>${escapeHtml(s.label)}</title></polyline>`
  );
}

/**
 * A line chart of `spec.series` on shared linear axes: horizontal grid lines at nice y ticks,
 * x ticks as given, optional dashed reference lines, one `<polyline data-series="...">` per
 * series (with a `<title>` tooltip). Series points are drawn as given: downsample them first.
 */
export function lineChart(spec: LineChartSpec): string {
  const w = spec.width ?? 960;
  const h = spec.height ?? 300;
  const rightAxis = spec.rightAxis;
  const onRight = (s: LineSeries) => rightAxis !== undefined && s.axis === 'right';
  let [min, max] = extent(spec.series.filter((s) => !onRight(s)));
  for (const r of spec.references ?? []) {
    if (!Number.isFinite(r.y)) continue;
    min = Math.min(min, r.y);
    max = Math.max(max, r.y);
  }
  let [rMin, rMax] = extent(spec.series.filter(onRight));
  if (spec.includeZero) {
    min = Math.min(min, 0);
    max = Math.max(max, 0);
    rMin = Math.min(rMin, 0);
    rMax = Math.max(rMax, 0);
  }
  const left = niceTicks(min, max);
  const ticks = [...left.ticks];
  let { lo, hi } = left;
  const right = rightAxis ? RIGHT_AXIS_MARGIN : MARGIN.right;
  const plotW = w - MARGIN.left - right;
  const plotH = h - MARGIN.top - MARGIN.bottom;

  // Right axis: with includeZero, give the left domain room on each side the right series
  // need, then scale the right domain by one factor so both zeros sit at the same height.
  let rLo = 0;
  let rHi = 1;
  let rTicks: number[] = [];
  if (rightAxis) {
    if (spec.includeZero && Number.isFinite(rMin) && Number.isFinite(rMax)) {
      const step = (ticks[1] ?? hi) - (ticks[0] ?? lo) || 1;
      if (rMin < 0 && lo >= 0) {
        lo -= step;
        ticks.unshift(lo);
      }
      if (rMax > 0 && hi <= 0) {
        hi += step;
        ticks.push(hi);
      }
      const k = Math.max(rMax > 0 ? rMax / hi : 0, rMin < 0 ? rMin / lo : 0) || 1;
      rLo = lo * k;
      rHi = hi * k;
      const eps = 1e-9 * (rHi - rLo);
      rTicks = niceTicks(rLo, rHi).ticks.filter((t) => t >= rLo - eps && t <= rHi + eps);
    } else {
      ({ ticks: rTicks, lo: rLo, hi: rHi } = niceTicks(rMin, rMax));
    }
  }
  const [x0, x1] = spec.xDomain;
  const xSpan = x1 > x0 ? x1 - x0 : 1;
  const toX = (x: number) => MARGIN.left + ((x - x0) / xSpan) * plotW;
  const toY = (y: number) => MARGIN.top + (1 - (y - lo) / (hi - lo)) * plotH;
  const toRightY = (y: number) => MARGIN.top + (1 - (y - rLo) / (rHi - rLo)) * plotH;

  const parts: string[] = [open(spec.hook, spec.title, spec.description, w, h)];
  parts.push(yAxis(ticks, toY, spec.formatY, spec.yAxisLabel, w, h, right));
  if (rightAxis) parts.push(rightYAxis(rightAxis, rTicks, toRightY, w, h, right));
  parts.push(xAxis(spec.xTicks, toX, w, h, right));
  if (lo < 0 && hi > 0) {
    const zy = px(toY(0));
    parts.push(
      `<line class="zero" x1="${MARGIN.left}" x2="${w - right}" y1="${zy}" y2="${zy}" stroke="${AXIS}"/>`,
    );
  }
  for (const r of spec.references ?? []) {
    if (!Number.isFinite(r.y)) continue;
    const y = px(toY(r.y));
    parts.push(
      `<g class="reference"><line x1="${MARGIN.left}" x2="${w - right}" y1="${y}" y2="${y}" stroke="${escapeHtml(r.color)}" stroke-dasharray="6 4"/>`,
      `<text x="${MARGIN.left + 6}" y="${y}" dy="-0.4em" text-anchor="start" fill="${escapeHtml(r.color)}" font-size="11" stroke="#fff" stroke-width="3" paint-order="stroke">${escapeHtml(r.label)}</text></g>`,
    );
  }
  parts.push('<g class="series" fill="none" stroke-linejoin="round" stroke-linecap="round">');
  for (const s of spec.series) parts.push(polyline(s, toX, onRight(s) ? toRightY : toY));
  parts.push('</g></svg>');
  return parts.join('');
}

/**
 * A bar chart around a zero baseline: green bars up for positive values, red bars down for
 * negative ones, each labelled with its formatted value, all in one
 * `<g data-series="...">` (one `<rect data-value>` per bar, with a `<title>` tooltip).
 */
export function barChart(spec: BarChartSpec): string {
  const w = spec.width ?? 960;
  const h = spec.height ?? 260;
  let min = 0;
  let max = 0;
  for (const b of spec.bars) {
    if (!Number.isFinite(b.value)) continue;
    min = Math.min(min, b.value);
    max = Math.max(max, b.value);
  }
  // Room for the value labels above/below the bars.
  const pad = (max - min) * 0.12;
  const { ticks, lo, hi } = niceTicks(min < 0 ? min - pad : min, max > 0 ? max + pad : max, 4);
  const plotW = w - MARGIN.left - MARGIN.right;
  const plotH = h - MARGIN.top - MARGIN.bottom;
  const toY = (y: number) => MARGIN.top + (1 - (y - lo) / (hi - lo)) * plotH;
  const slot = plotW / Math.max(1, spec.bars.length);
  const barW = Math.min(80, slot * 0.6);

  const parts: string[] = [open(spec.hook, spec.title, spec.description, w, h)];
  parts.push(yAxis(ticks, toY, spec.formatValue, spec.yAxisLabel, w, h));
  const zy = toY(0);
  parts.push(`<g data-series="${escapeHtml(spec.seriesId)}">`);
  spec.bars.forEach((b, i) => {
    const cx = MARGIN.left + slot * (i + 0.5);
    const v = Number.isFinite(b.value) ? b.value : 0;
    const y = toY(v);
    const top = Math.min(y, zy);
    const height = Math.max(Math.abs(y - zy), v === 0 ? 0 : 1);
    const color = v < 0 ? NEGATIVE : POSITIVE;
    parts.push(
      `<rect data-value="${escapeHtml(String(b.value))}" x="${px(cx - barW / 2)}" y="${px(top)}" width="${px(barW)}" height="${px(height)}" fill="${color}" rx="2">` +
        `<title>${escapeHtml(b.title)}</title></rect>`,
      `<text x="${px(cx)}" y="${px(v < 0 ? top + height + 13 : top - 5)}" text-anchor="middle" fill="${color}" font-size="11">${escapeHtml(spec.formatValue(b.value))}</text>`,
      `<text x="${px(cx)}" y="${px(h - MARGIN.bottom + 17)}" text-anchor="middle" fill="${TEXT}" font-size="11">${escapeHtml(b.label)}</text>`,
    );
  });
  parts.push('</g>');
  parts.push(
    `<line class="zero" x1="${MARGIN.left}" x2="${w - MARGIN.right}" y1="${px(zy)}" y2="${px(zy)}" stroke="${AXIS}"/>`,
  );
  parts.push('</svg>');
  return parts.join('');
}
