/**
 * Curve downsampling for the report's charts. A 1-minute US equity session has 390 points per
 * series, a 24-hour crypto session 1,440; 300 agents × 3 days of full curves would make the
 * file several megabytes for no visible gain (a chart is < 1,000 px wide). Each series is cut
 * to at most {@link MAX_POINTS_PER_SERIES} points by min/max bucketing: the first and last
 * points are kept, the interior is split into equal index buckets, and each bucket keeps its
 * lowest and highest point (in index order). Peaks, troughs and so the drawn drawdowns survive,
 * unlike with plain decimation (every k-th point). The idea is the M4 aggregation of Jugel et
 * al., "M4: A Visualization-Oriented Time Series Data Aggregation", PVLDB 7(10), 2014, without
 * the per-bucket first/last points.
 */
import { ValidationError } from '../errors.js';

/** Most points one chart series keeps. */
export const MAX_POINTS_PER_SERIES = 400;

/**
 * Indices (ascending, no duplicates) of the points of `values` to draw: all of them when there
 * are at most `maxPoints`, else the first, the last, and the minimum and maximum of each of
 * `floor((maxPoints − 2) / 2)` equal index buckets of the interior. The result has at most
 * `maxPoints` entries and holds an index of the series' minimum and of its maximum (among
 * finite values; non-finite values are never picked as a bucket's min or max).
 *
 * @throws ValidationError('maxPoints') when `maxPoints` is not an integer >= 4.
 */
export function downsampleIndices(
  values: ArrayLike<number>,
  maxPoints: number = MAX_POINTS_PER_SERIES,
): number[] {
  if (!Number.isInteger(maxPoints) || maxPoints < 4) {
    throw new ValidationError('maxPoints', `must be an integer >= 4, got ${maxPoints}`);
  }
  const n = values.length;
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  const interior = n - 2;
  const buckets = Math.floor((maxPoints - 2) / 2);
  const out: number[] = [0];
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor((b * interior) / buckets);
    const end = 1 + Math.floor(((b + 1) * interior) / buckets);
    let lo = -1;
    let hi = -1;
    for (let i = start; i < end; i++) {
      const v = values[i] as number;
      if (!Number.isFinite(v)) continue;
      if (lo < 0 || v < (values[lo] as number)) lo = i;
      if (hi < 0 || v > (values[hi] as number)) hi = i;
    }
    if (lo < 0) continue;
    if (lo === hi) out.push(lo);
    else out.push(Math.min(lo, hi), Math.max(lo, hi));
  }
  out.push(n - 1);
  return out;
}
