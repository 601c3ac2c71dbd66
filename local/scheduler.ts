/**
 * The local stand-in for EventBridge Scheduler: evaluates the SAME schedule expressions the
 * CDK app deploys (`cron(...)` / `rate(...)` with a time zone) over a simulated time range and
 * returns every firing in time order. Cron evaluation is done by the `cron-parser` library.
 *
 * EventBridge cron has six fields (`min hour day-of-month month day-of-week year`), `?` for
 * "no specific value" and day-of-week 1-7 = SUN-SAT; cron-parser takes five fields with `*`
 * and 0-6 = SUN-SAT, so expressions are translated field by field (names such as MON-FRI
 * pass through) and the year field is applied as a filter.
 */
import { CronExpressionParser } from 'cron-parser';

export interface ScheduleSpec {
  /** What fires, e.g. `cohort-start`. */
  readonly name: string;
  /** EventBridge Scheduler expression: `cron(...)` or `rate(N minutes|hours|days)`. */
  readonly expression: string;
  /** IANA zone the cron is evaluated in (EventBridge `ScheduleExpressionTimezone`). */
  readonly timezone: string;
}

export interface Firing {
  readonly name: string;
  /** Epoch ms UTC. */
  readonly atMs: number;
}

/** Error for an expression this evaluator cannot read; names the schedule. */
export class ScheduleExpressionError extends Error {
  constructor(
    readonly schedule: string,
    message: string,
  ) {
    super(`schedule ${schedule}: ${message}`);
    this.name = 'ScheduleExpressionError';
  }
}

function translateDayOfWeek(field: string): string {
  // EventBridge 1-7 (SUN=1) -> cron 0-6 (SUN=0); names and wildcards unchanged.
  return field.replace(/\b([1-7])\b/g, (d) => String(Number(d) - 1));
}

/** Every firing of `spec` with `fromMs <= t < toMs`. */
export function firingsBetween(spec: ScheduleSpec, fromMs: number, toMs: number): Firing[] {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(spec.expression);
  if (rate) {
    const unit = rate[2]?.startsWith('minute')
      ? 60_000
      : rate[2]?.startsWith('hour')
        ? 3_600_000
        : 86_400_000;
    const step = Number(rate[1]) * unit;
    const out: Firing[] = [];
    for (let t = fromMs + step; t < toMs; t += step) out.push({ name: spec.name, atMs: t });
    return out;
  }
  const cron = /^cron\((.+)\)$/.exec(spec.expression);
  const fields = cron?.[1]?.trim().split(/\s+/);
  if (fields?.length !== 6) {
    throw new ScheduleExpressionError(
      spec.name,
      `not an EventBridge cron or rate expression: ${spec.expression}`,
    );
  }
  const [min, hour, dom, month, dow, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const expr = [
    min,
    hour,
    dom === '?' ? '*' : dom,
    month,
    dow === '?' ? '*' : translateDayOfWeek(dow),
  ].join(' ');
  const it = CronExpressionParser.parse(expr, {
    currentDate: new Date(fromMs - 1),
    endDate: new Date(toMs),
    tz: spec.timezone,
  });
  const out: Firing[] = [];
  while (it.hasNext()) {
    const t = it.next().getTime();
    if (t >= toMs) break;
    if (year !== '*' && !year.split(',').includes(String(new Date(t).getUTCFullYear()))) continue;
    out.push({ name: spec.name, atMs: t });
  }
  return out;
}

/** All firings of all schedules in `[fromMs, toMs)`, in time order (ties: spec order). */
export function timeline(specs: readonly ScheduleSpec[], fromMs: number, toMs: number): Firing[] {
  return specs
    .flatMap((spec, i) => firingsBetween(spec, fromMs, toMs).map((f) => ({ ...f, order: i })))
    .sort((a, b) => a.atMs - b.atMs || a.order - b.order)
    .map(({ name, atMs }) => ({ name, atMs }));
}
