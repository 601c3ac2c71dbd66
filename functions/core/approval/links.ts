/**
 * Signed, expiring approval links and the stateless CSRF token of the confirmation form.
 *
 * Link: `<baseUrl>/approvals/<approvalId>?exp=<epoch s>&sig=<sig>` with
 * `sig = base64url(HMAC-SHA256(key, "v1:<approvalId>:<exp>"))` (RFC 2104 HMAC, RFC 4648 §5
 * base64url without padding). The link carries ONLY the opaque id, the expiry and the
 * signature: never the Step Functions task token or anything else secret. It is a bearer
 * capability for "show me this request", bounded by its expiry; deciding additionally needs
 * an authenticated approver on the allow-list and succeeds once (see decide.ts).
 *
 * CSRF token of the confirmation form: `base64url(HMAC-SHA256(key, "csrf:<approvalId>:<exp>"))`.
 * It is stateless (nothing stored) and bound to one approval and its expiry; the domain prefix
 * (`v1:` vs `csrf:`) keeps it distinct from the link signature, so neither can stand in for
 * the other. It is only ever written into the page the GET renders, so a cross-site form (which
 * cannot read that page under the same-origin policy) cannot produce it.
 *
 * All comparisons are constant-time (`crypto.timingSafeEqual`) over equal-length strings.
 */
import { createHmac, randomBytes as nodeRandomBytes, timingSafeEqual } from 'node:crypto';
import { ValidationError } from '../errors.js';
import { APPROVAL_ID_PATTERN } from './types.js';

/** Secret key of the approval links, CSRF tokens and (via HKDF) the task-token cipher. */
export type ApprovalKey = Uint8Array;

/** Shortest accepted key, bytes (the HMAC-SHA256 output size; RFC 2104 §3). */
export const MIN_APPROVAL_KEY_BYTES = 32;

/** Length of a base64url HMAC-SHA256 (32 bytes, no padding), characters. */
const SIG_CHARS = 43;
const SIG_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const EXP_PATTERN = /^[1-9]\d{0,11}$/;

/** Source of random bytes (node:crypto `randomBytes` by default; tests inject their own). */
export type RandomBytes = (size: number) => Uint8Array;

/**
 * Validates an approval key.
 *
 * @throws ValidationError (field `approvalKey`) when shorter than {@link MIN_APPROVAL_KEY_BYTES}.
 */
export function assertApprovalKey(key: ApprovalKey): void {
  if (!(key instanceof Uint8Array) || key.byteLength < MIN_APPROVAL_KEY_BYTES) {
    throw new ValidationError(
      'approvalKey',
      `must be at least ${MIN_APPROVAL_KEY_BYTES} bytes, got ${key?.byteLength ?? 0}`,
    );
  }
}

/**
 * Decodes an approval key from its base64 or base64url text (how secrets are stored).
 *
 * @throws ValidationError (field `approvalKey`) when it is not base64 or decodes to fewer than
 *   32 bytes.
 */
export function approvalKeyFromSecret(secret: string): ApprovalKey {
  const text = secret.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    throw new ValidationError('approvalKey', 'must be base64 or base64url text');
  }
  const key = new Uint8Array(Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
  assertApprovalKey(key);
  return key;
}

/**
 * A new opaque approval id: 128 random bits as base64url (22 characters).
 *
 * @param randomBytes injected random source (default node:crypto `randomBytes`).
 * @throws ValidationError when the source returns fewer than 16 bytes.
 */
export function newApprovalId(randomBytes: RandomBytes = nodeRandomBytes): string {
  const bytes = randomBytes(16);
  if (bytes.byteLength < 16) {
    throw new ValidationError('randomBytes', `returned ${bytes.byteLength} bytes, need 16`);
  }
  return Buffer.from(bytes.subarray(0, 16)).toString('base64url');
}

/** Link expiry (epoch seconds, UTC) for an instant in epoch ms: floor(ms / 1000). */
export function expFromMs(epochMs: number): number {
  return Math.floor(epochMs / 1000);
}

function hmacBase64Url(key: ApprovalKey, message: string): string {
  assertApprovalKey(key);
  return createHmac('sha256', key).update(message, 'utf8').digest('base64url');
}

