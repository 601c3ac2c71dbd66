/**
 * The AWS composition of the Day-3 approval flow (request-approval, approval page, Slack
 * interactivity, micro-live, rollback monitor): reads its environment once through zod,
 * builds the secrets source (Secrets Manager), the approval store (task token encrypted with a
 * key derived from the approval key), the task-token port (Step Functions SendTask*), the
 * execution describer (Step Functions DescribeExecution), the
 * announcer (Slack Web API or incoming webhook) and the micro-live repository, on top of
 * the process-wide stores (`getStoreRuntime`). Built lazily, once per process (secrets are
 * fetched on first use). The local mode does not come through here: its own composition root
 * (`local/composition.ts`) assembles the same shapes with {@link assembleApprovalDeps}.
 *
 * Environment (see docs/approval.md for the full table):
 * - `DAY3_CONFIG_JSON`: the Day-3 config (`Day3ConfigSchema`), required by the Day-3 steps;
 * - `APPROVAL_BASE_URL`: origin (+ prefix) of the approval page, required by RequestApproval;
 * - `APPROVAL_KEY_SECRET_ID`, `SLACK_BOT_TOKEN_SECRET_ID`, `SLACK_SIGNING_SECRET_ID`;
 * - `NOTIFIER`: `slack` (default; `SLACK_CHANNEL`) or `webhook` (`SLACK_WEBHOOK_URL`);
 *   `SLACK_INTERACTIVE` (`true` for Approve/Reject action buttons handled by the
 *   interactivity endpoint; `false` for link buttons to the page; default: true for `slack`).
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { DynamoApprovalStore } from '../adapters/approval/dynamo-approval-store.js';
import { DynamoMicroLiveRepository } from '../adapters/dynamodb/micro-live-repository.js';
import { DynamoPaperTrackRecord } from '../adapters/dynamodb/paper-track-record.js';
import { S3ReportPublisher } from '../adapters/s3/s3-report-publisher.js';
import { powertoolsSecretReader, SecretsManagerSecrets } from '../adapters/secrets/secrets.js';
import { SfnExecutions } from '../adapters/sfn/sfn-executions.js';
import { SfnTaskTokens } from '../adapters/sfn/sfn-task-tokens.js';
import {
  approvalMessage,
  decisionMessage,
  findingMessage,
  progressMessage,
} from '../adapters/slack/messages.js';
import { SlackNotifier, type SlackPoster } from '../adapters/slack/slack-notifier.js';
import { WebhookNotifier } from '../adapters/slack/webhook-notifier.js';
import { traced } from '../adapters/tracing.js';
import {
  type ApprovalKey,
  approvalKeyFromSecret,
  buildApprovalLink,
} from '../core/approval/links.js';
import { createTaskTokenCipher } from '../core/approval/token-cipher.js';
import { parseOrThrow, ValidationError } from '../core/errors.js';
import type { Day3ApprovalDeps, Day3Deps } from '../core/use-cases/day3.js';
import type { ApplyDecisionDeps } from '../core/use-cases/day3-approval.js';
import { type Day3Config, parseDay3Config } from '../core/use-cases/day3-records.js';
import type { PromotionDeps } from '../core/use-cases/promotion.js';
import type { ApprovalAnnouncer } from '../ports/approval-announcer.js';
import type { ApprovalStore } from '../ports/approval-store.js';
import type { AuditSink } from '../ports/audit.js';
import type { Clock } from '../ports/clock.js';
import type { ExecutionDescriber } from '../ports/executions.js';
import type { MicroLiveRepository } from '../ports/micro-live.js';
import type { Notifier } from '../ports/notifier.js';
import type { SecretsPort } from '../ports/secrets.js';
import type { TaskTokenPort } from '../ports/task-token.js';
import type { Runtime } from './runtime.js';
import { getStoreRuntime, makeDocumentClient, makeS3Client, type StoreRuntime } from './stores.js';

const optional = z
  .string()
  .optional()
  .or(z.literal('').transform(() => undefined));

/** The approval flow's environment variables. */
export const ApprovalEnvSchema = z.object({
  DAY3_CONFIG_JSON: optional,
  APPROVAL_BASE_URL: z
    .url({ protocol: /^https?$/ })
    .optional()
    .or(z.literal('').transform(() => undefined)),
  APPROVAL_KEY_SECRET_ID: optional,
  SLACK_BOT_TOKEN_SECRET_ID: optional,
  SLACK_SIGNING_SECRET_ID: optional,
  NOTIFIER: z.enum(['slack', 'webhook']).default('slack'),
  SLACK_CHANNEL: optional,
  SLACK_WEBHOOK_URL: optional,
  SLACK_INTERACTIVE: z.enum(['true', 'false']).optional(),
});
export type ApprovalEnv = z.infer<typeof ApprovalEnvSchema>;

/**
 * Parses the approval environment.
 * @throws ValidationError naming the first bad variable.
 */
