/**
 * Bounded retries with exponential backoff and full jitter for the audit adapters
 * (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015).
 */

/** Retry policy. */
export interface RetryPolicy {
  /** Attempts in total (>= 1). Default 4. */
  readonly maxAttempts?: number;
  /** Backoff base, ms: attempt n waits a random time in [0, min(cap, base * 2^n)). Default 50. */
  readonly baseDelayMs?: number;
  /** Backoff cap, ms. Default 2,000. */
  readonly maxDelayMs?: number;
  /** Sleep function (tests inject an instant one). Default setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Random source in [0, 1) for the jitter. Default Math.random. */
  readonly random?: () => number;
}

export const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Full-jitter delay before retry number `attempt` (0-based), ms. */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const base = policy.baseDelayMs ?? 50;
  const cap = policy.maxDelayMs ?? 2_000;
  return Math.floor((policy.random ?? Math.random)() * Math.min(cap, base * 2 ** attempt));
}

/**
 * Runs `fn` until it succeeds, `isFatal(err)` says stop, or attempts run out.
 *
 * @returns what `fn` resolved to.
 * @throws the error `onExhausted(lastError, attempts)` builds when attempts run out; a fatal
 *   error is rethrown as is.
 */
export async function withRetries<T>(
  fn: () => Promise<T>,
  policy: RetryPolicy,
  onExhausted: (err: unknown, attempts: number) => Error,
  isFatal: (err: unknown) => boolean = () => false,
): Promise<T> {
  const attempts = Math.max(1, policy.maxAttempts ?? 4);
  const sleep = policy.sleep ?? defaultSleep;
  let last: unknown;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    try {
      return await fn();
    } catch (err) {
      if (isFatal(err)) throw err;
      last = err;
      if (attempt + 1 < attempts) await sleep(backoffDelay(policy, attempt));
    }
  }
  throw onExhausted(last, attempts);
}

/** HTTP status of an AWS SDK v3 error, if any. */
export function httpStatusOf(err: unknown): number | undefined {
  const meta = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  return meta?.httpStatusCode;
}

/** Short description of an unknown error for messages. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
