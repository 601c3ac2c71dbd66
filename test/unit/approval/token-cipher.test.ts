import { describe, expect, it } from 'vitest';
import { createTaskTokenCipher } from '../../../functions/core/approval/token-cipher.js';
import { SignatureInvalidError, ValidationError } from '../../../functions/core/errors.js';
import { APPROVAL_ID, KEY, OTHER_KEY, TASK_TOKEN } from './fixtures.js';

describe('createTaskTokenCipher', () => {
  it('round-trips a task token without exposing it in the ciphertext', () => {
    // Prepare
    const cipher = createTaskTokenCipher(KEY);
    // Act
    const ct = cipher.encrypt(TASK_TOKEN, APPROVAL_ID);
    // Assess
    expect(ct).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(ct).not.toContain(TASK_TOKEN);
    expect(ct).not.toContain(Buffer.from(TASK_TOKEN).toString('base64url').slice(0, 16));
    expect(cipher.decrypt(ct, APPROVAL_ID)).toBe(TASK_TOKEN);
  });

  it('uses a fresh IV per encryption', () => {
    // Prepare
    const cipher = createTaskTokenCipher(KEY);
    // Act
    const a = cipher.encrypt(TASK_TOKEN, APPROVAL_ID);
    const b = cipher.encrypt(TASK_TOKEN, APPROVAL_ID);
    // Assess
    expect(a).not.toBe(b);
  });

  it.each([
    ['another approval id', (ct: string) => ({ ct, id: 'Zz3dEf6hIj9kLm2nOp5qRs', key: KEY })],
    ['another key', (ct: string) => ({ ct, id: APPROVAL_ID, key: OTHER_KEY })],
    [
      'a flipped ciphertext byte',
      (ct: string) => {
        const parts = ct.split('.');
        const body = Buffer.from(parts[2] as string, 'base64url');
        body[0] = (body[0] as number) ^ 1;
        parts[2] = body.toString('base64url');
        return { ct: parts.join('.'), id: APPROVAL_ID, key: KEY };
      },
    ],
    ['a garbage string', () => ({ ct: 'plain-token', id: APPROVAL_ID, key: KEY })],
    [
      'an unknown version',
      (ct: string) => ({ ct: ct.replace(/^v1/, 'v9'), id: APPROVAL_ID, key: KEY }),
    ],
  ])('refuses to decrypt with %s', (_name, mutate) => {
    // Prepare
    const ct = createTaskTokenCipher(KEY).encrypt(TASK_TOKEN, APPROVAL_ID);
    const { ct: bad, id, key } = mutate(ct);
    // Act / Assess
    expect(() => createTaskTokenCipher(key).decrypt(bad, id)).toThrow(SignatureInvalidError);
  });

  it('refuses a short key and an empty token', () => {
    // Act / Assess
    expect(() => createTaskTokenCipher(new Uint8Array(31))).toThrow(ValidationError);
    expect(() => createTaskTokenCipher(KEY).encrypt('', APPROVAL_ID)).toThrow(ValidationError);
  });
});
