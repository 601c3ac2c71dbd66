/**
 * The session ingestion of one environment and the chain it starts, stateless part: the
 * `ingest-session` function with least-privilege grants, the Standard state machine loaded
 * from `statemachines/session-ingestion.asl.json`, and the schedule that starts it
 * (`schedules.sessionIngestion`, in `schedules.timezone`; 16:05 and 13:05 New York by default)
 * with retries and a dead-letter queue. After a successful ingestion the state machine starts,
 * in order and waiting for each (`startExecution.sync:2`), the intraday cohort of the session
 * on the included symbols and the learning cycle, then the Day-3 go/no-go when it is deployed.
 * When `cohort.cryptoSymbols` is not empty, a second state machine of the same definition and
 * function runs the crypto chain: `schedules.crypto.sessionIngestion` (UTC, every day) starts
 * it with `market: "crypto"`, so the function ingests the crypto universe of the UTC day that
 * ended and the chain passes `crypto` to the cohort, the learning cycle and the go/no-go.
 * Alarms and dashboard widgets are added by the workflow stack, which owns the alarm topic.
 *
 * Grants mirror what the handler calls (`functions/composition/ingestion.ts`):
 *
 * | what | S3 (market-data bucket) | Secrets Manager |
 * | --- | --- | --- |
 * | the quality report of the session (idempotence), then the LEAN files and the report | Get/Put under `lean/` | |
 * | Alpaca keys (same key pair as the paper broker) | | GetSecretValue on the Alpaca secret |
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { EnvironmentConfig } from '../config/environment-config.js';
import { PREFIXES, type ResourceNames } from '../config/naming.js';
import { ingestionEnvironment } from '../config/runtime-env.js';
import { stageSchedules } from '../config/schedules.js';
import { HANDLERS, INGESTION_HANDLERS } from '../handlers.js';
import { SESSION_INGESTION_ASL } from '../paths.js';
import { aslStateMachine } from './asl-state-machine.js';
import type { FunctionFactory } from './promotion-pipeline.js';
import { scheduledStart } from './scheduled-start.js';
import type { StagegateFunction } from './stagegate-function.js';

/** Environment variable carrying the Alpaca secret's ARN. */
const ALPACA_SECRET_ARN_ENV = 'ALPACA_SECRET_ARN';

/** A state machine the chain starts, with its physical name (for the IAM ARNs). */
export interface ChainedMachine {
  readonly stateMachine: sfn.IStateMachine;
  readonly stateMachineName: string;
}

export interface SessionIngestionProps {
  /** The environment's validated config (`ingestion`, `cohort`, `schedules.sessionIngestion`). */
  readonly config: EnvironmentConfig;
  readonly names: ResourceNames;
  /** The market-data bucket (the LEAN tree under `lean/`). */
  readonly marketDataBucket: IBucket;
  /** The Alpaca key pair (JSON `{keyId, secretKey}`), shared with the paper broker. */
  readonly alpacaSecret: ISecret;
  /** The shared record-audit function (`session_ingested`, skips, failures). */
  readonly recordAudit: StagegateFunction;
  readonly scheduleGroup: scheduler.IScheduleGroup;
  readonly newFunction: FunctionFactory;
  /** The chain, in order: the session's cohort, the learning cycle, the Day-3 go/no-go (optional). */
  readonly cohort: ChainedMachine;
  readonly learning: ChainedMachine;
  readonly day3?: ChainedMachine;
}

/**
 * The crypto stage's ingestion (when `cohort.cryptoSymbols` is not empty): its own state
 * machine, so its starts are the crypto chain's alone (the did-not-run alarm counts them).
 */
export interface CryptoSessionIngestion {
  /** `stagegate-<stage>-crypto-session-ingestion` (Standard), same ASL and function. */
  readonly stateMachine: sfn.StateMachine;
  /** `crypto-session-ingestion`, UTC, every day; input `{source, scheduledTime, market: "crypto"}`. */
  readonly schedule: scheduler.Schedule;
  /** `stagegate-<stage>-crypto-ingestion-schedule-dlq`. */
  readonly scheduleDeadLetterQueue: sqs.Queue;
}