export function readApprovalEnv(env: Record<string, string | undefined>): ApprovalEnv {
  return parseOrThrow(ApprovalEnvSchema, env, 'env');
}

/** What the approval page, Slack interactivity and the Day-3 steps share. */
export interface ApprovalDeps extends ApplyDecisionDeps {
  /** The stores the approval flow runs on (no market data: the approval page reads no bars). */
  readonly runtime: StoreRuntime;
  readonly clock: Clock;
  readonly audit: AuditSink;
  readonly secrets: SecretsPort;
  readonly key: ApprovalKey;
  readonly approvals: ApprovalStore;
  /** The same store under the name the approval use cases (core/approval/decide.ts) use. */
  readonly store: ApprovalStore;
  readonly announcer: ApprovalAnnouncer;
  readonly microLive: MicroLiveRepository;
  readonly taskTokens: TaskTokenPort;
  readonly executions: ExecutionDescriber;
}

let slackPosterFactory: ((botToken: string) => SlackPoster) | null = null;

/**
 * Registers how to build a Slack Web API poster from the bot token. Called once by
 * `composition/slack-web-api.ts`, which the Slack-posting handlers import: the official SDK
 * (and its HTTP stack) is bundled only where it is used.
 */
export function useSlackPoster(factory: (botToken: string) => SlackPoster): void {
  slackPosterFactory = factory;
}

/**
 * Binds a notifier and the Block Kit builders into an announcer.
 *
 * @param pageLink how to sign the approval page link of a request again (key and
 *   `APPROVAL_BASE_URL`), so a message updated after a partial signature keeps its page
 *   buttons; absent (no base URL): the updated message keeps only the action buttons.
 */
export function announcerFor(
  notifier: Notifier,
  interactive: boolean,
  pageLink?: (approvalId: string, exp: number) => string,
): ApprovalAnnouncer {
  return {
    request: (summary, links) =>
      notifier.postApprovalRequest(approvalMessage(summary, links, { interactive })),
    outcome: (summary, outcome, ref) =>
      notifier.updateMessage(ref.channel, ref.ts, decisionMessage(summary, outcome)),
    finding: (summary, finding, ref) =>
      notifier.updateMessage(ref.channel, ref.ts, findingMessage(summary, finding)),
    progress: (summary, p, ref) => {
      const links = {
        approvalId: p.approvalId,
        approvalUrl: pageLink ? pageLink(p.approvalId, p.exp) : '',
        expiresAtIso: p.expiresAtIso,
      };
      return notifier.updateMessage(
        ref.channel,
        ref.ts,
        progressMessage(summary, links, p, { interactive }),
      );
    },
  };
}

/** Secrets Manager secrets named by the approval environment (read through the clock's cache). */
export function makeSecrets(env: ApprovalEnv, rt: Pick<StoreRuntime, 'env'>): SecretsPort {
  return new SecretsManagerSecrets({
    read: powertoolsSecretReader(traced(new SecretsManagerClient({ region: rt.env.AWS_REGION }))),
    secretIds: {
      approvalKey: env.APPROVAL_KEY_SECRET_ID,
      slackBotToken: env.SLACK_BOT_TOKEN_SECRET_ID,
      slackSigningSecret: env.SLACK_SIGNING_SECRET_ID,
    },
  });
}

async function makeNotifier(env: ApprovalEnv, secrets: SecretsPort): Promise<Notifier> {
  if (env.NOTIFIER === 'webhook') {
    if (!env.SLACK_WEBHOOK_URL) {
      throw new ValidationError('env.SLACK_WEBHOOK_URL', 'is required with NOTIFIER=webhook');
    }
    return new WebhookNotifier({ url: env.SLACK_WEBHOOK_URL });
  }
  if (!env.SLACK_CHANNEL)
    throw new ValidationError('env.SLACK_CHANNEL', 'is required with NOTIFIER=slack');
  if (!slackPosterFactory) {
    // Only the functions that post to Slack bundle the SDK (functions/composition/slack-web-api.ts).
    throw new ValidationError(
      'env.NOTIFIER',
      'slack: this function does not bundle the Slack SDK (import composition/slack-web-api.js)',
    );
  }
  const poster = slackPosterFactory(await secrets.get('slackBotToken'));
  return new SlackNotifier({ poster, channel: env.SLACK_CHANNEL });
}

/** The runtime-specific parts of the approval dependencies. */
export interface ApprovalParts {
  readonly runtime: StoreRuntime;
  readonly secrets: SecretsPort;
  readonly key: ApprovalKey;
  readonly notifier: Notifier;
  /** Approve/Reject action buttons (true) or link buttons to the approval page (false). */
  readonly interactive: boolean;
  /** Origin (+ prefix) of the approval page (`APPROVAL_BASE_URL`), when this function has it. */
  readonly approvalBaseUrl?: string | undefined;
  readonly taskTokens: TaskTokenPort;
  /** What a redelivered decision whose re-sent resume is refused reads the execution with. */
  readonly executions: ExecutionDescriber;
}

