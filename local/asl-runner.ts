/**
 * Executes the project's ASL files locally with `aws-local-stepfunctions`, invoking the SAME
 * Lambda handler modules the CDK app deploys. The definition is the file in `statemachines/`
 * with its `${...FunctionArn}` placeholders substituted by local ARNs; every Task state whose
 * resource is one of those ARNs is overridden to call the matching handler in-process with a
 * Lambda-like context. Nothing is keyed by state name, so the definition alone decides the
 * order in which handlers run.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import { ExecutionError, type RunOptions, StateMachine } from 'aws-local-stepfunctions';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_REGION = 'us-east-1';

/** A Lambda handler as the local runner calls it. */
export type LocalHandler = (event: unknown, context: Context) => Promise<unknown>;

/** Local ARN of the function named `name`, e.g. `...:function:stagegate-local-RunCohort`. */
export function localFunctionArn(name: string): string {
  return `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:stagegate-local-${name}`;
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

function lambdaContext(fn: LocalFunction, timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const functionName = `stagegate-local-${fn.name}`;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: localFunctionArn(fn.name),
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
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
}

/** A state machine definition loaded from `statemachines/` and bound to local handlers. */
export class LocalStateMachine {
  private readonly machine: StateMachine;
  private readonly overrides: Record<string, (input: unknown) => Promise<unknown>> = {};

  private constructor(
    readonly name: string,
    private readonly definition: Record<string, unknown>,
    functions: readonly LocalFunction[],
    private readonly retryIntervalMs: number,
  ) {
    const byArn = new Map(functions.map((f) => [localFunctionArn(f.name), f]));
    for (const [stateName, state] of walkStates(definition)) {
      if (state.Type !== 'Task' || typeof state.Resource !== 'string') continue;
      const fn = byArn.get(state.Resource);
      if (!fn) {
        throw new Error(`state ${stateName}: no local handler for resource ${state.Resource}`);
      }
      const timeoutMs = ((state.TimeoutSeconds as number | undefined) ?? 60) * 1000;
      this.overrides[stateName] = async (input) => {
        // Round-trip through JSON like the Lambda service does, so no handler can rely on
        // object identity or non-JSON values crossing a state boundary.
        const event = JSON.parse(JSON.stringify(input)) as unknown;
        const out = await fn.handler(event, lambdaContext(fn, timeoutMs));
        return JSON.parse(JSON.stringify(out ?? null)) as unknown;
      };
    }
    this.machine = new StateMachine(definition as never, {
      validationOptions: { checkPaths: true, checkArn: true },
    });
  }

  /**
   * Loads `statemachines/<file>` and substitutes each function's placeholder with its local
   * ARN. `retryIntervalMs` replaces every Retry interval (keeps local retries fast).
   */
  static async load(
    file: string,
    functions: readonly LocalFunction[],
    options: { retryIntervalMs?: number } = {},
  ): Promise<LocalStateMachine> {
    const text = await readFile(path.join(repoRoot, 'statemachines', file), 'utf8');
    const values = Object.fromEntries(
      functions.map((f) => [f.placeholder, localFunctionArn(f.name)]),
    );
    const definition = JSON.parse(substitute(text, values)) as Record<string, unknown>;
    return new LocalStateMachine(file, definition, functions, options.retryIntervalMs ?? 10);
  }

  /**
   * Runs one execution to its end. Never throws for a failed execution: the result carries
   * the error name and cause (like DescribeExecution); throws only for interpreter faults.
   */
  async execute(
    input: unknown,
    options: { executionName?: string; onProgress?: (e: ProgressEvent) => void } = {},
  ): Promise<LocalExecutionResult> {
    const executionName = options.executionName ?? randomUUID();
    const machineName = path.basename(this.name, '.asl.json');
    const executionArn = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:execution:stagegate-local-${machineName}:${executionName}`;
    const retryIntervalOverrides: Record<string, number> = {};
    const waitTimeOverrides: Record<string, number> = {};
    for (const [stateName, state] of walkStates(this.definition)) {
      if (state.Retry) retryIntervalOverrides[stateName] = this.retryIntervalMs;
      // Wait states do not sleep locally: replayed time advances through the execution's own
      // state ($.clock, see the promotion pipeline), never through the wall clock.
      if (state.Type === 'Wait') waitTimeOverrides[stateName] = 0;
    }
    const runOptions: RunOptions = {
      overrides: {
        taskResourceLocalHandlers: this.overrides as never,
        retryIntervalOverrides,
        waitTimeOverrides,
      },
      context: {
        Execution: {
          Id: executionArn,
          Name: executionName,
          Input: input as never,
          StartTime: new Date().toISOString(),
          RoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/stagegate-local`,
        },
        StateMachine: {
          Id: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:stagegate-local-${machineName}`,
          Name: `stagegate-local-${machineName}`,
        },
      } as never,
    };
    const execution = this.machine.run(input as never, runOptions);
    const visited: string[] = [];
    const stateOutputs: Record<string, unknown> = {};
    const logs = (async () => {
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
    try {
      const output = await execution.result;
      await logs;
      return { status: 'SUCCEEDED', output, path: visited, stateOutputs };
    } catch (err) {
      await logs.catch(() => undefined);
      if (err instanceof ExecutionError) {
        const cause = err.cause as { name?: string; message?: string } | undefined;
        return {
          status: 'FAILED',
          error: cause?.name ?? 'States.Runtime',
          cause: cause?.message ?? err.message,
          path: visited,
          stateOutputs,
        };
      }
      throw err;
    }
  }
}
