/**
 * Files the CDK app reads at synth time, resolved from the repository root (not the current
 * working directory) so `cdk synth`, vitest and the bench agree.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The lockfile NodejsFunction hashes and bundles against. */
export const LOCK_FILE = path.join(REPO_ROOT, 'package-lock.json');

/** The intraday cohort state machine (JSONPath ASL with `${...FunctionArn}` placeholders). */
export const INTRADAY_COHORT_ASL = path.join(
  REPO_ROOT,
  'statemachines',
  'intraday-cohort.asl.json',
);

/** The promotion pipeline state machine (JSONPath ASL with `${...FunctionArn}` placeholders). */
export const PROMOTION_PIPELINE_ASL = path.join(
  REPO_ROOT,
  'statemachines',
  'promotion-pipeline.asl.json',
);

/** The paper-session state machine, run nested by the promotion pipeline. */
export const PAPER_SESSION_ASL = path.join(REPO_ROOT, 'statemachines', 'paper-session.asl.json');

/** The learning-cycle state machine (JSONPath ASL with `${...FunctionArn}` placeholders). */
export const LEARNING_CYCLE_ASL = path.join(REPO_ROOT, 'statemachines', 'learning-cycle.asl.json');

/** The Day-3 go/no-go state machine (approval by task token, micro-live by nested execution). */
export const DAY3_GO_NO_GO_ASL = path.join(REPO_ROOT, 'statemachines', 'day3-go-no-go.asl.json');

/** Absolute path of `functions/handlers/<file>.ts`. */
export function handlerEntry(file: string): string {
  return path.join(REPO_ROOT, 'functions', 'handlers', `${file}.ts`);
}

/** The project's `cdk.json`. */
export const CDK_JSON = path.join(REPO_ROOT, 'cdk.json');

/** The session-ingestion state machine (ingestion, then the session's chain). */
export const SESSION_INGESTION_ASL = path.join(
  REPO_ROOT,
  'statemachines',
  'session-ingestion.asl.json',
);