/** Assembles the approval dependencies from their parts (the AWS and the local root alike). */
export function assembleApprovalDeps(parts: ApprovalParts): ApprovalDeps {
  const rt = parts.runtime;
  const doc = makeDocumentClient(rt.env, rt.credentials);
  const approvals = new DynamoApprovalStore({
    doc,
    tableName: rt.env.TABLE_NAME,
    cipher: createTaskTokenCipher(parts.key),
  });
  return {
    runtime: rt,
    clock: rt.clock,
    audit: rt.audit,
    environment: rt.env.STAGE,
    secrets: parts.secrets,
    key: parts.key,
    approvals,
    store: approvals,
    announcer: announcerFor(
      parts.notifier,
      parts.interactive,
      parts.approvalBaseUrl
        ? (approvalId, exp) =>
            buildApprovalLink({ baseUrl: parts.approvalBaseUrl ?? '', approvalId, exp }, parts.key)
              .url
        : undefined,
    ),
    microLive: new DynamoMicroLiveRepository(doc, rt.env.TABLE_NAME),
    taskTokens: parts.taskTokens,
    executions: parts.executions,
  };
}

/**
 * Builds the AWS approval dependencies from a runtime and an environment map.
 *
 * @param parts secrets, task tokens and the execution describer to use instead of Secrets
 *   Manager and Step Functions (tests of a function's composition on loopback); the
 *   environment is read as in AWS.
 */
export async function buildApprovalDeps(
  rt: StoreRuntime,
  envVars: Record<string, string | undefined>,
  parts: Partial<Pick<ApprovalParts, 'secrets' | 'taskTokens' | 'executions'>> = {},
): Promise<ApprovalDeps> {
  const env = readApprovalEnv(envVars);
  const secrets = parts.secrets ?? makeSecrets(env, rt);
  const sfn = traced(new SFNClient({ region: rt.env.AWS_REGION }));
  return assembleApprovalDeps({
    runtime: rt,
    secrets,
    key: approvalKeyFromSecret(await secrets.get('approvalKey')),
    notifier: await makeNotifier(env, secrets),
    approvalBaseUrl: env.APPROVAL_BASE_URL,
    interactive: env.SLACK_INTERACTIVE
      ? env.SLACK_INTERACTIVE === 'true'
      : env.NOTIFIER === 'slack',
    taskTokens: parts.taskTokens ?? new SfnTaskTokens(sfn),
    executions: parts.executions ?? new SfnExecutions(sfn),
  });
}

let cached: Promise<ApprovalDeps> | undefined;

/**
 * The process-wide approval dependencies (a warm Lambda reuses them), on the store runtime
 * (`getStoreRuntime`): the approval page's bundle carries no market-data adapter.
 */
export function getApprovalDeps(): Promise<ApprovalDeps> {
  cached ??= buildApprovalDeps(getStoreRuntime(), process.env).catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

/** The Day-3 config from `DAY3_CONFIG_JSON`. @throws ValidationError when absent or invalid. */
export function day3ConfigOf(env: ApprovalEnv): Day3Config {
  if (!env.DAY3_CONFIG_JSON) {
    throw new ValidationError('env.DAY3_CONFIG_JSON', 'is required by the Day-3 workflow');
  }
  let json: unknown;
  try {
    json = JSON.parse(env.DAY3_CONFIG_JSON);
  } catch (err) {
    throw new ValidationError('env.DAY3_CONFIG_JSON', `is not JSON: ${(err as Error).message}`);
  }
  const config = parseDay3Config(json);
  if (config.demoOverride) {
    // This is the AWS root: the local mode composes its Day-3 config in local/composition.ts.
    throw new ValidationError(
      'env.DAY3_CONFIG_JSON.demoOverride',
      'the demo override of the evidence gates exists only in the local mode',
    );
  }
  return config;
}

/** What the Day-3 steps that request or act on an approval need. */
export type Day3HandlerDeps = Day3ApprovalDeps & ApprovalDeps & Day3Deps;

/** Assembles the Day-3 dependencies that need no secret (the AWS and the local root alike). */
export function assembleDay3Deps(
  rt: Runtime,
  promotion: PromotionDeps,
  config: Day3Config,
): Day3Deps {
  return {
    promotion,
    genomePool: rt.genomePool,
    reports: new S3ReportPublisher(makeS3Client(rt.env, rt.credentials), rt.env.ARTIFACTS_BUCKET),
    config,
    microLive: new DynamoMicroLiveRepository(
      makeDocumentClient(rt.env, rt.credentials),
      rt.env.TABLE_NAME,
    ),
    paperTrackRecord: new DynamoPaperTrackRecord(
      makeDocumentClient(rt.env, rt.credentials),
      rt.env.TABLE_NAME,
    ),
  };
}
