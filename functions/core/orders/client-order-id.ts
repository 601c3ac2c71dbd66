/**
 * Deterministic Alpaca `client_order_id`s for promotion orders.
 *
 * Alpaca rules (POST /v2/orders): `client_order_id` is at most 48 characters and unique per
 * account **forever** (even after the order is canceled; a duplicate is refused with 422). So:
 * - a retry of the same submission (timeout, 5xx, 429) reuses the SAME id, which makes the
 *   submit idempotent: a 422 duplicate means "already submitted", look it up with
 *   `GET /v2/orders:by_client_order_id`;
 * - a new submission after the previous one ended in a terminal reject (or was canceled and
 *   must be re-sent) uses `attempt + 1` ({@link nextAttemptClientOrderId}).
 *
 * Encoding (version 1), always ≤ 48 characters of `[A-Za-z0-9_-]`:
 *
 *   `sgp_<promotionId>_<leg>_<attempt>`  when promotionId matches `[A-Za-z0-9-]{1,26}`
 *                                        (a ULID is exactly 26 chars, so it is kept verbatim)
 *   `sgh_<hash26>_<leg>_<attempt>`       otherwise, hash26 = the first 26 lowercase hex digits
 *                                        of SHA-256(UTF-8 promotionId)
 *
 * with `leg` matching `[A-Za-z0-9-]{1,12}` (e.g. `entry`, `exit`, `L0`) and `attempt` a decimal
 * integer 1..9999 without leading zeros. `_` only ever separates fields, so parsing is
 * unambiguous; the `sgp`/`sgh` tag keeps verbatim and hashed keys from ever colliding.
 * Longest id: 3 + 1 + 26 + 1 + 12 + 1 + 4 = 48.
 *
 * Collision reasoning for hashed keys: 26 hex digits keep 104 bits of SHA-256. By the birthday
 * bound, n distinct long promotion ids collide with probability ≈ n² / 2¹⁰⁵: for a million
 * promotions ≈ 2.5·10⁻²⁰, negligible. Verbatim keys are injective (distinct ids stay distinct).
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../errors.js';

/** Alpaca's limit on `client_order_id` length, characters. */
export const CLIENT_ORDER_ID_MAX_LENGTH = 48;
/** Max characters of the promotion key (verbatim id or hash). */
export const PROMOTION_KEY_LENGTH = 26;
/** Max characters of a leg name. */
export const LEG_MAX_LENGTH = 12;
/** Highest attempt number that fits the encoding. */
export const MAX_ATTEMPT = 9999;

const VERBATIM_RE = /^[A-Za-z0-9-]{1,26}$/;
const LEG_RE = /^[A-Za-z0-9-]{1,12}$/;
const ATTEMPT_RE = /^[1-9][0-9]{0,3}$/;
const HASH_RE = /^[0-9a-f]{26}$/;

/** What identifies one order of a promotion. */
export interface ClientOrderIdParts {
  /** The promotion's id (a ULID in practice; any non-empty string is accepted). */
  readonly promotionId: string;
  /** Which order of the promotion: `[A-Za-z0-9-]{1,12}`, e.g. `entry`, `exit`. */
  readonly leg: string;
  /** Submission attempt, integer 1..9999; +1 only after a terminal reject. */
  readonly attempt: number;
}

/** A parsed id. For hashed ids the promotion id itself cannot be recovered, only its key. */
export interface ParsedClientOrderId {
  /** The promotion id (verbatim) or its 26-hex-digit hash. */
  readonly promotionKey: string;
  /** True when `promotionKey` is a hash of the promotion id. */
  readonly hashed: boolean;
  readonly leg: string;
  readonly attempt: number;
}

/**
 * The key a promotion id is encoded as: the id itself when it is short and safe, else its
 * truncated SHA-256 (see the module JSDoc).
 *
 * @throws ValidationError when `promotionId` is empty.
 */
export function promotionKey(promotionId: string): { key: string; hashed: boolean } {
  if (promotionId.length === 0) throw new ValidationError('promotionId', 'must not be empty');
  if (VERBATIM_RE.test(promotionId)) return { key: promotionId, hashed: false };
  const hex = createHash('sha256').update(promotionId, 'utf8').digest('hex');
  return { key: hex.slice(0, PROMOTION_KEY_LENGTH), hashed: true };
}

function checkLegAndAttempt(leg: string, attempt: number): void {
  if (!LEG_RE.test(leg)) {
    throw new ValidationError('leg', `must match [A-Za-z0-9-]{1,${LEG_MAX_LENGTH}}, got "${leg}"`);
  }
  if (!(Number.isInteger(attempt) && attempt >= 1 && attempt <= MAX_ATTEMPT)) {
    throw new ValidationError('attempt', `must be an integer 1..${MAX_ATTEMPT}, got ${attempt}`);
  }
}

function encode(key: string, hashed: boolean, leg: string, attempt: number): string {
  return `${hashed ? 'sgh' : 'sgp'}_${key}_${leg}_${attempt}`;
}

/**
 * Deterministic `client_order_id` for one promotion order: same parts, same id, always
 * ≤ 48 chars of `[A-Za-z0-9_-]`; different leg or attempt, different id.
 *
 * @throws ValidationError on an empty promotion id, a malformed leg, or an attempt outside
 *   1..9999.
 */
export function clientOrderId(parts: ClientOrderIdParts): string {
  checkLegAndAttempt(parts.leg, parts.attempt);
  const { key, hashed } = promotionKey(parts.promotionId);
  return encode(key, hashed, parts.leg, parts.attempt);
}

/**
 * Parses an id made by {@link clientOrderId}.
 *
 * @throws ValidationError when the string is not a version-1 stagegate id.
 */
export function parseClientOrderId(id: string): ParsedClientOrderId {
  const fail = (): never => {
    throw new ValidationError('clientOrderId', `not a stagegate client_order_id: "${id}"`);
  };
  if (id.length > CLIENT_ORDER_ID_MAX_LENGTH) fail();
  const fields = id.split('_');
  if (fields.length !== 4) fail();
  const [tag = '', key = '', leg = '', attemptText = ''] = fields;
  const hashed = tag === 'sgh';
  if (!hashed && tag !== 'sgp') fail();
  if (!(hashed ? HASH_RE : VERBATIM_RE).test(key)) fail();
  if (!LEG_RE.test(leg) || !ATTEMPT_RE.test(attemptText)) fail();
  return { promotionKey: key, hashed, leg, attempt: Number(attemptText) };
}

/**
 * The id of the next submission attempt of the same promotion leg (after a terminal reject).
 *
 * @throws ValidationError when `id` does not parse or its attempt is already 9999.
 */
export function nextAttemptClientOrderId(id: string): string {
  const p = parseClientOrderId(id);
  checkLegAndAttempt(p.leg, p.attempt + 1);
  return encode(p.promotionKey, p.hashed, p.leg, p.attempt + 1);
}
