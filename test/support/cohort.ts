/**
 * One intraday cohort run through the shipped `intraday-cohort.asl.json` on a local stack, the
 * way the integration tests stage the evidence a promotion, a Day-3 review or the console reads.
 */
import type { LocalStack } from '../../local/local-stack.js';

/** The shared week's equity symbols (../shared/data/lean). */
export const SHARED_SYMBOLS = ['SPY', 'BAC', 'AIG', 'IBM'] as const;

/** A cohort request: the session (YYYY-MM-DD, the market's date) and what differs from the defaults. */
export interface TestCohortRequest {
  readonly sessionDate: string;
  /** The Step Functions execution name (unique per stack). */
  readonly executionName: string;
  readonly market?: 'equity' | 'crypto';
  /** Default: {@link SHARED_SYMBOLS}. */
  readonly symbols?: readonly string[];
  /** USD; default 1,000. */
  readonly bankrollUsd?: number;
  /** Default 30. */
  readonly agentCount?: number;
  /** Default 1. */
  readonly seed?: number;
}

/**
 * Runs one cohort (equal allocation, `source: 'test'`) and returns its cohort id.
 *
 * @throws Error naming the session, the execution's error and its cause when the execution
 *   does not succeed.
 */
export async function runTestCohort(stack: LocalStack, req: TestCohortRequest): Promise<string> {
  const result = await stack.intradayCohort.execute(
    {
      source: 'test',
      sessionDate: req.sessionDate,
      ...(req.market ? { market: req.market } : {}),
      symbols: [...(req.symbols ?? SHARED_SYMBOLS)],
      bankrollUsd: req.bankrollUsd ?? 1000,
      agentCount: req.agentCount ?? 30,
      allocation: 'equal',
      seed: req.seed ?? 1,
    },
    { executionName: req.executionName },
  );
  if (result.status !== 'SUCCEEDED') {
    throw new Error(`cohort ${req.sessionDate} failed: ${result.error}: ${result.cause}`);
  }
  return (result.output as { cohortId: string }).cohortId;
}
