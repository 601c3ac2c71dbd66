/**
 * Maps AWS SDK v3 errors onto the core's named errors, so Step Functions Retry/Catch and the
 * CLI see one vocabulary: throttling, 5xx and network faults become `TransientError`
 * (retried); everything else propagates unchanged (a bug or a permanent rejection).
 */
import { TransientError } from '../core/errors.js';

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'SlowDown',
  'RequestThrottled',
  'InternalServerError',
  'ServiceUnavailable',
  'InternalError',
]);

interface SdkErrorLike {
  name?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
  code?: string;
}

/** True when `err` is an AWS SDK error worth retrying (throttled, 5xx or a network fault). */
export function isTransientAwsError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as SdkErrorLike;
  const status = e.$metadata?.httpStatusCode ?? 0;
  if (status >= 500 || status === 429) return true;
  if (e.name && THROTTLING.has(e.name)) return true;
  if (e.$retryable) return true;
  return ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE'].includes(e.code ?? '');
}

/** Rethrows `err` as a `TransientError` when it is transient, unchanged otherwise. */
export function rethrowAws(err: unknown, what: string): never {
  if (isTransientAwsError(err)) {
    throw new TransientError(`${what}: ${(err as Error).message}`, { cause: err });
  }
  throw err;
}