/** See the module comment. */
export class SessionIngestion extends Construct {
  public readonly ingestSession: StagegateFunction;
  /** `stagegate-<stage>-session-ingestion` (Standard). */
  public readonly stateMachine: sfn.StateMachine;
  public readonly schedule: scheduler.Schedule;
  /** `stagegate-<stage>-ingestion-schedule-dlq`. */
  public readonly scheduleDeadLetterQueue: sqs.Queue;
  /** The crypto ingestion and its chain; only when `cohort.cryptoSymbols` is not empty. */
  public readonly crypto?: CryptoSessionIngestion;

  constructor(scope: Construct, id: string, props: SessionIngestionProps) {
    super(scope, id);
    const { config, names } = props;
    const stage = config.stage;

    this.ingestSession = props
      .newFunction(this, 'ingestSession', INGESTION_HANDLERS.ingestSession, {
        ...ingestionEnvironment(config),
        [ALPACA_SECRET_ARN_ENV]: props.alpacaSecret.secretArn,
      })
      .readsAndWritesObjects(props.marketDataBucket, PREFIXES.marketData)
      .readsSecret(props.alpacaSecret);

    this.stateMachine = this.chainMachine(props, 'SessionIngestion', names.ingestionStateMachine);

    const { sessionIngestion } = stageSchedules(config);
    const started = scheduledStart(this, {
      machine: this.stateMachine,
      schedule: sessionIngestion,
      group: props.scheduleGroup,
      name: sessionIngestion.name,
      description: `Starts the ${stage} session ingestion and its chain (${sessionIngestion.expression} ${sessionIngestion.timezone})`,
      id: 'SessionIngestionStart',
      deadLetterQueue: {
        id: 'IngestionScheduleDlq',
        name: `${names.prefix}-ingestion-schedule-dlq`,
      },
      withScheduledTime: true,
    });
    this.schedule = started.schedule;
    this.scheduleDeadLetterQueue = started.deadLetterQueue;

    if ((config.cohort.cryptoSymbols ?? []).length > 0) this.crypto = this.cryptoChain(props);
  }

  /** The crypto ingestion's state machine and its UTC schedule (see {@link CryptoSessionIngestion}). */
  private cryptoChain(props: SessionIngestionProps): CryptoSessionIngestion {
    const { config, names } = props;
    const machine = this.chainMachine(
      props,
      'CryptoSessionIngestion',
      names.cryptoIngestionStateMachine,
    );
    const start = stageSchedules(config).crypto.sessionIngestion;
    const crypto = scheduledStart(this, {
      machine,
      schedule: start,
      group: props.scheduleGroup,
      name: start.name,
      description: `Starts the ${config.stage} crypto session ingestion of the UTC day that ended, and its chain (${start.expression} ${start.timezone})`,
      id: 'CryptoSessionIngestionStart',
      deadLetterQueue: {
        id: 'CryptoIngestionScheduleDlq',
        name: `${names.prefix}-crypto-ingestion-schedule-dlq`,
      },
      withScheduledTime: true,
      input: { market: 'crypto' },
    });
    return {
      stateMachine: machine,
      schedule: crypto.schedule,
      scheduleDeadLetterQueue: crypto.deadLetterQueue,
    };
  }

  /** One state machine of `statemachines/session-ingestion.asl.json` over the ingest function. */
  private chainMachine(props: SessionIngestionProps, id: string, name: string): sfn.StateMachine {
    const { config } = props;
    return aslStateMachine(this, id, {
      stateMachineName: name,
      definitionFile: SESSION_INGESTION_ASL,
      tasks: {
        [INGESTION_HANDLERS.ingestSession.aslPlaceholder]: this.ingestSession,
        [HANDLERS.recordAudit.aslPlaceholder]: props.recordAudit,
      },
      values: {
        Day3Chained: props.day3 ? 'true' : 'false',
        CohortBankrollUsd: String(config.cohort.bankrollUsd),
        CohortAgentCount: String(config.cohort.agentCount),
        CohortAllocation: config.cohort.allocation,
        // Never started without the Day-3 go/no-go (Day3Chained false): a name, not an ARN.
        ...(props.day3 ? {} : { Day3StateMachineArn: 'not-deployed' }),
      },
      nestedStateMachines: {
        IntradayCohortStateMachineArn: props.cohort,
        LearningCycleStateMachineArn: props.learning,
        ...(props.day3 ? { Day3StateMachineArn: props.day3 } : {}),
      },
      logRetention: config.logs.retentionDays as logs.RetentionDays,
      logRemovalPolicy:
        config.removalPolicy === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }
}
