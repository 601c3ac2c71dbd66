import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  approvalCsrfToken,
  approvalKeyFromSecret,
  buildApprovalLink,
  expFromMs,
  newApprovalId,
  parseApprovalLinkUrl,
  verifyApprovalCsrfToken,
  verifyApprovalLink,
} from '../../../functions/core/approval/links.js';
import { ValidationError } from '../../../functions/core/errors.js';
import { APPROVAL_ID, HOUR_MS, KEY, NOW_MS, OTHER_KEY, TASK_TOKEN } from './fixtures.js';

const BASE = 'https://approve.example.com/prod/';
const EXP = expFromMs(NOW_MS + 4 * HOUR_MS);

function link() {
  return buildApprovalLink({ baseUrl: BASE, approvalId: APPROVAL_ID, exp: EXP }, KEY);
}

/** Flips one base64url character at `i` to a different one. */
function flipChar(text: string, i: number): string {
  const c = text[i] === 'A' ? 'B' : 'A';
  return `${text.slice(0, i)}${c}${text.slice(i + 1)}`;
}

describe('buildApprovalLink', () => {
  it('carries only the id, the expiry and the signature', () => {
    // Act
    const l = link();
    // Assess
    const url = new URL(l.url);
    expect(url.origin + url.pathname).toBe(
      `https://approve.example.com/prod/approvals/${APPROVAL_ID}`,
    );
    expect([...url.searchParams.keys()]).toEqual(['exp', 'sig']);
    expect(url.searchParams.get('exp')).toBe(String(EXP));
    expect(l.sig).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(l.url).not.toContain(TASK_TOKEN);
  });

  it('is deterministic for the same key and differs under another key', () => {
    // Act
    const a = link();
    const b = buildApprovalLink({ baseUrl: BASE, approvalId: APPROVAL_ID, exp: EXP }, OTHER_KEY);
    // Assess
    expect(link().sig).toBe(a.sig);
    expect(b.sig).not.toBe(a.sig);
  });

  it.each([
    ['a non-http base URL', { baseUrl: 'javascript:alert(1)', approvalId: APPROVAL_ID, exp: EXP }],
    ['a base URL with a query', { baseUrl: `${BASE}?x=1`, approvalId: APPROVAL_ID, exp: EXP }],
    ['a short id', { baseUrl: BASE, approvalId: 'short', exp: EXP }],
    ['an id with a slash', { baseUrl: BASE, approvalId: 'abc/def/ghi/jkl/mno', exp: EXP }],
    ['a fractional expiry', { baseUrl: BASE, approvalId: APPROVAL_ID, exp: 1.5 }],
  ])('rejects %s with ValidationError', (_name, input) => {
    // Act / Assess
    expect(() => buildApprovalLink(input, KEY)).toThrow(ValidationError);
  });

  it('refuses a key shorter than 32 bytes', () => {
    // Act / Assess
    expect(() =>
      buildApprovalLink({ baseUrl: BASE, approvalId: APPROVAL_ID, exp: EXP }, new Uint8Array(16)),
    ).toThrow(/at least 32 bytes/);
  });
});

