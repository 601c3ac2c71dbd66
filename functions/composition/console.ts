/**
 * Composition of the operator console API (`functions/handlers/console-api.ts` in AWS, the
 * local console server locally): the read model, repositories and audit reader on top of a
 * {@link Runtime}; the kill switch and approval decisions through the promotion and approval
 * compositions, built lazily on the first write (reads never need the broker or secrets).
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { ulid } from 'ulid';
import { S3AuditReader } from '../adapters/audit/s3-audit-reader.js';
import { DynamoConsoleReadModel } from '../adapters/dynamodb/console-read-model.js';
import { DynamoKillSwitch } from '../adapters/dynamodb/kill-switch.js';
import { DynamoMicroLiveRepository } from '../adapters/dynamodb/micro-live-repository.js';
import { DynamoPromotionRepository } from '../adapters/dynamodb/promotion-repository.js';
import { SfnCohortStarter } from '../adapters/sfn/sfn-cohort-starter.js';
import { decideApproval } from '../core/approval/decide.js';
import { ValidationError } from '../core/errors.js';
import { DEFAULT_LEVERAGE_POLICY, type LeveragePolicy } from '../core/leverage/policy.js';
import { startPartialCohort } from '../core/use-cases/cohort-start.js';
import {
  ConsoleApi,
  type ConsoleApiDeps,
  type ConsolePlans,
} from '../core/use-cases/console-api.js';
import { applyApprovalDecision } from '../core/use-cases/day3-approval.js';
import { setKillSwitch } from '../core/use-cases/kill-switch.js';
import { currentPlan, type PlanDeps, runPlanCommand } from '../core/use-cases/plans.js';
import type { PromotionRecoveryDeps } from '../core/use-cases/promotion-recovery.js';
import type { CohortStarter } from '../ports/cohort-starter.js';
import { accountKeyOf } from '../ports/session-books.js';
import { type ApprovalDeps, getApprovalDeps } from './approval.js';
import { readPaperSessionSettings } from './paper-session.js';
import { buildPlanDeps, readChatOpsConfig } from './plans.js';
import { getPromotionDeps } from './promotion.js';
import { getRuntime, makeDocumentClient, makeS3Client, type Runtime } from './runtime.js';

/** Where the writes get their dependencies (defaults: the process-wide compositions). */
export interface ConsoleWriteDeps {
  readonly promotionDeps?: () => PromotionRecoveryDeps;
  readonly approvalDeps?: () => Promise<ApprovalDeps>;
  /** Starts intraday-cohort executions (default: Step Functions, env `INTRADAY_COHORT_STATE_MACHINE_ARN`). */
  readonly cohortStarter?: () => CohortStarter;
  /**
   * The leverage policy the Day-3 workflow applies, for the next tier and its trigger
   * (default: {@link DEFAULT_LEVERAGE_POLICY}, what every stage's `DAY3_CONFIG_JSON` holds).
   */
  readonly leveragePolicy?: LeveragePolicy;
  /** The plan use cases (default: none: the plan routes answer 503). */
  readonly plans?: PlanDeps;
}

/** The Step Functions starter of the environment's intraday-cohort state machine. */
export function sfnCohortStarter(rt: Runtime): CohortStarter {
  const arn = rt.env.INTRADAY_COHORT_STATE_MACHINE_ARN;
  if (!arn) {
    throw new ValidationError(
      'env.INTRADAY_COHORT_STATE_MACHINE_ARN',
      'required to start cohorts from the console',
    );
  }
  return new SfnCohortStarter(new SFNClient({ region: rt.env.AWS_REGION }), arn);
}

/**
 * The kill switch's engage/release as the console and the Slack command use it: the one use
 * case (`setKillSwitch`) over the promotion deps' switch, audit, clock and the broker whose
 * open orders are canceled on engage, and, when the paper sessions' kill-switch halt mode is
 * `flatten` (`PAPER_SESSION_JSON`, the default), the session books whose running sessions are
 * flattened on engage.
 */
export function killSwitchSetter(rt: Runtime, promotionDeps: () => PromotionRecoveryDeps) {
  return (input: Parameters<ConsoleApiDeps['setKillSwitch']>[0]) => {
    const p = promotionDeps();
    const broker = p.brokerAt(rt.clock.now());
    const flatten = readPaperSessionSettings(rt.env).haltModes.killSwitch === 'flatten';
    return setKillSwitch(
      {
        killSwitch: p.killSwitch,
        audit: p.audit,
        clock: p.clock,
        environment: rt.env.STAGE,
        broker,
        ...(flatten
          ? {
              flatten: {
                sessionBooks: p.sessionBooks,
                account: accountKeyOf(broker.name, p.brokerAccount),
              },
            }
          : {}),
      },
      input,
    );
  };
}

