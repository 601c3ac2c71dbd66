/**
 * Typed results of local executions, for the CLI printer: per workflow, the state outputs it
 * prints (gates, staged candidate, reconciliation, paper session, Day-3 selection, ...) are
 * declared ONCE here, each with the state that produces it, the path the definition writes
 * it to (`ResultPath`, or a Pass state's `Parameters` key) and the TypeScript type of the use
 * case that returns it. {@link readExecution} turns a {@link LocalExecutionResult} into an
 * object of those typed fields plus the typed output, and first checks the declarations
 * against the workflow's ASL file: a renamed state or result path fails the run naming the
 * file and state, instead of silently dropping a table from the output.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Day3Conclusion } from '../functions/core/use-cases/day3-conclude.js';
import type { Day3Selection } from '../functions/core/use-cases/day3-records.js';
import type { LearningOutput } from '../functions/core/use-cases/learning.js';
import type { SessionSummary } from '../functions/core/use-cases/paper-session.js';
import type { GatesOutput } from '../functions/core/use-cases/promotion-gates.js';
import type { reconcilePromotion } from '../functions/core/use-cases/promotion-orders.js';
import type { StagedPromotion } from '../functions/core/use-cases/promotion-records.js';
import type { completePromotion } from '../functions/core/use-cases/promotion-stage.js';
import type { IngestionResult } from '../functions/core/use-cases/session-ingestion.js';
import { REPO_ROOT } from '../lib/paths.js';
import type { LocalExecutionResult } from './asl-runner.js';

/** Where one printed value sits in an execution: a state's output, at a key it writes. */
export interface StateField<T> {
  readonly state: string;
  /** The key the state writes (`ResultPath: "$.<key>"` or a Pass state's `Parameters`). */
  readonly key: string;
  /** Reads the value from the key's content (default: the content itself). */
  readonly read: (value: unknown) => T | undefined;
  /** Type carrier only (never set). */
  readonly type?: T;
}

/** A value the state `state` writes at `$.<key>`, of the use case's type `T`. */
function at<T>(state: string, key: string): StateField<T> {
  return { state, key, read: (value) => value as T | undefined };
}

/**
 * The output of the execution a `startExecution.sync` state `state` ran, written at
 * `$.<key>.output` (its `ResultSelector` keeps `output.$: $.Output`).
 */
function childOutput<T>(state: string, key: string): StateField<T> {
  return {
    state,
    key,
    read: (value) =>
      value !== null && typeof value === 'object'
        ? ((value as { output?: unknown }).output as T | undefined)
        : undefined,
  };
}

/** One workflow's printed fields and the type of its output. */
export interface ExecutionView<F extends Record<string, StateField<unknown>>, O> {
  /** The ASL file under `statemachines/`. */
  readonly file: string;
  readonly fields: F;
  /** Type carrier of the execution's output (never set). */
  readonly output?: O;
}

function view<O>() {
  return <F extends Record<string, StateField<unknown>>>(
    file: string,
    fields: F,
  ): ExecutionView<F, O> => ({ file, fields });
}

/** The promotion pipeline: staged candidate, gates, paper session, reconciliation, outcome. */
export const PROMOTION_VIEW = view<
  | Awaited<ReturnType<typeof completePromotion>>
  | { readonly skipped: true; readonly reason: string }
>()('promotion-pipeline.asl.json', {
  staged: at<StagedPromotion>('Freeze', 'promotion'),
  /** StageCandidate's output: the paper slot's decision (null when the request named the agent). */
  stageOutput: at<{ readonly slot?: { decision: string; reason: string } | null }>(
    'StageCandidate',
    'staged',
  ),
  gates: at<GatesOutput>('EvaluateGates', 'gates'),
  paperSession: childOutput<SessionSummary>('PaperSession', 'session'),
  reconciliation: at<Awaited<ReturnType<typeof reconcilePromotion>>>('Reconcile', 'reconciliation'),
});

/** The Day-3 go/no-go: selection (ranking, gates, evidence) and the micro-live promotion. */
export const DAY3_VIEW = view<Day3Conclusion>()('day3-go-no-go.asl.json', {
  selection: at<Day3Selection>('SelectCandidate', 'selection'),
  microLive: childOutput<Awaited<ReturnType<typeof completePromotion>>>('RunMicroLive', 'pipeline'),
});