/** Constant-time equality of two strings of the same public length. */
function safeEqual(expected: string, provided: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(provided, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

function assertLinkParts(approvalId: string, exp: number): void {
  if (!APPROVAL_ID_PATTERN.test(approvalId)) {
    throw new ValidationError('approvalId', 'must be 16-64 characters [A-Za-z0-9_-]');
  }
  if (!(Number.isSafeInteger(exp) && exp > 0 && exp < 1e12)) {
    throw new ValidationError('exp', `must be a positive integer epoch second, got ${exp}`);
  }
}

/**
 * The link signature `base64url(HMAC-SHA256(key, "v1:<approvalId>:<exp>"))` (43 characters).
 *
 * @param exp expiry, epoch seconds UTC.
 * @throws ValidationError on a malformed id, expiry or a short key.
 */
export function approvalLinkSignature(approvalId: string, exp: number, key: ApprovalKey): string {
  assertLinkParts(approvalId, exp);
  return hmacBase64Url(key, `v1:${approvalId}:${exp}`);
}

/** The three parts a link carries. */
export interface ApprovalLinkParts {
  readonly approvalId: string;
  /** Expiry, epoch seconds UTC. */
  readonly exp: number;
  /** base64url HMAC-SHA256, 43 characters. */
  readonly sig: string;
}

/** A signed link and its parts. */
export interface ApprovalLink extends ApprovalLinkParts {
  /** `<baseUrl>/approvals/<approvalId>?exp=<exp>&sig=<sig>`. */
  readonly url: string;
}

/**
 * Builds the signed approval link.
 *
 * @param input.baseUrl `http(s)` origin and optional path prefix of the approval API (e.g.
 *   `https://abc.execute-api.us-east-1.amazonaws.com/prod`); trailing slashes are dropped.
 * @param input.exp expiry, epoch seconds UTC (use the approval's own expiry).
 * @throws ValidationError when the base URL is not http(s), or the id / expiry / key are
 *   malformed.
 */
export function buildApprovalLink(
  input: { readonly baseUrl: string; readonly approvalId: string; readonly exp: number },
  key: ApprovalKey,
): ApprovalLink {
  let base: URL;
  try {
    base = new URL(input.baseUrl);
  } catch {
    throw new ValidationError('baseUrl', `is not a URL: ${input.baseUrl}`);
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') {
    throw new ValidationError('baseUrl', `must be http(s), got ${base.protocol}`);
  }
  if (base.search || base.hash) {
    throw new ValidationError('baseUrl', 'must not carry a query or fragment');
  }
  const sig = approvalLinkSignature(input.approvalId, input.exp, key);
  const prefix = base.href.replace(/\/+$/, '');
  const url = `${prefix}/approvals/${input.approvalId}?exp=${input.exp}&sig=${sig}`;
  return { approvalId: input.approvalId, exp: input.exp, sig, url };
}

/** Why a link does not verify. */
export type LinkError = 'tampered' | 'expired' | 'malformed';

/** Result of {@link verifyApprovalLink}. */
export type LinkVerification =
  | { readonly ok: true; readonly approvalId: string; readonly exp: number }
  | { readonly ok: false; readonly error: LinkError };

/** Raw link parts as they arrive (path parameter and query string, unvalidated). */
export interface RawLinkParts {
  readonly approvalId?: unknown;
  readonly exp?: unknown;
  readonly sig?: unknown;
}

/**
 * Verifies a link's parts, in this order: shape (`malformed`: id not 16-64 `[A-Za-z0-9_-]`,
 * exp not a positive integer of at most 12 digits, sig not 43 base64url characters), then the
 * signature in constant time (`tampered`: any change to id, exp or sig), then the expiry
 * (`expired` when `nowMs >= exp × 1000`). A link with a forged expiry is therefore reported
 * as tampered, never as expired.
 *
 * @param nowMs current time, epoch ms UTC (from the Clock port).
 * @throws ValidationError only when the key itself is too short (a configuration error).
 */
export function verifyApprovalLink(
  input: RawLinkParts,
  key: ApprovalKey,
  nowMs: number,
): LinkVerification {
  assertApprovalKey(key);
  const { approvalId, sig } = input;
  const expText = typeof input.exp === 'number' ? String(input.exp) : input.exp;
  if (
    typeof approvalId !== 'string' ||
    !APPROVAL_ID_PATTERN.test(approvalId) ||
    typeof expText !== 'string' ||
    !EXP_PATTERN.test(expText) ||
    typeof sig !== 'string' ||
    !SIG_PATTERN.test(sig)
  ) {
    return { ok: false, error: 'malformed' };
  }
  const exp = Number(expText);
  const expected = hmacBase64Url(key, `v1:${approvalId}:${exp}`);
  if (expected.length !== SIG_CHARS || !safeEqual(expected, sig)) {
    return { ok: false, error: 'tampered' };
  }
  if (!(Number.isFinite(nowMs) && nowMs < exp * 1000)) return { ok: false, error: 'expired' };
  return { ok: true, approvalId, exp };
}

/**
 * Extracts the raw parts of an approval link URL (`.../approvals/<id>?exp=&sig=`), without
 * validating them (pass the result to {@link verifyApprovalLink}). Unparseable URLs yield
 * empty parts, which then verify as `malformed`.
 */
export function parseApprovalLinkUrl(url: string): {
  approvalId?: string;
  exp?: string;
  sig?: string;
} {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return {};
  }
  const match = /\/approvals\/([^/]+)\/?$/.exec(parsed.pathname);
  const out: { approvalId?: string; exp?: string; sig?: string } = {};
  if (match?.[1]) out.approvalId = decodeURIComponent(match[1]);
  const exp = parsed.searchParams.get('exp');
  const sig = parsed.searchParams.get('sig');
  if (exp !== null) out.exp = exp;
  if (sig !== null) out.sig = sig;
  return out;
}

/**
 * CSRF token of the confirmation form: `base64url(HMAC-SHA256(key, "csrf:<approvalId>:<exp>"))`.
 *
 * @throws ValidationError on a malformed id, expiry or a short key.
 */
export function approvalCsrfToken(approvalId: string, exp: number, key: ApprovalKey): string {
  assertLinkParts(approvalId, exp);
  return hmacBase64Url(key, `csrf:${approvalId}:${exp}`);
}

/**
 * Checks a submitted CSRF token against the approval it claims to protect, in constant time.
 * False for anything that is not the exact token of this `approvalId` and `exp`.
 */
export function verifyApprovalCsrfToken(
  input: { readonly approvalId: string; readonly exp: number; readonly csrf: unknown },
  key: ApprovalKey,
): boolean {
  if (typeof input.csrf !== 'string' || !SIG_PATTERN.test(input.csrf)) return false;
  try {
    return safeEqual(approvalCsrfToken(input.approvalId, input.exp, key), input.csrf);
  } catch (err) {
    if (err instanceof ValidationError && err.field !== 'approvalKey') return false;
    throw err;
  }
}
