import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../functions/core/errors.js';
import {
  CLIENT_ORDER_ID_MAX_LENGTH,
  clientOrderId,
  nextAttemptClientOrderId,
  parseClientOrderId,
  promotionKey,
} from '../../../functions/core/orders/client-order-id.js';

const ULID = '01HV6Z8K3M4N5P6Q7R8S9T0V1W';
const legArb = fc.stringMatching(/^[A-Za-z0-9-]{1,12}$/);
const attemptArb = fc.integer({ min: 1, max: 9999 });
const promotionIdArb = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9-]{1,26}$/),
  fc.string({ minLength: 1, maxLength: 200, unit: 'grapheme' }),
);

describe('clientOrderId', () => {
  it('keeps a ULID verbatim', () => {
    // Act
    const id = clientOrderId({ promotionId: ULID, leg: 'entry', attempt: 1 });
    // Assess
    expect(id).toBe(`sgp_${ULID}_entry_1`);
  });

  it('hashes a long promotion id to 26 hex digits of SHA-256', () => {
    // Prepare
    const promotionId = `promotion/${'x'.repeat(100)}`;
    // Act
    const id = clientOrderId({ promotionId, leg: 'exit', attempt: 12 });
    // Assess
    expect(id).toMatch(/^sgh_[0-9a-f]{26}_exit_12$/);
    expect(parseClientOrderId(id)).toEqual({
      promotionKey: promotionKey(promotionId).key,
      hashed: true,
      leg: 'exit',
      attempt: 12,
    });
  });

  it('is short, safe, deterministic and round-trips through the parser (property)', () => {
    fc.assert(
      fc.property(promotionIdArb, legArb, attemptArb, (promotionId, leg, attempt) => {
        // Act
        const id = clientOrderId({ promotionId, leg, attempt });
        const parsed = parseClientOrderId(id);
        // Assess
        expect(id.length).toBeLessThanOrEqual(CLIENT_ORDER_ID_MAX_LENGTH);
        expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(clientOrderId({ promotionId, leg, attempt })).toBe(id);
        const key = promotionKey(promotionId);
        expect(parsed).toEqual({ promotionKey: key.key, hashed: key.hashed, leg, attempt });
        if (!key.hashed) expect(parsed.promotionKey).toBe(promotionId);
      }),
    );
  });

  it('differs for different legs or attempts (property)', () => {
    fc.assert(
      fc.property(
        promotionIdArb,
        legArb,
        legArb,
        attemptArb,
        attemptArb,
        (promotionId, legA, legB, attemptA, attemptB) => {
          fc.pre(legA !== legB || attemptA !== attemptB);
          // Act
          const a = clientOrderId({ promotionId, leg: legA, attempt: attemptA });
          const b = clientOrderId({ promotionId, leg: legB, attempt: attemptB });
          // Assess
          expect(a).not.toBe(b);
        },
      ),
    );
  });

  it('moves to the next attempt after a terminal reject', () => {
    // Prepare
    const first = clientOrderId({ promotionId: ULID, leg: 'entry', attempt: 1 });
    // Act
    const second = nextAttemptClientOrderId(first);
    // Assess
    expect(second).toBe(clientOrderId({ promotionId: ULID, leg: 'entry', attempt: 2 }));
    expect(() =>
      nextAttemptClientOrderId(clientOrderId({ promotionId: ULID, leg: 'entry', attempt: 9999 })),
    ).toThrow(ValidationError);
  });

  it('rejects bad parts and foreign ids', () => {
    expect(() => clientOrderId({ promotionId: '', leg: 'entry', attempt: 1 })).toThrow(
      ValidationError,
    );
    expect(() => clientOrderId({ promotionId: ULID, leg: 'bad_leg', attempt: 1 })).toThrow(
      ValidationError,
    );
    expect(() => clientOrderId({ promotionId: ULID, leg: 'entry', attempt: 0 })).toThrow(
      ValidationError,
    );
    for (const foreign of [
      'eb9e2aaa-f71a-4f51-b5b4-52a6c565dad4',
      'sgp_x_entry_01',
      'sgh_xyz_a_1',
    ]) {
      expect(() => parseClientOrderId(foreign)).toThrow(ValidationError);
    }
  });
});
