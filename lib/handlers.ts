/**
 * The Lambda handlers the workflow deploys: entry file, sizing, and the ASL placeholder that
 * receives each function's ARN. `bench/bundles.bench.ts` bundles the same list.
 */
import { handlerEntry } from './paths.js';

export interface HandlerSpec {
  /** File name under `functions/handlers/` (without `.ts`); also the Powertools service name. */
  readonly file: string;
  /** `definitionSubstitutions` key in `statemachines/intraday-cohort.asl.json`. */
  readonly aslPlaceholder: string;
  /** Memory (MB); 1769 MB buys one full vCPU. */
  readonly memoryMb: number;
  /** Timeout (seconds). */
  readonly timeoutSeconds: number;
  readonly description: string;
}

export const HANDLERS = {
  loadMarketData: {
    file: 'load-market-data',
    aslPlaceholder: 'LoadMarketDataFunctionArn',
    memoryMb: 1024,
    timeoutSeconds: 60,
    description: 'Loads the session minute bars (LEAN files) from the market-data bucket',
  },
  runCohort: {
    file: 'run-cohort',
    aslPlaceholder: 'RunCohortFunctionArn',
    memoryMb: 1769,
    timeoutSeconds: 300,
    description: 'Seeds the agents and simulates the cohort over the session',
  },
  scoreCohort: {
    file: 'score-cohort',
    aslPlaceholder: 'ScoreCohortFunctionArn',
    memoryMb: 1024,
    timeoutSeconds: 120,
    description: 'Scores every agent of a simulated cohort',
  },
  persistCohort: {
    file: 'persist-cohort',
    aslPlaceholder: 'PersistCohortFunctionArn',
    memoryMb: 512,
    timeoutSeconds: 60,
    description: 'Persists the cohort document and per-agent stats',
  },
  recordAudit: {
    file: 'record-audit',
    aslPlaceholder: 'RecordAuditFunctionArn',
    memoryMb: 512,
    timeoutSeconds: 30,
    description: 'Appends a hash-chained audit record (also input_rejected from Catch paths)',
  },
} as const satisfies Record<string, HandlerSpec>;

export type HandlerName = keyof typeof HANDLERS;

/** Absolute entry path of a handler. */
export function entryOf(spec: HandlerSpec): string {
  return handlerEntry(spec.file);
}
