/**
 * The Lambda handlers the workflow deploys: entry file, sizing, and the ASL placeholder that
 * receives each function's ARN. {@link HANDLERS} serve the intraday cohort state machine,
 * {@link PIPELINE_HANDLERS} the promotion pipeline (which also calls `recordAudit`).
 * `bench/bundles.bench.ts` bundles {@link DEPLOYED_HANDLERS}.
 *
 * Every function's timeout stays below the `TimeoutSeconds` of the Task states that call it
 * (asserted in test/infra), so a slow invocation ends as the Lambda's own timeout error.
 */
import { handlerEntry } from './paths.js';

export interface HandlerSpec {
  /** File name under `functions/handlers/` (without `.ts`); also the Powertools service name. */
  readonly file: string;
  /** `definitionSubstitutions` key in the state machine definition(s) that call it. */
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

/** The promotion pipeline's own functions (`statemachines/promotion-pipeline.asl.json`). */
export const PIPELINE_HANDLERS = {
  stagePromotion: {
    file: 'stage-promotion',
    aslPlaceholder: 'StagePromotionFunctionArn',
    // Reads the cohort's simulation artifact (megabytes for large cohorts).
    memoryMb: 1024,
    timeoutSeconds: 90,
    description: "Freezes a cohort's best candidate (genome, config hash, capital slice)",
  },
  checkPromotionWindow: {
    file: 'check-promotion-window',
    aslPlaceholder: 'CheckPromotionWindowFunctionArn',
    memoryMb: 256,
    timeoutSeconds: 15,
    description: 'Tells whether now is inside the promotion window (America/New_York)',
  },
  evaluateGates: {
    file: 'evaluate-gates',
    aslPlaceholder: 'EvaluateGatesFunctionArn',
    memoryMb: 1024,
    timeoutSeconds: 90,
    description: 'Evaluates every risk gate for the staged candidate and plans the entry order',
  },
  submitOrders: {
    file: 'submit-orders',
    aslPlaceholder: 'SubmitOrdersFunctionArn',
    memoryMb: 1024,
    timeoutSeconds: 90,
    description: 'Submits the planned orders to the paper broker (idempotent client_order_id)',
  },
  pollOrders: {
    file: 'poll-orders',
    aslPlaceholder: 'PollOrdersFunctionArn',
    memoryMb: 1024,
    timeoutSeconds: 50,
    description: "Refreshes (or cancels) the promotion's open orders from the paper broker",
  },
  reconcilePromotion: {
    file: 'reconcile-promotion',
    aslPlaceholder: 'ReconcilePromotionFunctionArn',
    memoryMb: 1024,
    timeoutSeconds: 90,
    description: 'Reconciles local positions and orders with the paper broker',
  },
  completePromotion: {
    file: 'complete-promotion',
    aslPlaceholder: 'CompletePromotionFunctionArn',
    memoryMb: 512,
    timeoutSeconds: 45,
    description: 'Records the outcome of a promotion (promoted, gates failed, expired, halted)',
  },
} as const satisfies Record<string, HandlerSpec>;

export type PipelineHandlerName = keyof typeof PIPELINE_HANDLERS;

/** Every deployed handler (cohort and pipeline), each once. */
export const DEPLOYED_HANDLERS: readonly HandlerSpec[] = [
  ...Object.values(HANDLERS),
  ...Object.values(PIPELINE_HANDLERS),
];

/** Absolute entry path of a handler. */
export function entryOf(spec: HandlerSpec): string {
  return handlerEntry(spec.file);
}
