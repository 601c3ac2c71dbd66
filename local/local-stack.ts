/**
 * The local stack: real local servers (DynamoDB Local, the s3rver S3 emulator), the table
 * and buckets the stateful CDK stack declares, the local composition root's dependencies
 * (`local/composition.ts`) pointing at them, and the state machines from `statemachines/`
 * bound to the real handler modules built with those dependencies.
 *
 * The handlers are the deployed ones; only the composition root differs (AWS:
 * `functions/composition/`, built from the Lambda environment; local: typed dependencies,
 * the manual clock, no `process.env` writes).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FileSystemBlobSource } from '../functions/adapters/market-data/blob-source.js';
import { LeanMarketData } from '../functions/adapters/market-data/lean-market-data.js';
import { logger, routeLogsTo } from '../functions/adapters/observability.js';
import type { ApprovalDeps } from '../functions/composition/approval.js';
import { inFlightWorkflows } from '../functions/composition/promotion.js';
import type { Runtime } from '../functions/composition/runtime.js';
import type { PromotionRecoveryDeps } from '../functions/core/use-cases/promotion-recovery.js';
import { type SweepResult, sweepInFlight } from '../functions/core/use-cases/recover-in-flight.js';
import { ManualClock } from '../functions/ports/clock.js';
import type { MarketDataPort } from '../functions/ports/market-data.js';
import type { Notifier } from '../functions/ports/notifier.js';
import type { DeepPartial, EnvironmentConfig } from '../lib/config/environment-config.js';
import { loadEnvironmentConfig } from '../lib/config/environments.js';
import { cohortStateMachineValues } from '../lib/config/runtime-env.js';
import { type LocalFunction, LocalStateMachine } from './asl-runner.js';
import { type BootedServers, bootLocalServers, LOCAL_BUCKETS, LOCAL_TABLE } from './boot.js';
import {
  composeLocalApproval,
  composeLocalDay3,
  composeLocalDeps,
  ingestFunction,
  type LocalDay3,
  type LocalDay3Settings,
  type LocalDeps,
  localFunctions,
  preloadHandlerModules,
} from './composition.js';
import { ConsoleNotifier } from './console-notifier.js';
import { type FakeAlpacaData, startFakeAlpacaData } from './fake-alpaca-data.js';
import { ensureTable, LOCAL_CREDENTIALS, LOCAL_REGION, type LocalServers } from './servers.js';
import type { StateLock } from './state-lock.js';

export { LOCAL_BUCKETS, LOCAL_TABLE };

/** What one run's session chain is loaded with (the CDK app takes them from the config). */
export interface ChainSettings {
  /** The ingestion's universe (one market). */
  readonly symbols: readonly string[];
  readonly bankrollUsd: number;
  readonly agentCount: number;
  readonly allocation: string;
}

/** The Day-3 go/no-go of one run, bound to that run's approval dependencies. */
export interface LocalDay3Run extends LocalDay3 {
  /** `statemachines/day3-go-no-go.asl.json` (runs the promotion pipeline nested). */
  readonly machine: LocalStateMachine;
}

export interface LocalStack {
  readonly servers: LocalServers;
  /** The same composition the handlers use, for reading state back (CLI, tests). */
  readonly runtime: Runtime;
  /** The promotion pipeline's dependencies, as its handlers get them. */
  readonly promotion: PromotionRecoveryDeps;
  readonly intradayCohort: LocalStateMachine;
  readonly promotionPipeline: LocalStateMachine;
  /** `statemachines/paper-session.asl.json` (run nested by the promotion pipeline). */
  readonly paperSession: LocalStateMachine;
  readonly learningCycle: LocalStateMachine;
  /**
   * The approval dependencies over this stack's approval key (the console's decisions, tests).
   * @param notifier where decisions are announced. @default a console notifier (stdout)
   */
  approvalDeps(notifier?: Notifier): Promise<ApprovalDeps>;
  /**
   * Composes a Day-3 go/no-go run (its approval dependencies, handlers and state machine).
   * Every run signs with this stack's one approval key; nothing is shared through the process.
   */
  day3(settings: LocalDay3Settings): Promise<LocalDay3Run>;
  /**
   * The clock the in-process handlers read: the local scheduler sets it to each firing and
   * the state machines' Wait states advance it.
   */
  readonly clock: ManualClock;
  /**
   * With `alpacaFake`: the fake Alpaca data server the ingestion pulls from, and
   * `statemachines/session-ingestion.asl.json` loaded for one run's chain (ingestion, then the
   * cohort and the learning cycle nested; the Day-3 go/no-go is not chained locally:
   * `Day3Chained` false, as in a stage without approvers, see `local/replay.ts`).
   */
  readonly alpaca?: {
    readonly fake: FakeAlpacaData;
    /** The LEAN tree the fake serves (which sessions and symbols the "provider" has). */
    readonly source: MarketDataPort;
    sessionIngestion(chain: ChainSettings): Promise<LocalStateMachine>;
  };
  /** The environment config the local mode runs with (dev's, see lib/config). */
  readonly config: EnvironmentConfig;
  /**
   * What the start-up crash sweep found: runs a previous process left mid-flight in this
   * state folder, reconciled with the broker and closed (functions/core/use-cases/recover-in-flight.ts).
   */
  readonly recovery: SweepResult;
  stop(): Promise<void>;
}

