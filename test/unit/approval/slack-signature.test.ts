/**
 * Slack request verification against Slack's documented example ("Verifying requests from
 * Slack"): signing secret, timestamp, body and expected signature are Slack's published
 * (public, non-secret) test vector.
 */
import { describe, expect, it } from 'vitest';
import {
  assertSlackSignature,
  type SlackSignatureInput,
  slackSignature,
  verifySlackSignature,
} from '../../../functions/adapters/slack/signature.js';
import { SignatureInvalidError } from '../../../functions/core/errors.js';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TIMESTAMP = '1531420618';
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const EXPECTED = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const SENT_MS = Number(TIMESTAMP) * 1000;

function request(overrides: Partial<SlackSignatureInput> = {}): SlackSignatureInput {
  return {
    signingSecret: SECRET,
    timestampHeader: TIMESTAMP,
    signatureHeader: EXPECTED,
    rawBody: BODY,
    nowMs: SENT_MS + 2_000,
    ...overrides,
  };
}

describe('verifySlackSignature', () => {
  it("computes Slack's documented signature", () => {
    // Act / Assess
    expect(slackSignature(SECRET, TIMESTAMP, BODY)).toBe(EXPECTED);
  });

  it("accepts Slack's documented request, as text or raw bytes", () => {
    // Act / Assess
    expect(verifySlackSignature(request())).toEqual({ ok: true });
    expect(verifySlackSignature(request({ rawBody: Buffer.from(BODY, 'utf8') }))).toEqual({
      ok: true,
    });
  });

  it.each([
    ['a tampered body', { rawBody: BODY.replace('roadrunner', 'coyote') }],
    ['a body with a trailing newline', { rawBody: `${BODY}\n` }],
    ['a re-signed timestamp', { timestampHeader: String(Number(TIMESTAMP) + 1), nowMs: SENT_MS }],
    ['another secret', { signingSecret: `${SECRET}x` }],
    ['a flipped signature digit', { signatureHeader: `${EXPECTED.slice(0, -1)}4` }],
  ])('rejects %s as bad_signature', (_name, overrides) => {
    // Act / Assess
    expect(verifySlackSignature(request(overrides))).toEqual({ ok: false, error: 'bad_signature' });
  });

  it.each([
    ['a replay 5 minutes and 1 second later', SENT_MS + 301_000],
    ['a replay the next day', SENT_MS + 86_400_000],
    ['a timestamp 6 minutes in the future', SENT_MS - 360_000],
  ])('rejects %s as stale_timestamp', (_name, nowMs) => {
    // Act / Assess
    expect(verifySlackSignature(request({ nowMs }))).toEqual({
      ok: false,
      error: 'stale_timestamp',
    });
  });

  it('accepts a request at the edge of the 5-minute window', () => {
    // Act / Assess
    expect(verifySlackSignature(request({ nowMs: SENT_MS + 300_000 }))).toEqual({ ok: true });
  });

  it.each([
    ['a missing timestamp', { timestampHeader: undefined }],
    ['a non-numeric timestamp', { timestampHeader: '15314206l8' }],
    ['a missing signature', { signatureHeader: undefined }],
    ['a v1 signature', { signatureHeader: EXPECTED.replace('v0=', 'v1=') }],
    ['a truncated signature', { signatureHeader: EXPECTED.slice(0, 20) }],
    ['an empty secret', { signingSecret: '' }],
  ])('rejects %s as malformed', (_name, overrides) => {
    // Act / Assess
    expect(verifySlackSignature(request(overrides))).toEqual({ ok: false, error: 'malformed' });
  });

  it('throws SignatureInvalidError naming the reason', () => {
    // Act / Assess
    expect(() => assertSlackSignature(request({ nowMs: SENT_MS + 600_000 }))).toThrow(
      SignatureInvalidError,
    );
    expect(() => assertSlackSignature(request({ nowMs: SENT_MS + 600_000 }))).toThrow(
      /stale_timestamp/,
    );
    expect(() => assertSlackSignature(request())).not.toThrow();
  });
});
