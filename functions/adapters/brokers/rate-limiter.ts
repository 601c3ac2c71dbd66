/**
 * A token-bucket rate limiter for broker HTTP calls, and a process-wide registry that shares
 * one bucket per API key.
 *
 * Why our own: no rate-limiting package is a declared dependency (`bottleneck` is not
 * installed; `p-queue` / `p-retry` only sit in node_modules as transitive dependencies of
 * other tools, so a Lambda bundle must not rely on them), and a token bucket is ~60 lines.
 *
 * Alpaca allows 200 requests per minute per API key (Alpaca docs, "Trading API" → "Rate
 * limit"; beyond it the API answers 429). The bucket holds at most `capacity` tokens and
 * refills continuously at `capacity / windowMs` tokens per ms, so a burst of `capacity`
 * requests goes through at once and the sustained rate never exceeds `capacity` per window.
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../../core/errors.js';
import type { Clock } from '../../ports/clock.js';
import { systemClock } from '../../ports/clock.js';

/** Sleeps `ms` milliseconds (injected in tests). */
export type Sleep = (ms: number) => Promise<void>;

/** `setTimeout`-based sleep. */
export const realSleep: Sleep = (ms) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Options of {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Requests allowed per window (bucket size). @default 200 (Alpaca's per-key limit) */
  readonly capacity?: number;
  /** Window length, ms. @default 60_000 */
  readonly windowMs?: number;
  /** Time source, epoch ms. @default the wall clock */
  readonly clock?: Clock;
  /** How to wait for a token. @default setTimeout */
  readonly sleep?: Sleep;
}

/**
 * A continuously refilling token bucket. {@link acquire} calls are served first come, first
 * served: each waits for the previous one, so concurrent callers never compute the same wait.
 */
export class TokenBucket {
  readonly capacity: number;
  readonly windowMs: number;
  private readonly clock: Clock;
  private readonly sleep: Sleep;
  private tokens: number;
  private refilledAtMs: number;
  /** No token is handed out before this time, epoch ms (set from a 429's reset header). */
  private blockedUntilMs = 0;
  private tail: Promise<void> = Promise.resolve();

  /** @throws ValidationError('capacity' | 'windowMs') when not positive. */
  constructor(options: TokenBucketOptions = {}) {
    this.capacity = options.capacity ?? 200;
    this.windowMs = options.windowMs ?? 60_000;
    if (!(this.capacity >= 1)) {
      throw new ValidationError('capacity', `must be >= 1 request, got ${this.capacity}`);
    }
    if (!(this.windowMs > 0)) {
      throw new ValidationError('windowMs', `must be > 0 ms, got ${this.windowMs}`);
    }
    this.clock = options.clock ?? systemClock;
    this.sleep = options.sleep ?? realSleep;
    this.tokens = this.capacity;
    this.refilledAtMs = this.clock.now();
  }

  /** Tokens available now (fractional), after refilling. */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /**
   * Waits until a token is available (and any {@link blockUntil} time has passed), then takes
   * it. Resolves with the total time waited, ms (as computed from the clock).
   */
  acquire(): Promise<number> {
    const run = this.tail.then(() => this.take());
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /**
   * Hands out no token before `epochMs` (the server said the window is exhausted, e.g. a 429
   * with `X-RateLimit-Reset`). Every instance sharing this bucket waits.
   */
  blockUntil(epochMs: number): void {
    if (epochMs > this.blockedUntilMs) this.blockedUntilMs = epochMs;
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = now - this.refilledAtMs;
    if (elapsed > 0) {
      this.tokens = Math.min(
        this.capacity,
        this.tokens + (elapsed * this.capacity) / this.windowMs,
      );
      this.refilledAtMs = now;
    }
  }

  private async take(): Promise<number> {
    let waited = 0;
    for (;;) {
      const blockedFor = this.blockedUntilMs - this.clock.now();
      if (blockedFor > 0) {
        await this.sleep(blockedFor);
        waited += blockedFor;
        continue;
      }
      this.refill();
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return waited;
      }
      const waitMs = Math.ceil(((1 - this.tokens) * this.windowMs) / this.capacity);
      await this.sleep(waitMs);
      waited += waitMs;
    }
  }
}

const shared = new Map<string, TokenBucket>();

/** Registry key of an API key id: its SHA-256 (the key id itself is not kept in memory maps). */
function keyHash(keyId: string): string {
  return createHash('sha256').update(keyId).digest('hex');
}

/**
 * The process-wide bucket of API key `keyId`: every broker instance using the same key in this
 * process (a warm Lambda, the local CLI) draws from it. Created on first use with `options`;
 * later calls return the existing bucket and ignore `options`.
 */
export function sharedRateLimiter(keyId: string, options: TokenBucketOptions = {}): TokenBucket {
  const hash = keyHash(keyId);
  let bucket = shared.get(hash);
  if (!bucket) {
    bucket = new TokenBucket(options);
    shared.set(hash, bucket);
  }
  return bucket;
}
