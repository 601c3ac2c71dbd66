/**
 * Executes the project's ASL files locally with `aws-local-stepfunctions`, invoking the SAME
 * Lambda handler modules the CDK app deploys. The definition is the file in `statemachines/`
 * with its `${...}` placeholders substituted by local ARNs; every Task state is overridden by
 * what its `Resource` names. Nothing is keyed by state name, so the definition alone decides
 * the order in which handlers run.
 *
 * Task resources the runner understands:
 * - a local function ARN (`${XFunctionArn}`): the handler's return value is the result;
 * - `arn:aws:states:::lambda:invoke` with `Parameters.FunctionName`: `{ StatusCode, Payload }`;
 * - `arn:aws:states:::lambda:invoke.waitForTaskToken`: not native to the interpreter. The
 *   runner (on its private copy of the definition, never the file) replaces
 *   `"x.$": "$$.Task.Token"` in the Parameters with a sentinel and wraps the Parameters with
 *   the state's TimeoutSeconds(Path) / HeartbeatSeconds(Path) so the interpreter evaluates
 *   those paths; at run time it generates a token, puts it where the sentinel was, registers
 *   it in the in-process {@link localTaskTokens} registry, invokes the handler, and waits for
 *   SendTaskSuccess / SendTaskFailure through that registry, or fails the task with
 *   `States.Timeout` / `States.HeartbeatTimeout` (Catch-able, like AWS);
 * - `arn:aws:states:::states:startExecution.sync:2` (or `.sync`) whose `StateMachineArn` is a
 *   local state machine passed to {@link LocalStateMachine.load}: runs that machine to its end
 *   and returns what AWS returns (`{ ExecutionArn, Name, Status, Output, ... }`, Output parsed
 *   for `:2`), or fails with `States.TaskFailed` and the child's error in the cause;
 * - `arn:aws:states:::states:startExecution` (no wait): starts the bound local machine and
 *   returns at once what AWS returns (`{ ExecutionArn, StartDate }`); the started execution is
 *   in the parent's result (`detachedExecutions`). A `StateMachineArn` that is not an ARN (the
 *   CDK app's `not-deployed` for a machine a stage does not deploy) fails the task, when
 *   reached, with `StepFunctions.InvalidArnException`, as AWS would.
 *
 * Time: the runner never sleeps. Each `Wait` state of its private copy is rewritten into a Task
 * that advances the runtime's {@link ManualClock} by the Wait's `Seconds` / `SecondsPath`, or
 * to its `Timestamp` / `TimestampPath` (never backwards), and passes its input on unchanged,
 * as a Wait does. The handlers read that same clock, so Wait/poll loops replay historical
 * sessions; no state of the definition carries the time.
 *
 * Every execution it starts is in the in-process {@link localExecutions} registry (RUNNING,
 * then how it ended), which answers DescribeExecution for the local composition.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  type RunOptions,
  StateMachine,
} from 'aws-local-stepfunctions';
import { ManualClock } from '../functions/ports/clock.js';
import { type AslDefinition, toLocalDefinition } from './asl-transform.js';
import { validationEntry } from './asl-validation-cache.js';
import { localExecutions } from './local-executions.js';
import { localTaskTokens } from './local-task-tokens.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';

/** A Lambda handler as the local runner calls it. */
export type LocalHandler = (event: unknown, context: Context) => Promise<unknown>;

