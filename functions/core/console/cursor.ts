/**
 * Opaque pagination cursors: base64url of a small JSON object. A cursor is a position, not a
 * capability; a malformed one is a 400 naming the `cursor` parameter.
 */
import { ValidationError } from '../errors.js';

/** Encodes a position (a DynamoDB LastEvaluatedKey, an offset...) as an opaque cursor. */
export function encodeCursor(position: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor made by {@link encodeCursor}.
 * @throws ValidationError('query.cursor') when it is not one.
 */
export function decodeCursor(cursor: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // fall through
  }
  throw new ValidationError('query.cursor', 'is not a cursor returned by this API');
}
