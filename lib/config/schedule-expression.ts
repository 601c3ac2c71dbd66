/**
 * Synth-time validation of EventBridge Scheduler expressions and IANA time zones, so a typo
 * in a per-environment config fails `cdk synth` (naming the field) instead of failing the
 * CloudFormation deployment twenty minutes later.
 *
 * Grammar source: "Schedule types on EventBridge Scheduler" (AWS EventBridge Scheduler User
 * Guide, sections "Cron-based schedules", "Rate-based schedules", "One-time schedules"):
 * - `cron(minutes hours day-of-month month day-of-week year)`, six fields; wildcards
 *   `, - * / ? L W #`; one of day-of-month / day-of-week must be `?`.
 * - `rate(value unit)`: value a positive integer, unit minute|minutes|hour|hours|day|days
 *   (singular when value is 1).
 * - `at(yyyy-mm-ddThh:mm:ss)`.
 * A small hand-written validator rather than `cron-parser` (a dependency, used by the local
 * scheduler to evaluate firings): cron-parser takes five-field Unix cron with `*` for "no
 * specific value", not Scheduler's six fields with `?` and a year, so it would accept
 * expressions Scheduler refuses. It errs on the side of rejecting exotic forms (for example
 * wrapping ranges such as `FRI-MON`).
 */
import { ValidationError } from '../../functions/core/errors.js';

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const MONTH_NAMES = [
  'JAN',
  'FEB',
  'MAR',
  'APR',
  'MAY',
  'JUN',
  'JUL',
  'AUG',
  'SEP',
  'OCT',
  'NOV',
  'DEC',
] as const;
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

const FIELDS: readonly CronField[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTH_NAMES },
  { name: 'day-of-week', min: 1, max: 7, names: DAY_NAMES },
  { name: 'year', min: 1970, max: 2199 },
];

/** Parses one numeric or named value of a field; returns undefined when it is neither. */
function parseValue(token: string, field: CronField): number | undefined {
  if (/^\d+$/.test(token)) {
    const n = Number(token);
    return n >= field.min && n <= field.max ? n : undefined;
  }
  const index = field.names?.indexOf(token.toUpperCase()) ?? -1;
  return index >= 0 ? index + field.min : undefined;
}

/** Returns a reason when `item` (one comma-separated element) is invalid for `field`. */
function checkItem(item: string, field: CronField): string | undefined {
  const bad = (why: string) => `${field.name} field "${item}": ${why}`;
  if (field.name === 'day-of-month' && /^(L|LW|\d{1,2}W)$/i.test(item)) {
    if (/^\d/.test(item) && parseValue(item.slice(0, -1), field) === undefined) {
      return bad(`day must be ${field.min}-${field.max}`);
    }
    return undefined;
  }
  if (field.name === 'day-of-week') {
    const hash = /^([A-Za-z0-9]+)#(\d)$/.exec(item);
    if (hash) {
      const [, day = '', nth = ''] = hash;
      if (parseValue(day, field) === undefined) return bad('unknown day of week');
      if (Number(nth) < 1 || Number(nth) > 5) return bad('the # instance must be 1-5');
      return undefined;
    }
    const last = /^([A-Za-z0-9]*)L$/.exec(item);
    if (last) {
      const [, day = ''] = last;
      if (day !== '' && parseValue(day, field) === undefined) return bad('unknown day of week');
      return undefined;
    }
  }
  const [base = '', step, ...extra] = item.split('/');
  if (extra.length > 0) return bad('more than one "/"');
  if (step !== undefined) {
    if (!/^\d+$/.test(step) || Number(step) < 1 || Number(step) > field.max) {
      return bad(`step must be an integer 1-${field.max}`);
    }
  }
  if (base === '*') return undefined;
  const range = base.split('-');
  if (range.length === 1) {
    return parseValue(base, field) === undefined
      ? bad(
          `value must be ${field.min}-${field.max}${field.names ? ` or ${field.names[0]}-${field.names.at(-1)}` : ''}`,
        )
      : undefined;
  }
  if (range.length !== 2) return bad('malformed range');
  const from = parseValue(range[0] ?? '', field);
  const to = parseValue(range[1] ?? '', field);
  if (from === undefined || to === undefined) {
    return bad(`range bounds must be ${field.min}-${field.max}`);
  }
  if (from > to) return bad('range start is after range end (wrapping ranges are not accepted)');
  return undefined;
}

