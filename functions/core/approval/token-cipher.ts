/**
 * Field-level encryption of the Step Functions task token stored with an approval request.
 *
 * The table is already KMS-encrypted at rest in AWS; this second layer keeps the token out of
 * plain text in the item itself (console, exports, backups, DynamoDB Local files, a leaked
 * scan), so only code holding the approval key can resume the execution.
 *
 * Key: a 256-bit data key derived with HKDF-SHA256 (RFC 5869) from the approval key,
 * `salt = "stagegate/approval"`, `info = "task-token/aes-256-gcm/v1"`: the link-signing HMAC
 * key and the encryption key are thus cryptographically independent, and one secret is all
 * the deployment has to manage. A separate secret can be passed instead; the derivation is
 * the same.
 *
 * Cipher: AES-256-GCM (NIST SP 800-38D) with a fresh random 96-bit IV per encryption and the
 * additional authenticated data `task-token:v1:<approvalId>`, which binds the ciphertext to its
 * approval: a ciphertext copied into another item does not decrypt.
 *
 * Stored form: `v1.<iv>.<ciphertext>.<tag>`, each part base64url.
 */
import {
  createCipheriv,
  createDecipheriv,
  hkdfSync,
  randomBytes as nodeRandomBytes,
} from 'node:crypto';
import { SignatureInvalidError, ValidationError } from '../errors.js';
import { type ApprovalKey, assertApprovalKey, type RandomBytes } from './links.js';

const HKDF_SALT = 'stagegate/approval';
const HKDF_INFO = 'task-token/aes-256-gcm/v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';
const B64URL = /^[A-Za-z0-9_-]*$/;

/** Encrypts / decrypts task tokens bound to their approval id. */
export interface TaskTokenCipher {
  /** `v1.<iv>.<ciphertext>.<tag>` (base64url parts); a new random IV every call. */
  encrypt(taskToken: string, approvalId: string): string;
  /**
   * The plain task token.
   *
   * @throws SignatureInvalidError (subject `task_token`) when the ciphertext is malformed, was
   *   altered, belongs to another approval id, or was made with another key.
   */
  decrypt(ciphertext: string, approvalId: string): string;
}

const aad = (approvalId: string) => Buffer.from(`task-token:v1:${approvalId}`, 'utf8');

/**
 * Builds the AES-256-GCM task-token cipher from the approval key (see the module comment for
 * the HKDF derivation).
 *
 * @param key the approval key (>= 32 bytes) or a dedicated secret of the same size.
 * @param randomBytes injected IV source (default node:crypto `randomBytes`).
 * @throws ValidationError when the key is shorter than 32 bytes.
 */
export function createTaskTokenCipher(
  key: ApprovalKey,
  randomBytes: RandomBytes = nodeRandomBytes,
): TaskTokenCipher {
  assertApprovalKey(key);
  const dataKey = Buffer.from(hkdfSync('sha256', key, HKDF_SALT, HKDF_INFO, 32));
  return {
    encrypt(taskToken, approvalId) {
      if (taskToken.length === 0) throw new ValidationError('taskToken', 'must not be empty');
      const iv = Buffer.from(randomBytes(IV_BYTES));
      if (iv.length !== IV_BYTES) {
        throw new ValidationError('randomBytes', `returned ${iv.length} bytes, need ${IV_BYTES}`);
      }
      const cipher = createCipheriv('aes-256-gcm', dataKey, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(aad(approvalId));
      const body = Buffer.concat([cipher.update(taskToken, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [VERSION, iv, body, tag]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    decrypt(ciphertext, approvalId) {
      const parts = ciphertext.split('.');
      const [version, ivText, bodyText, tagText] = parts;
      if (
        parts.length !== 4 ||
        version !== VERSION ||
        ivText === undefined ||
        bodyText === undefined ||
        tagText === undefined ||
        ![ivText, bodyText, tagText].every((p) => B64URL.test(p))
      ) {
        throw new SignatureInvalidError('task_token', 'malformed');
      }
      const iv = Buffer.from(ivText, 'base64url');
      const tag = Buffer.from(tagText, 'base64url');
      if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
        throw new SignatureInvalidError('task_token', 'malformed');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', dataKey, iv, {
          authTagLength: TAG_BYTES,
        });
        decipher.setAAD(aad(approvalId));
        decipher.setAuthTag(tag);
        const plain = Buffer.concat([
          decipher.update(Buffer.from(bodyText, 'base64url')),
          decipher.final(),
        ]);
        return plain.toString('utf8');
      } catch (err) {
        throw new SignatureInvalidError('task_token', 'tampered', (err as Error).message);
      }
    },
  };
}
