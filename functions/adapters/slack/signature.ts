/**
 * Verification of requests Slack sends us (interactivity, slash commands, events), as Slack's
 * "Verifying requests from Slack" documents it (v0 signing secret scheme):
 *
 *   basestring = "v0:" + X-Slack-Request-Timestamp + ":" + raw request body
 *   X-Slack-Signature = "v0=" + hex(HMAC-SHA256(signing secret, basestring))
 *
 * The timestamp must lie within 5 minutes of now (either direction) so a captured request
 * cannot be replayed later; inside the window a replay verifies, which is why every decision
 * is additionally single-use (the approval store's conditional write). The body must be the
 * exact bytes received, before any form or JSON parsing. Comparison is constant-time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureInvalidError } from '../../core/errors.js';

/** Slack's replay window: 5 minutes, in seconds. */
export const SLACK_SIGNATURE_TOLERANCE_SECONDS = 300;

/** Why a Slack request does not verify. */
export type SlackSignatureError = 'stale_timestamp' | 'bad_signature' | 'malformed';

/** Result of {@link verifySlackSignature}. */
export type SlackSignatureVerification =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: SlackSignatureError };

/** What {@link verifySlackSignature} checks. */
export interface SlackSignatureInput {
  /** The app's signing secret (Slack app settings, "Basic Information"). */
  readonly signingSecret: string;
  /** `X-Slack-Request-Timestamp` header: epoch seconds as text. */
  readonly timestampHeader: string | undefined;
  /** `X-Slack-Signature` header: `v0=<64 hex>`. */
  readonly signatureHeader: string | undefined;
  /** The raw request body exactly as received (decode API Gateway base64 bodies first). */
  readonly rawBody: string | Uint8Array;
  /** Current time, epoch ms UTC (from the Clock port). */
  readonly nowMs: number;
  /** Replay window, seconds. @default SLACK_SIGNATURE_TOLERANCE_SECONDS (300) */
  readonly toleranceSeconds?: number;
}

/** `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>` under the signing secret. */
export function slackSignature(
  signingSecret: string,
  timestamp: string,
  rawBody: string | Uint8Array,
): string {
  const mac = createHmac('sha256', signingSecret);
  mac.update(`v0:${timestamp}:`, 'utf8');
  mac.update(typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody);
  return `v0=${mac.digest('hex')}`;
}

/**
 * Verifies a Slack request: `malformed` when a header is missing or not of the documented
 * shape (or the secret is empty), `stale_timestamp` when the timestamp is more than
 * `toleranceSeconds` away from now, `bad_signature` when the HMAC does not match (checked
 * in constant time).
 */
export function verifySlackSignature(input: SlackSignatureInput): SlackSignatureVerification {
  const tolerance = input.toleranceSeconds ?? SLACK_SIGNATURE_TOLERANCE_SECONDS;
  const ts = input.timestampHeader?.trim();
  const sig = input.signatureHeader?.trim().toLowerCase();
  if (
    !input.signingSecret ||
    !ts ||
    !/^\d{1,12}$/.test(ts) ||
    !sig ||
    !/^v0=[0-9a-f]{64}$/.test(sig)
  ) {
    return { ok: false, error: 'malformed' };
  }
  if (!Number.isFinite(input.nowMs) || Math.abs(input.nowMs / 1000 - Number(ts)) > tolerance) {
    return { ok: false, error: 'stale_timestamp' };
  }
  const expected = Buffer.from(slackSignature(input.signingSecret, ts, input.rawBody), 'utf8');
  const provided = Buffer.from(sig, 'utf8');
  if (expected.length !== provided.length || !timingSafeEqual(expected, provided)) {
    return { ok: false, error: 'bad_signature' };
  }
  return { ok: true };
}

/**
 * {@link verifySlackSignature} that throws instead of returning a refusal.
 *
 * @throws SignatureInvalidError (subject `slack_request`, reason `stale_timestamp`,
 *   `bad_signature` or `malformed`); map it to HTTP 401.
 */
export function assertSlackSignature(input: SlackSignatureInput): void {
  const result = verifySlackSignature(input);
  if (!result.ok) throw new SignatureInvalidError('slack_request', result.error);
}