export interface LocalStackOptions {
  /** LEAN data root (absolute or relative to the working directory). */
  readonly dataRoot: string;
  /** Folder for server data, or `'memory'` (tests). */
  readonly stateDir: string | 'memory';
  /** Powertools log level for the handlers. Default `WARN`. */
  readonly logLevel?: string;
  /** Overrides of the dev environment config (tests). */
  readonly configOverrides?: DeepPartial<EnvironmentConfig>;
  /** Simulated paper broker account (each `run` opens a fresh one). Default `local-paper`. */
  readonly brokerAccount?: string;
  /** The simulated clock for the handlers. Default: one starting at the wall clock's now. */
  readonly clock?: ManualClock;
  /** Largest cohort run by one RunCohort; bigger ones fan out in shards of this size. */
  readonly shardAgents?: number;
  /**
   * `stagegate run --market-data alpaca-fake`: start the fake Alpaca data server (loopback,
   * random keys held in memory) over the LEAN tree `sourceRoot`, serving only data that exists
   * at the simulated clock's now; the session ingestion pulls from it through the Alpaca
   * adapter into `dataRoot`, which every other handler reads.
   */
  readonly alpacaFake?: { readonly sourceRoot: string };
}

/**
 * Starts the emulators (DynamoDB Local's JVM above all, in their own processes) while this
 * process loads the handler modules: the two overlap instead of adding up. Creates the table
 * once DynamoDB Local is up. On a failure the servers are stopped and the lock released; the
 * modules have finished loading when this returns.
 */
async function startServersWhileLoading(
  options: LocalStackOptions,
  lock: StateLock | null,
  serversStarting: Promise<LocalServers>,
): Promise<LocalServers> {
  logger.setLogLevel((options.logLevel ?? 'WARN') as never);
  routeLogsTo(process.stderr);
  const loadingFunctions = preloadHandlerModules();
  loadingFunctions.catch(() => undefined); // awaited below
  try {
    const servers = await serversStarting;
    await createTable(servers);
    await loadingFunctions;
    return servers;
  } catch (err) {
    await loadingFunctions.catch(() => undefined);
    await serversStarting.then((s) => s.stop()).catch(() => undefined);
    await lock?.release();
    throw err;
  }
}

