/**
 * Composition of the `/stagegate` slash command (`functions/handlers/slack-command.ts`) and
 * the kill-switch confirmation clicks (`slack-interactivity.ts`): the console's read model and
 * kill switch over a {@link Runtime}, the stage's Slack user -> role map
 * (`SLACK_COMMAND_USERS_JSON`, from `slack.commandUsers` of the stage config), the signing
 * secret, and where follow-up answers may be posted (`response_url`: Slack's hooks host only).
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ulid } from 'ulid';
import { S3AuditReader } from '../adapters/audit/s3-audit-reader.js';
import { DynamoConsoleReadModel } from '../adapters/dynamodb/console-read-model.js';
import { DynamoKillSwitch } from '../adapters/dynamodb/kill-switch.js';
import { DynamoSessionBooks } from '../adapters/dynamodb/session-books.js';
import { LambdaAsyncInvoker } from '../adapters/lambda/async-invoker.js';
import type { DeferFollowUp } from '../adapters/slack/follow-up.js';
import type { Market } from '../core/calendar/market-calendar.js';
import { SlackCommandUsersSchema } from '../core/chatops/command.js';
import { parseOrThrow, ValidationError } from '../core/errors.js';
import {
  type ChatOpsConfig,
  slackCohortStart,
  slackFund,
} from '../core/use-cases/chatops-commands.js';
import { todaysPaperSessions } from '../core/use-cases/paper-status.js';
import { planSlashCommands } from '../core/use-cases/plans.js';
import type { PromotionRecoveryDeps } from '../core/use-cases/promotion-recovery.js';
import type {
  SlackCommandUsers,
  SlashCommandDeps,
  SlashCommandExtensions,
} from '../core/use-cases/slash-command.js';
import type { Clock } from '../ports/clock.js';
import type { CohortStarter } from '../ports/cohort-starter.js';
import type { SecretsPort } from '../ports/secrets.js';
import { makeSecrets, readApprovalEnv } from './approval.js';
import { killSwitchSetter, sfnCohortStarter } from './console.js';
import { buildPlanDeps, readChatOpsConfig } from './plans.js';
import { getPromotionDeps } from './promotion.js';
import { getRuntime, makeDocumentClient, makeS3Client, type Runtime } from './runtime.js';

export { buildPlanDeps, readChatOpsConfig };

/** Where a follow-up may be posted: Slack's response_url host only (no SSRF through it). */
export const SLACK_RESPONSE_URL = /^https:\/\/hooks\.slack\.com\/(commands|actions)\//;

/** What the slash-command and interactivity handlers need for chat-ops. */
export interface SlashCommandHandlerDeps extends SlashCommandDeps {
  readonly secrets: SecretsPort;
  /** Whether a response_url may be posted to. */
  readonly responseUrlAllowed: (url: string) => boolean;
  /** How long the command may work before the answer goes to response_url, ms. */
  readonly ackBudgetMs: number;
  /**
   * The clock Slack's request timestamps are judged on (the replay window): Slack stamps real
   * time, so this is the wall clock even where the workflows run on a simulated one (local).
   */
  readonly requestClock: Clock;
  /**
   * Hands a long command to an asynchronous follow-up (AWS: this function invoked with
   * InvocationType Event); absent = the work runs in this process (local).
   */
  readonly deferFollowUp?: DeferFollowUp;
}

/** Parts the AWS and local roots differ in. */
export interface SlashCommandParts {
  readonly users: SlackCommandUsers;
  readonly secrets: SecretsPort;
  readonly promotionDeps: () => PromotionRecoveryDeps;
  readonly responseUrlAllowed?: (url: string) => boolean;
  readonly extra?: SlashCommandExtensions;
  /** @default 2500 (Slack waits 3 s) */
  readonly ackBudgetMs?: number;
  /** @default the runtime's clock */
  readonly requestClock?: Clock;
  /** The calendar today's paper sessions are dated in. @default `equity-usa` */
  readonly market?: Market;
  readonly deferFollowUp?: DeferFollowUp;
}