/** The session-ingestion chain: what was ingested (the cohort is a child execution). */
export const INGESTION_VIEW = view<unknown>()('session-ingestion.asl.json', {
  ingestion: at<IngestionResult>('IngestSession', 'ingestion'),
});

/** The intraday cohort: its output only. */
export const COHORT_VIEW = view<
  | { readonly skipped: true; readonly reason: string }
  | {
      readonly skipped?: false;
      readonly cohortId: string;
      readonly genomeGeneration?: number;
    }
>()('intraday-cohort.asl.json', {});

/** The learning cycle: its output only. */
export const LEARNING_VIEW = view<LearningOutput>()('learning-cycle.asl.json', {});

/** A local execution read through a view: status, error, typed output and typed fields. */
export type ExecutionOf<V> =
  V extends ExecutionView<infer F, infer O>
    ? {
        readonly status: LocalExecutionResult['status'];
        readonly error?: string;
        readonly cause?: string;
        /** The execution's output (SUCCEEDED only). */
        readonly output: O | undefined;
        /** The nested executions, as the runner returned them. */
        readonly childExecutions: LocalExecutionResult['childExecutions'];
      } & {
        readonly [K in keyof F]: F[K] extends StateField<infer T> ? T | undefined : never;
      }
    : never;

type AslState = {
  readonly Type?: string;
  readonly ResultPath?: unknown;
  readonly Parameters?: Record<string, unknown>;
  readonly Iterator?: { States: Record<string, AslState> };
  readonly ItemProcessor?: { States: Record<string, AslState> };
  readonly Branches?: readonly { States: Record<string, AslState> }[];
};

/** Every state of a definition, nested ones included, by name. */
function statesOf(states: Record<string, AslState>, out = new Map<string, AslState>()) {
  for (const [name, s] of Object.entries(states)) {
    out.set(name, s);
    for (const inner of [s.Iterator, s.ItemProcessor, ...(s.Branches ?? [])]) {
      if (inner) statesOf(inner.States, out);
    }
  }
  return out;
}

/**
 * What is wrong with `view`'s declarations against its ASL file: a state that does not exist,
 * or that does not write the declared key. Empty when the view matches the definition.
 */
export function viewProblems(view: ExecutionView<Record<string, StateField<unknown>>, unknown>) {
  const file = path.join(REPO_ROOT, 'statemachines', view.file);
  const definition = JSON.parse(readFileSync(file, 'utf8')) as {
    States: Record<string, AslState>;
  };
  const states = statesOf(definition.States);
  const problems: string[] = [];
  for (const [field, f] of Object.entries(view.fields)) {
    const s = states.get(f.state);
    if (!s) {
      problems.push(`${view.file}: state ${f.state} (printed as ${field}) does not exist`);
      continue;
    }
    const writes =
      s.ResultPath === `$.${f.key}` ||
      (s.Type === 'Pass' && s.Parameters !== undefined && `${f.key}.$` in s.Parameters);
    if (!writes) {
      problems.push(
        `${view.file}: state ${f.state} does not write $.${f.key} (printed as ${field})`,
      );
    }
  }
  return problems;
}

const checked = new WeakSet<object>();

/**
 * `result` read through `view`: its typed output and fields.
 * @throws Error naming the ASL file and state when a declared state or key is not in the
 *   definition (checked once per view and process).
 */
export function readExecution<F extends Record<string, StateField<unknown>>, O>(
  view: ExecutionView<F, O>,
  result: LocalExecutionResult,
): ExecutionOf<ExecutionView<F, O>> {
  if (!checked.has(view)) {
    const problems = viewProblems(view);
    if (problems.length > 0) throw new Error(`CLI output out of date: ${problems.join('; ')}`);
    checked.add(view);
  }
  const fields: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(view.fields)) {
    const stateOutput = result.stateOutputs[f.state];
    const value =
      stateOutput !== null && typeof stateOutput === 'object'
        ? (stateOutput as Record<string, unknown>)[f.key]
        : undefined;
    fields[name] = value === undefined ? undefined : f.read(value);
  }
  return {
    status: result.status,
    ...(result.error === undefined ? {} : { error: result.error }),
    ...(result.cause === undefined ? {} : { cause: result.cause }),
    output: result.status === 'SUCCEEDED' ? (result.output as O | undefined) : undefined,
    childExecutions: result.childExecutions,
    ...fields,
  } as ExecutionOf<ExecutionView<F, O>>;
}
