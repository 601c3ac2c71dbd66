/**
 * Time source for the core. The core never calls `Date.now()`: the AWS composition root
 * injects {@link systemClock}; the local mode and tests inject a simulated clock so Day 1/2/3
 * and promotion windows can be replayed over historical sessions.
 */
export interface Clock {
  /** Current time, epoch milliseconds UTC. */
  now(): number;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock fixed at `epochMs` that moves only when told to (tests, simulated runs). */
export class ManualClock implements Clock {
  constructor(private epochMs: number) {}
  now(): number {
    return this.epochMs;
  }
  set(epochMs: number): void {
    this.epochMs = epochMs;
  }
  advance(ms: number): void {
    this.epochMs += ms;
  }
}