/** Builds the chat-ops deps over a runtime. */
export function buildSlashCommandDeps(
  rt: Runtime,
  parts: SlashCommandParts,
): SlashCommandHandlerDeps {
  const doc = makeDocumentClient(rt.env, rt.credentials);
  const auditReader = new S3AuditReader({
    s3: makeS3Client(rt.env, rt.credentials),
    bucket: rt.env.AUDIT_BUCKET,
    dynamo: doc,
    tableName: rt.env.TABLE_NAME,
  });
  return {
    users: parts.users,
    readModel: new DynamoConsoleReadModel(doc, rt.env.TABLE_NAME),
    killSwitch: new DynamoKillSwitch(doc, rt.env.TABLE_NAME),
    paperSessions: (promotions) =>
      todaysPaperSessions({
        auditReader,
        environment: rt.env.STAGE,
        clock: rt.clock,
        market: parts.market ?? 'equity-usa',
        sessionBooks: new DynamoSessionBooks(doc, rt.env.TABLE_NAME),
        accountOf: (id) => promotions.find((p) => p.promotionId === id)?.broker ?? null,
      }),
    setKillSwitch: killSwitchSetter(rt, parts.promotionDeps),
    ...(parts.extra ? { extra: parts.extra } : {}),
    audit: rt.audit,
    environment: rt.env.STAGE,
    clock: rt.clock,
    secrets: parts.secrets,
    responseUrlAllowed: parts.responseUrlAllowed ?? ((url) => SLACK_RESPONSE_URL.test(url)),
    ackBudgetMs: parts.ackBudgetMs ?? 2500,
    requestClock: parts.requestClock ?? rt.clock,
    ...(parts.deferFollowUp ? { deferFollowUp: parts.deferFollowUp } : {}),
  };
}

/**
 * Parses `SLACK_COMMAND_USERS_JSON`.
 * @throws ValidationError naming `env.SLACK_COMMAND_USERS_JSON` and the bad entry.
 */
export function readSlackCommandUsers(json: string | undefined): SlackCommandUsers {
  let raw: unknown;
  try {
    raw = JSON.parse(json ?? '{}');
  } catch {
    throw new ValidationError('env.SLACK_COMMAND_USERS_JSON', 'is not JSON');
  }
  return parseOrThrow(SlackCommandUsersSchema, raw, 'env.SLACK_COMMAND_USERS_JSON');
}

/**
 * The commands beyond status and the kill switch, over a runtime: plans, `fund?` and
 * `cohort start` (on `starter`), with the stage's settings.
 */
export function chatOpsExtensions(
  rt: Runtime,
  config: ChatOpsConfig,
  starter: () => CohortStarter,
): SlashCommandExtensions {
  // The stage's own leverage policy (`promotion.leveragePolicy`), not the core default.
  const limits = { ...config, policy: config.leveragePolicy };
  const plans = buildPlanDeps(rt, limits);
  return {
    plan: planSlashCommands(plans),
    fund: slackFund({
      ...limits,
      readModel: new DynamoConsoleReadModel(
        makeDocumentClient(rt.env, rt.credentials),
        rt.env.TABLE_NAME,
      ),
      clock: rt.clock,
    }),
    cohortStart: slackCohortStart({
      starter,
      audit: rt.audit,
      clock: rt.clock,
      environment: rt.env.STAGE,
      newId: ulid,
    }),
  };
}

let cached: SlashCommandHandlerDeps | undefined;

/**
 * The process-wide chat-ops deps of a Lambda, built once from its environment: long commands
 * are handed to an asynchronous invocation of this same function (`AWS_LAMBDA_FUNCTION_NAME`,
 * set by Lambda).
 */
export function getSlashCommandDeps(): SlashCommandHandlerDeps {
  if (!cached) {
    const rt = getRuntime();
    const self = process.env.AWS_LAMBDA_FUNCTION_NAME;
    const invoker = self
      ? new LambdaAsyncInvoker(new LambdaClient({ region: rt.env.AWS_REGION }), self)
      : null;
    let starter: CohortStarter | undefined;
    cached = buildSlashCommandDeps(rt, {
      users: readSlackCommandUsers(process.env.SLACK_COMMAND_USERS_JSON),
      secrets: makeSecrets(readApprovalEnv(process.env), rt),
      promotionDeps: getPromotionDeps,
      ...(process.env.CHATOPS_CONFIG_JSON
        ? {
            extra: chatOpsExtensions(rt, readChatOpsConfig(process.env.CHATOPS_CONFIG_JSON), () => {
              starter ??= sfnCohortStarter(rt);
              return starter;
            }),
          }
        : {}),
      ...(invoker ? { deferFollowUp: (event) => invoker.invoke(event) } : {}),
    });
  }
  return cached;
}

/**
 * Where the Day-3 interactivity function hands a kill-switch click (the signed HTTP event as
 * received, verified again there): the slash-command function named by
 * `SLACK_COMMAND_FUNCTION_NAME`, invoked synchronously; null when none is set (the click is
 * then acknowledged and changes nothing). The interactivity function itself can neither
 * write the kill switch nor cancel orders.
 */
export function getKillSwitchClickForwarder(): ((event: unknown) => Promise<unknown>) | null {
  const name = process.env.SLACK_COMMAND_FUNCTION_NAME;
  if (!name) return null;
  const invoker = new LambdaAsyncInvoker(
    new LambdaClient({ region: process.env.AWS_REGION }),
    name,
  );
  return (event) => invoker.invokeForResult(event);
}