/** Local ARN of the function named `name`, e.g. `...:function:stagegate-local-RunCohort`. */
export function localFunctionArn(name: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:stagegate-local-${name}`;
}

/** Local ARN of the state machine loaded from `statemachines/<file>`. */
export function localStateMachineArn(file: string): string {
  return `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:stagegate-local-${path.basename(file, '.asl.json')}`;
}

/** Replaces `${Name}` placeholders; throws when one is left without a value. */
export function substitute(definitionText: string, values: Readonly<Record<string, string>>) {
  const missing = new Set<string>();
  const out = definitionText.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_m, key: string) => {
    const v = values[key];
    if (v === undefined) missing.add(key);
    return v ?? '';
  });
  if (missing.size > 0) {
    throw new Error(`no local value for ASL placeholder(s): ${[...missing].join(', ')}`);
  }
  return out;
}

/** One entry of the local function registry: the placeholder it fills and its handler. */
export interface LocalFunction {
  /** Placeholder in the ASL, e.g. `RunCohortFunctionArn`. */
  readonly placeholder: string;
  /** Short function name, e.g. `RunCohort`. */
  readonly name: string;
  readonly handler: LocalHandler;
}

type StateDef = Record<string, unknown> & { Type?: string; Resource?: string };

/** Walks a definition (including Parallel branches and Map processors) yielding states. */
function* walkStates(def: { States?: Record<string, StateDef> }): Generator<[string, StateDef]> {
  for (const [name, state] of Object.entries(def.States ?? {})) {
    yield [name, state];
    const branches = (state.Branches as (typeof def)[] | undefined) ?? [];
    for (const b of branches) yield* walkStates(b);
    const proc = (state.ItemProcessor ?? state.Iterator) as typeof def | undefined;
    if (proc) yield* walkStates(proc);
  }
}

/** A Lambda-like context for an in-process invocation of `functionName`. */
export function localLambdaContext(functionName: string, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const fullName = `stagegate-local-${functionName}`;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: fullName,
    functionVersion: '$LATEST',
    invokedFunctionArn: localFunctionArn(functionName),
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${fullName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Progress of a local execution, as the state machine enters and leaves states. */
export interface ProgressEvent {
  readonly type: string;
  readonly state?: string;
  readonly error?: string;
  /** The nested (child) execution's state machine, when the event comes from one. */
  readonly machine?: string;
}

export interface LocalExecutionResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  /** Names of the states entered, in order (the execution's path). */
  readonly path: readonly string[];
  /** The last output of each state that exited (for reports; like GetExecutionHistory). */
  readonly stateOutputs: Readonly<Record<string, unknown>>;
  readonly executionArn?: string;
  /** Results of nested executions (`startExecution.sync`), by the state that started them. */
  readonly childExecutions?: Readonly<Record<string, LocalExecutionResult>>;
  /** Executions started without waiting (`startExecution`), by the state that started them. */
  readonly detachedExecutions?: Readonly<Record<string, LocalExecution>>;
}

/** Options of one execution. */
export interface LocalExecuteOptions {
  readonly executionName?: string;
  readonly onProgress?: (e: ProgressEvent) => void;
  /**
   * Caps how long a `.waitForTaskToken` task waits, ms (tests: make the 4-hour approval
   * timeout happen in a second). Applies to nested executions too.
   */
  readonly taskTokenTimeoutMs?: number;
  /** Aborts the execution (it ends FAILED with error `ExecutionAborted`). */
  readonly signal?: AbortSignal;
}

/** A started execution. */
export interface LocalExecution {
  readonly executionArn: string;
  readonly executionName: string;
  /** Settles when the execution ends; never rejects for a failed execution. */
  readonly result: Promise<LocalExecutionResult>;
  /** Aborts it (no-op once ended). */
  abort(): void;
}

/** An error with the name Step Functions would report (Catch matches `name`). */
class StatesError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const TASK_TOKEN_SENTINEL = '__stagegate_local_task_token__';
/** Largest timer Node accepts (~24.8 days), s: the interpreter's own race never fires first. */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/**
 * The interpreter races every Task against its `TimeoutSeconds` (60 s when absent) on the wall
 * clock. For an in-process handler that race measures this machine's load, not the deployed
 * Lambda's timeout (a 2-core machine running two test suites is several times slower than a
 * dedicated Lambda), so the local deadline is the declared one times this factor, at least
 * {@link LOCAL_TASK_MIN_DEADLINE_SECONDS}: generous, still bounded (a hung handler ends as
 * `States.Timeout`). The handler's own context keeps the declared timeout.
 */
export const LOCAL_TASK_DEADLINE_FACTOR = 10;
/** Floor of the local deadline of an in-process Task, seconds. */
export const LOCAL_TASK_MIN_DEADLINE_SECONDS = 600;

/** The interpreter's deadline of an in-process Task that declares `declaredSeconds`. */
export function localTaskDeadlineSeconds(declaredSeconds: number | undefined): number {
  const declared = declaredSeconds ?? 60;
  return Math.min(
    MAX_TIMER_SECONDS,
    Math.max(LOCAL_TASK_MIN_DEADLINE_SECONDS, declared * LOCAL_TASK_DEADLINE_FACTOR),
  );
}
const WAIT_FOR_TASK_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
/** Resource of the Task a Wait state becomes locally (never a deployed function). */
const ADVANCE_CLOCK_ARN = localFunctionArn('LocalAdvanceClock');
const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const START_EXECUTION_SYNC = /^arn:aws:states:::states:startExecution\.sync(:2)?$/;
const START_EXECUTION = 'arn:aws:states:::states:startExecution';

/** Replaces every `"x.$": "$$.Task.Token"` with `"x": <sentinel>` (deep). */
function withTokenSentinel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withTokenSentinel);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.endsWith('.$') && v === '$$.Task.Token') out[k.slice(0, -2)] = TASK_TOKEN_SENTINEL;
    else out[k] = withTokenSentinel(v);
  }
  return out;
}

/** Puts `token` where the sentinel is (deep). */
function withToken(value: unknown, token: string): unknown {
  if (value === TASK_TOKEN_SENTINEL) return token;
  if (Array.isArray(value)) return value.map((v) => withToken(v, token));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withToken(v, token)]));
}

const roundTrip = (v: unknown): unknown => JSON.parse(JSON.stringify(v ?? null)) as unknown;

/** How the runner executes one Task state. */
type TaskBinding =
  | { readonly kind: 'lambda'; readonly fn: LocalFunction; readonly timeoutMs: number }
  | { readonly kind: 'lambdaInvoke'; readonly fn: LocalFunction; readonly timeoutMs: number }
  | { readonly kind: 'waitForTaskToken'; readonly fn: LocalFunction }
  | { readonly kind: 'startExecution'; readonly child: LocalStateMachine; readonly v2: boolean }
  | {
      readonly kind: 'startDetached';
      readonly child: LocalStateMachine | null;
      readonly arn: string;
    }
  | { readonly kind: 'advanceClock' };

/**
 * Rewrites a Wait state, in place, into a Task that advances the local clock: the Wait's
 * duration goes into the Parameters (paths evaluated by the interpreter against the state's
 * effective input), and the effective input is the Task's result, so the state's output is
 * what the Wait would have passed on. InputPath, OutputPath, Next/End and Comment are kept.
 */
function waitToAdvanceClock(state: StateDef): void {
  const params: Record<string, unknown> = { '__input.$': '$' };
  if (state.Seconds !== undefined) params.__seconds = state.Seconds;
  else if (state.SecondsPath !== undefined) params['__seconds.$'] = state.SecondsPath;
  else if (state.Timestamp !== undefined) params.__timestamp = state.Timestamp;
  else if (state.TimestampPath !== undefined) params['__timestamp.$'] = state.TimestampPath;
  for (const k of ['Seconds', 'SecondsPath', 'Timestamp', 'TimestampPath']) delete state[k];
  state.Type = 'Task';
  state.Resource = ADVANCE_CLOCK_ARN;
  state.Parameters = params;
  state.TimeoutSeconds = localTaskDeadlineSeconds(undefined);
}

/** Advances `clock` as the rewritten Wait says and returns the Wait's input. */
function advanceClock(clock: ManualClock, input: unknown): unknown {
  const w = input as { __input: unknown; __seconds?: unknown; __timestamp?: unknown };
  if (w.__seconds !== undefined) {
    const seconds = Number(w.__seconds);
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new StatesError('States.Runtime', `Wait seconds must be >= 0, got ${w.__seconds}`);
    }
    clock.advance(seconds * 1000);
  } else if (w.__timestamp !== undefined) {
    const at = Date.parse(String(w.__timestamp));
    if (!Number.isFinite(at)) {
      throw new StatesError('States.Runtime', `Wait timestamp is not ISO-8601: ${w.__timestamp}`);
    }
    if (at > clock.now()) clock.set(at);
  }
  return w.__input;
}

/**
 * Rewrites a `waitForTaskToken` Task's Parameters, in place, so the override receives the
 * task token sentinel and the state's timeout and heartbeat (seconds, or their paths); the
 * interpreter's own timer is set to its maximum (the override enforces the timeout).
 */
function wrapTaskTokenState(state: StateDef, params: Record<string, unknown>): void {
  const wrapped: Record<string, unknown> = { __params: withTokenSentinel(params) };
  const timeout = state.TimeoutSeconds ?? state.TimeoutSecondsPath;
  const heartbeat = state.HeartbeatSeconds ?? state.HeartbeatSecondsPath;
  if (state.TimeoutSecondsPath) wrapped['__timeoutSeconds.$'] = state.TimeoutSecondsPath;
  else if (timeout !== undefined) wrapped.__timeoutSeconds = timeout;
  if (state.HeartbeatSecondsPath) wrapped['__heartbeatSeconds.$'] = state.HeartbeatSecondsPath;
  else if (heartbeat !== undefined) wrapped.__heartbeatSeconds = heartbeat;
  state.Parameters = wrapped;
  state.TimeoutSeconds = MAX_TIMER_SECONDS;
  delete state.TimeoutSecondsPath;
  delete state.HeartbeatSeconds;
  delete state.HeartbeatSecondsPath;
}

/**
 * The binding of a Lambda Task (direct ARN, `lambda:invoke` or `waitForTaskToken`), or null
 * when the resource is not a Lambda. A Lambda's deadline is relaxed for the local machine.
 * @throws Error naming the state when its FunctionName has no local handler.
 */
function bindLambdaState(
  stateName: string,
  state: StateDef,
  byArn: ReadonlyMap<string, LocalFunction>,
): TaskBinding | null {
  const resource = state.Resource as string;
  const params = (state.Parameters ?? {}) as Record<string, unknown>;
  const timeoutMs = ((state.TimeoutSeconds as number | undefined) ?? 60) * 1000;
  const relaxDeadline = () => {
    state.TimeoutSeconds = localTaskDeadlineSeconds(timeoutMs / 1000);
    delete state.TimeoutSecondsPath;
  };
  const direct = byArn.get(resource);
  if (direct) {
    relaxDeadline();
    return { kind: 'lambda', fn: direct, timeoutMs };
  }
  if (resource !== LAMBDA_INVOKE && resource !== WAIT_FOR_TASK_TOKEN) return null;
  const fn = byArn.get(String(params.FunctionName));
  if (!fn) {
    throw new Error(
      `state ${stateName}: no local handler for FunctionName ${String(params.FunctionName)}`,
    );
  }
  if (resource === LAMBDA_INVOKE) {
    relaxDeadline();
    return { kind: 'lambdaInvoke', fn, timeoutMs };
  }
  wrapTaskTokenState(state, params);
  return { kind: 'waitForTaskToken', fn };
}

/**
 * The binding of a nested-execution Task (`startExecution.sync[:2]` or a detached
 * `startExecution`), or null when the resource is not one.
 * @throws Error naming the state when the child machine is not local.
 */
function bindExecutionState(
  stateName: string,
  state: StateDef,
  children: ReadonlyMap<string, LocalStateMachine>,
): TaskBinding | null {
  const resource = state.Resource as string;
  const arn = String(((state.Parameters ?? {}) as Record<string, unknown>).StateMachineArn);
  if (START_EXECUTION_SYNC.test(resource)) {
    const child = children.get(arn);
    if (!child) throw new Error(`state ${stateName}: no local state machine for ${arn}`);
    // The child's own timeouts apply; the interpreter's race must not cut it short.
    state.TimeoutSeconds = Math.min(
      (state.TimeoutSeconds as number | undefined) ?? MAX_TIMER_SECONDS,
      MAX_TIMER_SECONDS,
    );
    return { kind: 'startExecution', child, v2: resource.endsWith(':2') };
  }
  if (resource !== START_EXECUTION) return null;
  const child = children.get(arn) ?? null;
  if (!child && arn.startsWith('arn:')) {
    throw new Error(`state ${stateName}: no local state machine for ${arn}`);
  }
  return { kind: 'startDetached', child, arn };
}

/**
 * Binds one state of the runner's copy of the definition to its local implementation,
 * adapting the state in place (a Wait becomes a clock-advancing Task; Task deadlines and
 * task-token parameters are adapted); null for a state that is not a Task.
 * @throws Error naming the state when its resource has no local handler.
 */
function bindState(
  stateName: string,
  state: StateDef,
  byArn: ReadonlyMap<string, LocalFunction>,
  children: ReadonlyMap<string, LocalStateMachine>,
): TaskBinding | null {
  if (state.Type === 'Wait') {
    waitToAdvanceClock(state);
    return { kind: 'advanceClock' };
  }
  if (state.Type !== 'Task' || typeof state.Resource !== 'string') return null;
  const binding =
    bindLambdaState(stateName, state, byArn) ?? bindExecutionState(stateName, state, children);
  if (!binding) {
    throw new Error(`state ${stateName}: no local handler for resource ${state.Resource}`);
  }
  return binding;
}

/**
 * Follows an execution's event log: the states entered (its path), each exited state's last
 * output, and every event passed to `options.onProgress`. `done` settles when the log ends.
 */
function followHistory(
  execution: { readonly eventLogs: AsyncIterable<unknown> },
  options: LocalExecuteOptions,
): { visited: string[]; stateOutputs: Record<string, unknown>; done: Promise<void> } {
  const visited: string[] = [];
  const stateOutputs: Record<string, unknown> = {};
  const done = (async () => {
    for await (const ev of execution.eventLogs) {
      const e = ev as {
        type: string;
        state?: { name?: string; output?: unknown };
        Error?: string;
      };
      if (e.type === 'StateEntered' && e.state?.name) visited.push(e.state.name);
      if (e.type === 'StateExited' && e.state?.name) stateOutputs[e.state.name] = e.state.output;
      options.onProgress?.({ type: e.type, state: e.state?.name, error: e.Error });
    }
  })();
  return { visited, stateOutputs, done };
}

/**
 * A failed execution as Step Functions reports it: the error name and cause of an
 * ExecutionError, `ExecutionAborted` or `States.Timeout`.
 * @throws the error itself when it is none of those (a bug of the runner, not a failure).
 */
function failureOf(err: unknown): { status: 'FAILED'; error: string; cause: string } {
  if (err instanceof ExecutionError) {
    const cause = err.cause as { name?: string; message?: string } | undefined;
    return {
      status: 'FAILED',
      error: cause?.name ?? 'States.Runtime',
      cause: cause?.message ?? err.message,
    };
  }
  if (err instanceof ExecutionAbortedError) {
    return { status: 'FAILED', error: 'ExecutionAborted', cause: 'aborted' };
  }
  if (err instanceof ExecutionTimeoutError) {
    return { status: 'FAILED', error: 'States.Timeout', cause: 'execution timed out' };
  }
  throw err;
}

/** Per-execution context the overrides need. */
interface RunContext {
  readonly executionArn: string;
  readonly signal: AbortSignal;
  readonly options: LocalExecuteOptions;
  readonly children: Record<string, LocalExecutionResult>;
  readonly detached: Record<string, LocalExecution>;
}

/** A state machine definition loaded from `statemachines/` and bound to local handlers. */
export class LocalStateMachine {
  private readonly machine: StateMachine;
  private readonly bindings = new Map<string, TaskBinding>();
  private readonly definition: Record<string, unknown>;
  /** This machine's local ARN. */
  readonly arn: string;
  /**
   * Whether this construction ran the interpreter's validator (false: the same definition was
   * validated before, `local/asl-validation-cache.ts`).
   */
  readonly validatedNow: boolean;

  private constructor(
    readonly name: string,
    definition: Record<string, unknown>,
    functions: readonly LocalFunction[],
    children: ReadonlyMap<string, LocalStateMachine>,
    private readonly retryIntervalMs: number,
    /** The runtime's simulated clock: Wait states advance it, handlers read it. */
    readonly clock: ManualClock,
  ) {
    this.arn = localStateMachineArn(name);
    // The runner works on its own copy: the file's definition is never changed.
    this.definition = structuredClone(definition);
    const byArn = new Map(functions.map((f) => [localFunctionArn(f.name), f]));
    for (const [stateName, state] of walkStates(this.definition)) {
      const binding = bindState(stateName, state, byArn, children);
      if (binding) this.bindings.set(stateName, binding);
    }
    // Validated once per definition content (local/asl-validation-cache.ts), not every start.
    // Keyed before the interpreter sees the definition: it normalizes the object it is given.
    const checks = { checkPaths: true, checkArn: true };
    const cached = validationEntry(this.definition, checks);
    this.machine = new StateMachine(this.definition as never, {
      validationOptions: cached.known ? { noValidate: true } : checks,
    });
    if (!cached.known) cached.remember();
    this.validatedNow = !cached.known;
  }

  /**
   * Loads `statemachines/<file>` and substitutes each function's placeholder with its local
   * ARN and each `stateMachines` placeholder with that machine's local ARN (for nested
   * `startExecution.sync` tasks). `retryIntervalMs` replaces every Retry interval.
   */
  static async load(
    file: string,
    functions: readonly LocalFunction[],
    options: {
      retryIntervalMs?: number;
      stateMachines?: Readonly<Record<string, LocalStateMachine>>;
      /** Other `definitionSubstitutions` (the same values the CDK app passes). */
      values?: Readonly<Record<string, string>>;
      /** The clock Wait states advance (the one the handlers read). Default: a new one at now. */
      clock?: ManualClock;
    } = {},
  ): Promise<LocalStateMachine> {
    const text = await readFile(path.join(repoRoot, 'statemachines', file), 'utf8');
    const machines = Object.entries(options.stateMachines ?? {});
    const values = {
      ...options.values,
      ...Object.fromEntries(functions.map((f) => [f.placeholder, localFunctionArn(f.name)])),
      ...Object.fromEntries(machines.map(([placeholder, m]) => [placeholder, m.arn])),
    };
    // The file is the AWS definition; only this in-memory copy is adapted to the local
    // interpreter (Distributed Map -> inline Map with an emulated ItemBatcher).
    const definition = toLocalDefinition(
      JSON.parse(substitute(text, values)) as AslDefinition,
    ) as unknown as Record<string, unknown>;
    const children = new Map(machines.map(([, m]) => [m.arn, m]));
    return new LocalStateMachine(
      file,
      definition,
      functions,
      children,
      options.retryIntervalMs ?? 10,
      options.clock ?? new ManualClock(Date.now()),
    );
  }

  /**
   * Binds an in-memory definition (already substituted) to local handlers, for tests of the
   * runner itself; `name` plays the role of the file name (`<name>.asl.json`).
   */
  static fromDefinition(
    name: string,
    definition: Record<string, unknown>,
    functions: readonly LocalFunction[],
    options: {
      retryIntervalMs?: number;
      stateMachines?: readonly LocalStateMachine[];
      clock?: ManualClock;
    } = {},
  ): LocalStateMachine {
    const children = new Map((options.stateMachines ?? []).map((m) => [m.arn, m]));
    return new LocalStateMachine(
      `${name}.asl.json`,
      definition,
      functions,
      children,
      options.retryIntervalMs ?? 10,
      options.clock ?? new ManualClock(Date.now()),
    );
  }

  private override(stateName: string, binding: TaskBinding, run: RunContext) {
    switch (binding.kind) {
      case 'lambda':
        return async (input: unknown) => {
          // Round-trip through JSON like the Lambda service does, so no handler can rely on
          // object identity or non-JSON values crossing a state boundary.
          const ctx = localLambdaContext(binding.fn.name, binding.timeoutMs);
          return roundTrip(await binding.fn.handler(roundTrip(input), ctx));
        };
      case 'lambdaInvoke':
        return async (input: unknown) => {
          const payload = (input as { Payload?: unknown }).Payload;
          const ctx = localLambdaContext(binding.fn.name, binding.timeoutMs);
          const out = await binding.fn.handler(roundTrip(payload), ctx);
          return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: roundTrip(out) };
        };
      case 'waitForTaskToken':
        return (input: unknown) => this.waitForTaskToken(stateName, binding.fn, input, run);
      case 'startExecution':
        return (input: unknown) => this.startChild(stateName, binding, input, run);
      case 'startDetached':
        return async (input: unknown) => {
          const { child, arn } = binding;
          if (!child) {
            throw new StatesError(
              'StepFunctions.InvalidArnException',
              `Invalid Arn: 'Resource Type on ARN was not found: ${arn}'`,
            );
          }
          const params = input as { Input?: unknown; Name?: string };
          const execution = child.start(roundTrip(params.Input ?? {}), {
            executionName: params.Name ?? randomUUID(),
            taskTokenTimeoutMs: run.options.taskTokenTimeoutMs,
            onProgress: (e) =>
              run.options.onProgress?.({ ...e, machine: e.machine ?? child.machineName }),
          });
          run.detached[stateName] = execution;
          return { ExecutionArn: execution.executionArn, StartDate: new Date().toISOString() };
        };
      case 'advanceClock':
        return async (input: unknown) => advanceClock(this.clock, input);
    }
  }

  private async waitForTaskToken(
    stateName: string,
    fn: LocalFunction,
    input: unknown,
    run: RunContext,
  ): Promise<unknown> {
    const wrapped = input as {
      __params: { Payload?: unknown };
      __timeoutSeconds?: number;
      __heartbeatSeconds?: number;
    };
    const token = `local-${randomUUID()}-${randomUUID()}`;
    const stateTimeoutMs = (wrapped.__timeoutSeconds ?? 99_999_999) * 1000;
    const timeoutMs = Math.min(
      stateTimeoutMs,
      run.options.taskTokenTimeoutMs ?? Number.POSITIVE_INFINITY,
      MAX_TIMER_SECONDS * 1000,
    );
    const heartbeatMs =
      wrapped.__heartbeatSeconds !== undefined && wrapped.__heartbeatSeconds * 1000 < timeoutMs
        ? wrapped.__heartbeatSeconds * 1000
        : null;
    const timers: ReturnType<typeof setTimeout>[] = [];
    let heartbeat: ReturnType<typeof setTimeout> | undefined;
    let fail: (err: Error) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    failed.catch(() => undefined); // observed through the races below
    const armHeartbeat = () => {
      if (heartbeatMs === null) return;
      if (heartbeat) clearTimeout(heartbeat);
      heartbeat = setTimeout(
        () =>
          fail(new StatesError('States.HeartbeatTimeout', `no heartbeat within ${heartbeatMs} ms`)),
        heartbeatMs,
      );
    };
    const waiting = localTaskTokens.register(
      { taskToken: token, executionArn: run.executionArn, stateName, registeredAtMs: Date.now() },
      armHeartbeat,
    );
    timers.push(
      setTimeout(
        () => fail(new StatesError('States.Timeout', `task timed out after ${timeoutMs} ms`)),
        timeoutMs,
      ),
    );
    armHeartbeat();
    const onAbort = () => fail(new StatesError('ExecutionAborted', 'execution aborted'));
    run.signal.addEventListener('abort', onAbort);
    let ended: 'timed_out' | 'does_not_exist' = 'does_not_exist';
    try {
      const payload = withToken(wrapped.__params.Payload, token);
      const invoked = fn.handler(roundTrip(payload), localLambdaContext(fn.name, 60_000));
      await Promise.race([invoked, failed]);
      return await Promise.race([waiting, failed]);
    } catch (err) {
      if (
        (err as Error).name === 'States.Timeout' ||
        (err as Error).name === 'States.HeartbeatTimeout'
      ) {
        ended = 'timed_out';
      }
      throw err;
    } finally {
      for (const t of timers) clearTimeout(t);
      if (heartbeat) clearTimeout(heartbeat);
      run.signal.removeEventListener('abort', onAbort);
      if (localTaskTokens.waitingTasks().some((t) => t.taskToken === token)) {
        localTaskTokens.end(token, ended);
      }
      waiting.catch(() => undefined);
    }
  }

  private async startChild(
    stateName: string,
    binding: Extract<TaskBinding, { kind: 'startExecution' }>,
    input: unknown,
    run: RunContext,
  ): Promise<unknown> {
    const params = input as { Input?: unknown; Name?: string };
    const childInput = roundTrip(params.Input ?? {});
    const startDate = new Date().toISOString();
    const execution = binding.child.start(childInput, {
      executionName: params.Name ?? randomUUID(),
      taskTokenTimeoutMs: run.options.taskTokenTimeoutMs,
      signal: run.signal,
      onProgress: (e) =>
        run.options.onProgress?.({ ...e, machine: e.machine ?? binding.child.machineName }),
    });
    const result = await execution.result;
    run.children[stateName] = result;
    const base = {
      ExecutionArn: execution.executionArn,
      Name: execution.executionName,
      StateMachineArn: binding.child.arn,
      Input: binding.v2 ? childInput : JSON.stringify(childInput),
      InputDetails: { Included: true },
      StartDate: startDate,
      StopDate: new Date().toISOString(),
    };
    if (result.status === 'SUCCEEDED') {
      return {
        ...base,
        Status: 'SUCCEEDED',
        Output: binding.v2 ? roundTrip(result.output) : JSON.stringify(result.output ?? null),
        OutputDetails: { Included: true },
      };
    }
    throw new StatesError(
      'States.TaskFailed',
      JSON.stringify({ ...base, Status: 'FAILED', Error: result.error, Cause: result.cause }),
    );
  }

  /** Short name of the machine (`promotion-pipeline`). */
  get machineName(): string {
    return path.basename(this.name, '.asl.json');
  }

  /**
   * Starts one execution and returns at once; `result` settles when it ends (like
   * DescribeExecution: it never rejects for a failed execution, only for interpreter faults).
   */
  start(input: unknown, options: LocalExecuteOptions = {}): LocalExecution {
    const executionName = options.executionName ?? randomUUID();
    const executionArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:stagegate-local-${this.machineName}:${executionName}`;
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort();
    if (options.signal?.aborted) controller.abort();
    options.signal?.addEventListener('abort', onOuterAbort);
    const run: RunContext = {
      executionArn,
      signal: controller.signal,
      options,
      children: {},
      detached: {},
    };
    const execution = this.machine.run(input as never, this.runOptions(input, executionName, run));
    const onAbort = () => execution.abort();
    controller.signal.addEventListener('abort', onAbort);
    const history = followHistory(execution, options);
    const common = () => ({
      path: history.visited,
      stateOutputs: history.stateOutputs,
      executionArn,
      childExecutions: run.children,
      detachedExecutions: run.detached,
    });
    const result = (async (): Promise<LocalExecutionResult> => {
      try {
        const output = await execution.result;
        await history.done;
        return { status: 'SUCCEEDED', output, ...common() };
      } catch (err) {
        await history.done.catch(() => undefined);
        return { ...failureOf(err), ...common() };
      } finally {
        controller.signal.removeEventListener('abort', onAbort);
        options.signal?.removeEventListener('abort', onOuterAbort);
      }
    })();
    localExecutions.started(executionArn);
    result.then(
      (r) => localExecutions.end(executionArn, r, this.clock.now()),
      (err: unknown) =>
        localExecutions.end(
          executionArn,
          { status: 'FAILED', error: 'States.Runtime', cause: String(err) },
          this.clock.now(),
        ),
    );
    return {
      executionArn,
      executionName,
      result,
      abort: () => controller.abort(),
    };
  }

  /**
   * The interpreter's options of one execution: the local overrides of every bound state, the
   * runner's Retry interval for every state with a Retry, and the context object (`$$`) with
   * the execution's start time on the runtime's clock.
   */
  private runOptions(input: unknown, executionName: string, run: RunContext): RunOptions {
    const overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const [stateName, binding] of this.bindings) {
      overrides[stateName] = this.override(stateName, binding, run);
    }
    const retryIntervalOverrides: Record<string, number> = {};
    for (const [stateName, state] of walkStates(this.definition)) {
      if (state.Retry) retryIntervalOverrides[stateName] = this.retryIntervalMs;
    }
    return {
      overrides: {
        taskResourceLocalHandlers: overrides as never,
        retryIntervalOverrides,
      },
      context: {
        Execution: {
          Id: run.executionArn,
          Name: executionName,
          Input: input as never,
          StartTime: new Date(this.clock.now()).toISOString(),
          RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/stagegate-local`,
        },
        StateMachine: { Id: this.arn, Name: `stagegate-local-${this.machineName}` },
      } as never,
    };
  }

  /**
   * Runs one execution to its end. Never throws for a failed execution: the result carries
   * the error name and cause (like DescribeExecution); throws only for interpreter faults.
   */
  async execute(input: unknown, options: LocalExecuteOptions = {}): Promise<LocalExecutionResult> {
    return this.start(input, options).result;
  }
}