/** Creates the local table on `servers` (idempotent). */
async function createTable(servers: LocalServers): Promise<void> {
  const ddb = new DynamoDBClient({
    endpoint: servers.dynamoEndpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  try {
    await ensureTable(ddb, LOCAL_TABLE);
  } finally {
    ddb.destroy();
  }
}

type StateMachines = Pick<
  LocalStack,
  'intradayCohort' | 'paperSession' | 'promotionPipeline' | 'learningCycle' | 'day3'
>;

/** The state machines over the handlers `functions` (and a Day-3 run per call of `day3`). */
async function loadStateMachines(
  deps: LocalDeps,
  config: EnvironmentConfig,
  clock: ManualClock,
  functions: readonly LocalFunction[],
  shardAgents: number | undefined,
): Promise<StateMachines> {
  const intradayCohort = await LocalStateMachine.load('intraday-cohort.asl.json', functions, {
    clock,
    values: {
      ...cohortStateMachineValues(config),
      ...(shardAgents ? { CohortShardAgents: String(shardAgents) } : {}),
    },
  });
  const paperSession = await LocalStateMachine.load('paper-session.asl.json', functions, {
    clock,
  });
  const promotionPipeline = await LocalStateMachine.load('promotion-pipeline.asl.json', functions, {
    clock,
    stateMachines: { PaperSessionStateMachineArn: paperSession },
  });
  const learningCycle = await LocalStateMachine.load('learning-cycle.asl.json', functions, {
    clock,
  });
  const day3 = async (settings: LocalDay3Settings): Promise<LocalDay3Run> => {
    const run = await composeLocalDay3(deps, config, settings);
    const machine = await LocalStateMachine.load(
      'day3-go-no-go.asl.json',
      [...functions, ...run.functions],
      { clock, stateMachines: { PromotionPipelineStateMachineArn: promotionPipeline } },
    );
    return { ...run, machine };
  };
  return { intradayCohort, paperSession, promotionPipeline, learningCycle, day3 };
}

/**
 * The `alpaca` part of the stack: the fake's LEAN source, and the session-ingestion machine
 * of one chain (ingestion, then the cohort and the learning cycle nested).
 */
function alpacaChain(
  fake: FakeAlpacaData,
  sourceRoot: string,
  deps: LocalDeps,
  clock: ManualClock,
  functions: readonly LocalFunction[],
  machines: StateMachines,
): NonNullable<LocalStack['alpaca']> | undefined {
  const baseIngestion = deps.ingestion;
  if (!baseIngestion) return undefined;
  return {
    fake,
    source: new LeanMarketData(new FileSystemBlobSource(path.resolve(sourceRoot))),
    sessionIngestion: async (chain: ChainSettings) => {
      const ingest = await ingestFunction(async () => {
        const base = await baseIngestion();
        return { ...base, config: { ...base.config, symbols: [...chain.symbols] } };
      });
      return LocalStateMachine.load('session-ingestion.asl.json', [...functions, ingest], {
        clock,
        values: {
          Day3Chained: 'false',
          CohortBankrollUsd: String(chain.bankrollUsd),
          CohortAgentCount: String(chain.agentCount),
          CohortAllocation: chain.allocation,
          Day3StateMachineArn: 'not-deployed',
        },
        stateMachines: {
          IntradayCohortStateMachineArn: machines.intradayCohort,
          LearningCycleStateMachineArn: machines.learningCycle,
        },
      });
    },
  };
}

/**
 * Starts the servers, creates the table and buckets, composes the local dependencies
 * (`local/composition.ts`; nothing is written to `process.env`) and loads the state machines
 * bound to the handlers built from them. Call `stop()` when done (servers also stop with the
 * process).
 *
 * @param booted the state folder's lock and the emulators already starting on it
 *   (`bootLocalServers(options.stateDir)`, which the CLI calls before it loads this module);
 *   booted here when absent.
 * @throws StateFolderError when another run holds the state folder or it cannot be written
 *   (before any server starts); LocalServerStartError when an emulator does not come up.
 */
export async function startLocalStack(
  options: LocalStackOptions,
  booted?: BootedServers,
): Promise<LocalStack> {
  // One writer per state folder, refused up front (before any server starts) when another
  // run holds it or it cannot be written.
  const { lock, servers: starting } = booted ?? (await bootLocalServers(options.stateDir));
  const servers = await startServersWhileLoading(options, lock, starting);
  const clock = options.clock ?? new ManualClock(Date.now());
  let fake: FakeAlpacaData | null = null;
  try {
    const keys = {
      keyId: `PKLOCAL${randomBytes(6).toString('hex').toUpperCase()}`,
      secretKey: randomBytes(24).toString('base64url'),
    };
    if (options.alpacaFake) {
      fake = await startFakeAlpacaData({
        dataRoot: options.alpacaFake.sourceRoot,
        ...keys,
        now: () => clock.now(),
      });
    }
    const config = loadEnvironmentConfig('dev', options.configOverrides);
    const deps = composeLocalDeps({
      config,
      clock,
      dataRoot: options.dataRoot,
      tableName: LOCAL_TABLE,
      buckets: LOCAL_BUCKETS,
      dynamoEndpoint: servers.dynamoEndpoint,
      s3Endpoint: servers.s3Endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      brokerAccount: options.brokerAccount ?? 'local-paper',
      ...(fake ? { alpacaData: { baseUrl: fake.baseUrl, keys } } : {}),
    });
    const functions = await localFunctions(deps);
    const machines = await loadStateMachines(deps, config, clock, functions, options.shardAgents);
    const alpaca =
      fake && options.alpacaFake
        ? alpacaChain(fake, options.alpacaFake.sourceRoot, deps, clock, functions, machines)
        : undefined;
    // Nothing else writes to this state folder now: every non-terminal run is abandoned.
    const recovery = await sweepInFlight(
      { clock: deps.promotion.clock, workflows: inFlightWorkflows(deps.promotion) },
      { mode: 'all' },
    );
    return {
      servers,
      runtime: deps.runtime,
      promotion: deps.promotion,
      recovery,
      approvalDeps: (notifier?: Notifier) =>
        composeLocalApproval(deps, notifier ?? new ConsoleNotifier()),
      ...machines,
      ...(alpaca ? { alpaca } : {}),
      clock,
      config,
      stop: async () => {
        await fake?.close();
        await servers.stop();
        await lock?.release();
      },
    };
  } catch (err) {
    await fake?.close();
    await servers.stop();
    await lock?.release();
    throw err;
  }
}
