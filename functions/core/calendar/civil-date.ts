/**
 * Civil (calendar) dates as whole day numbers: days since 1970-01-01 in the proleptic
 * Gregorian calendar. Pure integer arithmetic over `Date.UTC`, no time zone involved, so the
 * weekday and "n-th Monday of the month" rules of the market calendar cannot be shifted by a
 * DST change or by the host's zone.
 */
import { ValidationError } from '../errors.js';

/** A civil date, `YYYY-MM-DD`. */
export type IsoDate = string;

const DAY_MS = 86_400_000;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Day of the week, 0 = Sunday .. 6 = Saturday. */
export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6;
export const SUNDAY = 0;
export const MONDAY = 1;
export const THURSDAY = 4;
export const FRIDAY = 5;
export const SATURDAY = 6;

/** Day number of a year/month(1-12)/day. */
export function dayNumber(year: number, month: number, day: number): number {
  return Math.floor(Date.UTC(year, month - 1, day) / DAY_MS);
}

/**
 * Parses `YYYY-MM-DD` into a day number.
 * @throws ValidationError(field) when the string is not a real calendar date.
 */
export function parseIsoDate(value: unknown, field: string): number {
  const m = typeof value === 'string' ? ISO_DATE.exec(value) : null;
  if (!m) throw new ValidationError(field, `must be a date YYYY-MM-DD, got ${String(value)}`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const n = dayNumber(y, mo, d);
  if (formatDay(n) !== value) {
    throw new ValidationError(field, `must be a real calendar date, got ${value}`);
  }
  return n;
}

/** `YYYY-MM-DD` of a day number. */
export function formatDay(day: number): IsoDate {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Year, month (1-12) and day of month of a day number. */
export function civilOf(day: number): { year: number; month: number; day: number } {
  const d = new Date(day * DAY_MS);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Weekday of a day number (1970-01-01 was a Thursday). */
export function weekdayOf(day: number): Weekday {
  return ((((day + THURSDAY) % 7) + 7) % 7) as Weekday;
}

/** Day number of the `n`-th (1-based) `weekday` of a month. */
export function nthWeekday(year: number, month: number, weekday: Weekday, n: number): number {
  const first = dayNumber(year, month, 1);
  const offset = (weekday - weekdayOf(first) + 7) % 7;
  return first + offset + (n - 1) * 7;
}

/** Day number of the last `weekday` of a month. */
export function lastWeekday(year: number, month: number, weekday: Weekday): number {
  const last = dayNumber(year, month + 1, 0);
  return last - ((weekdayOf(last) - weekday + 7) % 7);
}

/**
 * Easter Sunday of a Gregorian year, by the "Anonymous Gregorian algorithm" (published in
 * Nature, 1876; known as the Meeus/Jones/Butcher algorithm: Jean Meeus, "Astronomical
 * Algorithms", 2nd ed., 1998, chapter 8). Valid for every Gregorian year.
 */
export function easterSunday(year: number): number {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return dayNumber(year, month, day);
}