describe('verifyApprovalLink', () => {
  it('accepts a valid link before its expiry', () => {
    // Prepare
    const l = link();
    // Act
    const result = verifyApprovalLink(parseApprovalLinkUrl(l.url), KEY, NOW_MS);
    // Assess
    expect(result).toEqual({ ok: true, approvalId: APPROVAL_ID, exp: EXP });
  });

  it('accepts exp given as a number', () => {
    // Prepare
    const l = link();
    // Act
    const result = verifyApprovalLink(
      { approvalId: l.approvalId, exp: l.exp, sig: l.sig },
      KEY,
      NOW_MS,
    );
    // Assess
    expect(result.ok).toBe(true);
  });

  it.each([
    ['a changed signature', (l: ReturnType<typeof link>) => ({ ...l, sig: flipChar(l.sig, 5) })],
    [
      'a changed id',
      (l: ReturnType<typeof link>) => ({ ...l, approvalId: flipChar(l.approvalId, 0) }),
    ],
    ['a later expiry', (l: ReturnType<typeof link>) => ({ ...l, exp: l.exp + 3600 })],
    [
      'an expiry in the past with the old signature',
      (l: ReturnType<typeof link>) => ({ ...l, exp: l.exp - 10 * 3600 }),
    ],
  ])('reports %s as tampered', (_name, mutate) => {
    // Prepare
    const parts = mutate(link());
    // Act
    const result = verifyApprovalLink(parts, KEY, NOW_MS);
    // Assess
    expect(result).toEqual({ ok: false, error: 'tampered' });
  });

  it('reports a link signed with another key as tampered', () => {
    // Prepare
    const l = link();
    // Act
    const result = verifyApprovalLink(l, OTHER_KEY, NOW_MS);
    // Assess
    expect(result).toEqual({ ok: false, error: 'tampered' });
  });

  it('reports expired at and after the expiry second, valid just before', () => {
    // Prepare
    const l = link();
    // Act
    const before = verifyApprovalLink(l, KEY, EXP * 1000 - 1);
    const at = verifyApprovalLink(l, KEY, EXP * 1000);
    const after = verifyApprovalLink(l, KEY, EXP * 1000 + 24 * HOUR_MS);
    // Assess
    expect(before.ok).toBe(true);
    expect(at).toEqual({ ok: false, error: 'expired' });
    expect(after).toEqual({ ok: false, error: 'expired' });
  });

  it.each([
    ['no parts', {}],
    ['a missing sig', { approvalId: APPROVAL_ID, exp: '1381363200' }],
    ['a missing exp', { approvalId: APPROVAL_ID, sig: 'a'.repeat(43) }],
    ['a non-numeric exp', { approvalId: APPROVAL_ID, exp: '12abc', sig: 'a'.repeat(43) }],
    ['a negative exp', { approvalId: APPROVAL_ID, exp: '-5', sig: 'a'.repeat(43) }],
    ['a short sig', { approvalId: APPROVAL_ID, exp: '1381363200', sig: 'abc' }],
    [
      'a sig with padding',
      { approvalId: APPROVAL_ID, exp: '1381363200', sig: `${'a'.repeat(42)}=` },
    ],
    ['an id with HTML', { approvalId: '<script>alert(1)</script>', exp: '1', sig: 'a'.repeat(43) }],
    ['an array id', { approvalId: [APPROVAL_ID], exp: '1381363200', sig: 'a'.repeat(43) }],
  ])('reports %s as malformed', (_name, parts) => {
    // Act
    const result = verifyApprovalLink(parts, KEY, NOW_MS);
    // Assess
    expect(result).toEqual({ ok: false, error: 'malformed' });
  });

  it('reports any single-character change of the signature as tampered (property)', () => {
    // Prepare
    const l = link();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 42 }), (i) => {
        // Act
        const result = verifyApprovalLink({ ...l, sig: flipChar(l.sig, i) }, KEY, NOW_MS);
        // Assess
        expect(result).toEqual({ ok: false, error: 'tampered' });
      }),
    );
  });
});

describe('parseApprovalLinkUrl', () => {
  it('returns empty parts for a non-URL', () => {
    // Act / Assess
    expect(parseApprovalLinkUrl('not a url')).toEqual({});
  });
});

describe('CSRF token', () => {
  it('verifies for its own approval and expiry', () => {
    // Prepare
    const csrf = approvalCsrfToken(APPROVAL_ID, EXP, KEY);
    // Act
    const ok = verifyApprovalCsrfToken({ approvalId: APPROVAL_ID, exp: EXP, csrf }, KEY);
    // Assess
    expect(ok).toBe(true);
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it.each([
    ['another approval', { approvalId: 'Zz3dEf6hIj9kLm2nOp5qRs', exp: EXP }, KEY],
    ['another expiry', { approvalId: APPROVAL_ID, exp: EXP + 1 }, KEY],
    ['another key', { approvalId: APPROVAL_ID, exp: EXP }, OTHER_KEY],
  ])('does not verify for %s', (_name, target, key) => {
    // Prepare
    const csrf = approvalCsrfToken(APPROVAL_ID, EXP, KEY);
    // Act
    const ok = verifyApprovalCsrfToken({ ...target, csrf }, key);
    // Assess
    expect(ok).toBe(false);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['an array', ['x']],
    ['the link signature', link().sig],
  ])('rejects a token that is %s', (_name, csrf) => {
    // Act
    const ok = verifyApprovalCsrfToken({ approvalId: APPROVAL_ID, exp: EXP, csrf }, KEY);
    // Assess
    expect(ok).toBe(false);
  });
});

describe('keys and ids', () => {
  it('makes a 22-character base64url id from 16 injected random bytes', () => {
    // Prepare
    const bytes = (n: number) => new Uint8Array(n).fill(0xfb);
    // Act
    const id = newApprovalId(bytes);
    // Assess
    expect(id).toBe(Buffer.from(new Uint8Array(16).fill(0xfb)).toString('base64url'));
    expect(id).toHaveLength(22);
  });

  it('makes distinct ids from the default random source', () => {
    // Act
    const ids = new Set(Array.from({ length: 50 }, () => newApprovalId()));
    // Assess
    expect(ids.size).toBe(50);
  });

  it('decodes a base64 secret and refuses a short one', () => {
    // Prepare
    const secret = Buffer.from(KEY).toString('base64');
    // Act
    const key = approvalKeyFromSecret(secret);
    // Assess
    expect(Buffer.from(key).equals(Buffer.from(KEY))).toBe(true);
    expect(() => approvalKeyFromSecret(Buffer.alloc(8).toString('base64'))).toThrow(
      ValidationError,
    );
    expect(() => approvalKeyFromSecret('not base64 !')).toThrow(ValidationError);
  });
});