/** The plan use cases as the console API calls them (channel `console`). */
function consolePlans(deps: PlanDeps): ConsolePlans {
  return {
    current: () => currentPlan(deps),
    run: async (command, by, idempotencyKey) => {
      const out = await runPlanCommand(deps, command, by, 'console', idempotencyKey ?? null);
      return { title: out.title, lines: out.lines, plan: out.plan };
    },
  };
}

/** Builds the console API over a runtime. */
export function buildConsoleApi(rt: Runtime, writes: ConsoleWriteDeps = {}): ConsoleApi {
  const doc = makeDocumentClient(rt.env, rt.credentials);
  const s3 = makeS3Client(rt.env, rt.credentials);
  const promotionDeps = writes.promotionDeps ?? getPromotionDeps;
  const approvalDeps = writes.approvalDeps ?? getApprovalDeps;
  let starter: CohortStarter | undefined;
  const cohortStarter = () => {
    starter ??= (writes.cohortStarter ?? (() => sfnCohortStarter(rt)))();
    return starter;
  };
  return new ConsoleApi({
    readModel: new DynamoConsoleReadModel(doc, rt.env.TABLE_NAME),
    cohorts: rt.cohorts,
    promotions: new DynamoPromotionRepository(doc, rt.env.TABLE_NAME),
    artifacts: rt.artifacts,
    marketData: rt.marketData,
    auditReader: new S3AuditReader({
      s3,
      bucket: rt.env.AUDIT_BUCKET,
      dynamo: doc,
      tableName: rt.env.TABLE_NAME,
    }),
    audit: rt.audit,
    environment: rt.env.STAGE,
    clock: rt.clock,
    killSwitch: new DynamoKillSwitch(doc, rt.env.TABLE_NAME),
    microLive: new DynamoMicroLiveRepository(doc, rt.env.TABLE_NAME),
    leveragePolicy: writes.leveragePolicy ?? DEFAULT_LEVERAGE_POLICY,
    setKillSwitch: killSwitchSetter(rt, promotionDeps),
    ...(writes.plans ? { plans: consolePlans(writes.plans) } : {}),
    startCohort: ({ idempotencyKey, ...input }) =>
      startPartialCohort(
        {
          starter: cohortStarter(),
          audit: rt.audit,
          clock: rt.clock,
          environment: rt.env.STAGE,
          newId: ulid,
        },
        {
          ...input,
          channel: 'console',
          startKey: idempotencyKey ? ['console', input.by, idempotencyKey] : null,
        },
      ),
    decideApproval: async ({ idempotencyKey, ...input }) => {
      const deps = await approvalDeps();
      const key = idempotencyKey
        ? ['console', input.approvalId, input.decision, input.approver, idempotencyKey]
        : null;
      const outcome = await decideApproval(deps, { ...input, channel: 'web', attemptKey: key });
      const applied = await applyApprovalDecision(deps, outcome, null, key);
      const answer = applied.answer;
      if (!answer.ok) {
        return {
          ok: false,
          httpStatus: answer.httpStatus,
          field: answer.field,
          detail: `${answer.errorName}: ${answer.message}`,
        };
      }
      return {
        ok: true,
        status: answer.status,
        execution: applied.execution,
        workflow: applied.workflow && {
          status: applied.workflow.status,
          decision: applied.workflow.decision,
          outcome: applied.workflow.outcome,
          message: applied.workflow.message,
        },
        replayed: applied.replayed,
        chain: { step: answer.step, of: answer.of, complete: answer.complete },
        messageUpdateError: applied.announceError,
      };
    },
  });
}

let cached: ConsoleApi | undefined;

/** The process-wide console API (a warm Lambda reuses it). */
export function getConsoleApi(): ConsoleApi {
  cached ??= buildAwsConsoleApi();
  return cached;
}

/**
 * The AWS console API: with the stage's chat-ops settings (`CHATOPS_CONFIG_JSON`, set by the
 * CDK) its plan routes; without them, the plan routes answer 503.
 */
function buildAwsConsoleApi(): ConsoleApi {
  const rt = getRuntime();
  const json = process.env.CHATOPS_CONFIG_JSON;
  if (!json) return buildConsoleApi(rt);
  const config = readChatOpsConfig(json);
  return buildConsoleApi(rt, {
    plans: buildPlanDeps(rt, { ...config, policy: config.leveragePolicy }),
  });
}