function checkCron(body: string): string | undefined {
  const parts = body.split(' ');
  if (parts.length !== 6 || parts.some((p) => p === '')) {
    return `cron needs exactly 6 space-separated fields (minutes hours day-of-month month day-of-week year), got ${parts.filter((p) => p !== '').length}`;
  }
  const dom = parts[2];
  const dow = parts[4];
  if ((dom === '?') === (dow === '?')) {
    return 'exactly one of day-of-month and day-of-week must be "?"';
  }
  for (const [i, field] of FIELDS.entries()) {
    const value = parts[i] ?? '';
    if (value === '?') {
      if (field.name !== 'day-of-month' && field.name !== 'day-of-week') {
        return `${field.name} field: "?" is only allowed in day-of-month or day-of-week`;
      }
      continue;
    }
    for (const item of value.split(',')) {
      if (item === '') return `${field.name} field "${value}": empty list element`;
      const reason = checkItem(item, field);
      if (reason) return reason;
    }
  }
  return undefined;
}

function checkRate(body: string): string | undefined {
  const match = /^(\d+) (minute|minutes|hour|hours|day|days)$/.exec(body);
  if (!match) return 'rate must look like "rate(5 minutes)" (units: minute(s), hour(s), day(s))';
  const value = Number(match[1]);
  const unit = match[2] ?? '';
  if (value < 1) return 'rate value must be a positive integer';
  if (value === 1 && unit.endsWith('s'))
    return `rate of 1 needs a singular unit ("1 ${unit.slice(0, -1)}")`;
  if (value > 1 && !unit.endsWith('s'))
    return `rate above 1 needs a plural unit ("${value} ${unit}s")`;
  return undefined;
}

function checkAt(body: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(body)) {
    return 'at() needs yyyy-mm-ddThh:mm:ss';
  }
  const date = new Date(`${body}Z`);
  if (Number.isNaN(date.getTime()) || date.toISOString().slice(0, 19) !== body) {
    return `at(${body}) is not a real date/time`;
  }
  return undefined;
}

/**
 * Checks an EventBridge Scheduler schedule expression.
 *
 * @param expression e.g. `cron(35 9 ? * MON-FRI *)`, `rate(3 hours)`, `at(2026-01-02T09:35:00)`.
 * @returns `undefined` when valid, otherwise a human-readable reason (never throws).
 */
export function scheduleExpressionProblem(expression: string): string | undefined {
  const match = /^(cron|rate|at)\((.*)\)$/.exec(expression);
  if (!match) return 'expected cron(...), rate(...) or at(...)';
  const [, kind, body = ''] = match;
  if (kind === 'cron') return checkCron(body);
  if (kind === 'rate') return checkRate(body);
  return checkAt(body);
}

/** Zones Node's ICU knows (canonical IANA names) plus the UTC spellings ICU leaves out. */
const KNOWN_TIME_ZONES: ReadonlySet<string> = new Set([
  ...Intl.supportedValuesOf('timeZone'),
  'UTC',
  'Etc/UTC',
]);

/**
 * True when `zone` is a canonical IANA time zone name (as listed by
 * `Intl.supportedValuesOf('timeZone')`, plus `UTC`), e.g. `America/New_York`.
 * Aliases such as `US/Eastern` are rejected on purpose: use the canonical name.
 */
export function isKnownTimeZone(zone: string): boolean {
  return KNOWN_TIME_ZONES.has(zone);
}

/**
 * The EventBridge Scheduler cron expression that fires at a wall-clock time on weekdays
 * (Monday to Friday), e.g. `10:00` -> `cron(0 10 ? * MON-FRI *)`. The time zone is the
 * schedule's own (`ScheduleExpressionTimezone`), not part of the expression.
 *
 * @param hhmm `HH:mm`, 24-hour clock (00:00..23:59).
 * @throws ValidationError (field `hhmm`) when `hhmm` is not a valid `HH:mm` time.
 */
export function weekdayCronAt(hhmm: string): string {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!match) throw new ValidationError('hhmm', `"${hhmm}" is not a HH:mm (24-hour) time`);
  const [, hh = '0', mm = '0'] = match;
  return `cron(${Number(mm)} ${Number(hh)} ? * MON-FRI *)`;
}
