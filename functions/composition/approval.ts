/**
 * Composition of the Day-3 approval flow (request-approval, approval page, Slack
 * interactivity, micro-live, rollback monitor): reads its environment once through zod,
 * builds the secrets source, the approval store (task token encrypted with a key derived from
 * the approval key), the task-token port, the announcer (Slack Web API, incoming webhook or
 * console) and the micro-live repository, on top of {@link getRuntime} and
 * {@link getPromotionDeps}. Built lazily, once per process (secrets are fetched on first use).
 *
 * Environment (see docs/approval.md for the full table):
 * - `DAY3_CONFIG_JSON`: the Day-3 config (`Day3ConfigSchema`), required by the Day-3 steps;
 * - `APPROVAL_BASE_URL`: origin (+ prefix) of the approval page, required by RequestApproval;
 * - `TASK_TOKEN_MODE`: `aws` (SendTask* through the SDK, default) or `local` (the in-process
 *   registry of the local ASL runner);
 * - `SECRETS_MODE`: `secrets-manager` (default; `APPROVAL_KEY_SECRET_ID`,
 *   `SLACK_BOT_TOKEN_SECRET_ID`, `SLACK_SIGNING_SECRET_ID`) or `env` (local mode:
 *   `APPROVAL_KEY`, `SLACK_BOT_TOKEN`, `SLACK_SIGNING_SECRET`);
 * - `NOTIFIER`: `slack` (default; `SLACK_CHANNEL`), `webhook` (`SLACK_WEBHOOK_URL`) or
 *   `console`; `SLACK_INTERACTIVE` (`true` for Approve/Reject action buttons handled by the
 *   interactivity endpoint; `false` for link buttons to the page; default: true for `slack`).
 *
 * The local mode may replace the notifier ({@link useNotifier}) to print or capture the
 * Block Kit payload; everything else comes from the environment, as in AWS.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { DynamoApprovalStore } from '../adapters/approval/dynamo-approval-store.js';
import { DynamoMicroLiveRepository } from '../adapters/dynamodb/micro-live-repository.js';
import { S3ReportPublisher } from '../adapters/s3/s3-report-publisher.js';
import { EnvSecrets, SecretsManagerSecrets } from '../adapters/secrets/secrets.js';
import { localTaskTokens } from '../adapters/sfn/local-task-tokens.js';
import { SfnTaskTokens } from '../adapters/sfn/sfn-task-tokens.js';
import { ConsoleNotifier } from '../adapters/slack/console-notifier.js';
import { approvalMessage, decisionMessage } from '../adapters/slack/messages.js';
import { SlackNotifier, type SlackPoster } from '../adapters/slack/slack-notifier.js';
import { WebhookNotifier } from '../adapters/slack/webhook-notifier.js';
import { type ApprovalKey, approvalKeyFromSecret } from '../core/approval/links.js';
import { createTaskTokenCipher } from '../core/approval/token-cipher.js';
import { ValidationError } from '../core/errors.js';
import type { Day3ApprovalDeps, Day3Deps } from '../core/use-cases/day3.js';
import type { ApplyDecisionDeps } from '../core/use-cases/day3-approval.js';
import { type Day3Config, parseDay3Config } from '../core/use-cases/day3-records.js';
import type { ApprovalAnnouncer } from '../ports/approval-announcer.js';
import type { ApprovalStore } from '../ports/approval-store.js';
import type { AuditSink } from '../ports/audit.js';
import type { Clock } from '../ports/clock.js';
import type { MicroLiveRepository } from '../ports/micro-live.js';
import type { Notifier } from '../ports/notifier.js';
import type { SecretsPort } from '../ports/secrets.js';
import type { TaskTokenPort } from '../ports/task-token.js';
import { getPromotionDeps } from './promotion.js';
import { getRuntime, makeDocumentClient, makeS3Client, type Runtime } from './runtime.js';

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
  TASK_TOKEN_MODE: z.enum(['aws', 'local']).default('aws'),
  SECRETS_MODE: z.enum(['secrets-manager', 'env']).default('secrets-manager'),
  APPROVAL_KEY_SECRET_ID: optional,
  SLACK_BOT_TOKEN_SECRET_ID: optional,
  SLACK_SIGNING_SECRET_ID: optional,
  NOTIFIER: z.enum(['slack', 'webhook', 'console']).default('slack'),
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
  const parsed = ApprovalEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ValidationError(
      `env.${issue?.path.join('.') ?? '?'}`,
      issue?.message ?? 'invalid environment',
    );
  }
  return parsed.data;
}

/** What the approval page, Slack interactivity and the Day-3 steps share. */
export interface ApprovalDeps extends ApplyDecisionDeps {
  readonly env: ApprovalEnv;
  readonly runtime: Runtime;
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
}

let notifierOverride: Notifier | null = null;
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
 * Local mode and tests: announce through `notifier` instead of the one the environment names
 * (null restores it). Resets the cached dependencies.
 */
export function useNotifier(notifier: Notifier | null): void {
  notifierOverride = notifier;
  resetApprovalDeps();
}

/** Binds a notifier and the Block Kit builders into an announcer. */
export function announcerFor(notifier: Notifier, interactive: boolean): ApprovalAnnouncer {
  return {
    request: (summary, links) =>
      notifier.postApprovalRequest(approvalMessage(summary, links, { interactive })),
    outcome: (summary, outcome, ref) =>
      notifier.updateMessage(ref.channel, ref.ts, decisionMessage(summary, outcome)),
  };
}

function makeSecrets(env: ApprovalEnv, rt: Runtime): SecretsPort {
  if (env.SECRETS_MODE === 'env') return new EnvSecrets(process.env);
  return new SecretsManagerSecrets({
    client: new SecretsManagerClient({ region: rt.env.AWS_REGION }),
    secretIds: {
      approvalKey: env.APPROVAL_KEY_SECRET_ID,
      slackBotToken: env.SLACK_BOT_TOKEN_SECRET_ID,
      slackSigningSecret: env.SLACK_SIGNING_SECRET_ID,
    },
    clock: rt.clock,
  });
}

async function makeNotifier(env: ApprovalEnv, secrets: SecretsPort): Promise<Notifier> {
  if (notifierOverride) return notifierOverride;
  if (env.NOTIFIER === 'console') return new ConsoleNotifier();
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

/** Builds the approval dependencies from a runtime and an environment map. */
export async function buildApprovalDeps(
  rt: Runtime,
  envVars: Record<string, string | undefined>,
): Promise<ApprovalDeps> {
  const env = readApprovalEnv(envVars);
  const secrets = makeSecrets(env, rt);
  const key = approvalKeyFromSecret(await secrets.get('approvalKey'));
  const doc = makeDocumentClient(rt.env);
  const notifier = await makeNotifier(env, secrets);
  const interactive = env.SLACK_INTERACTIVE
    ? env.SLACK_INTERACTIVE === 'true'
    : env.NOTIFIER === 'slack' && !notifierOverride;
  const approvals = new DynamoApprovalStore({
    doc,
    tableName: rt.env.TABLE_NAME,
    cipher: createTaskTokenCipher(key),
  });
  return {
    env,
    runtime: rt,
    clock: rt.clock,
    audit: rt.audit,
    environment: rt.env.STAGE,
    secrets,
    key,
    approvals,
    store: approvals,
    announcer: announcerFor(notifier, interactive),
    microLive: new DynamoMicroLiveRepository(doc, rt.env.TABLE_NAME),
    taskTokens:
      env.TASK_TOKEN_MODE === 'local'
        ? localTaskTokens
        : new SfnTaskTokens(new SFNClient({ region: rt.env.AWS_REGION })),
  };
}

let cached: Promise<ApprovalDeps> | undefined;

/** The process-wide approval dependencies (a warm Lambda reuses them). */
export function getApprovalDeps(): Promise<ApprovalDeps> {
  cached ??= buildApprovalDeps(getRuntime(), process.env).catch((err: unknown) => {
    cached = undefined;
    throw err;
  });
  return cached;
}

/** Forgets the cached dependencies (local mode, after changing the environment). */
export function resetApprovalDeps(): void {
  cached = undefined;
  cachedCore = undefined;
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
  if (config.demoOverride && env.TASK_TOKEN_MODE !== 'local') {
    throw new ValidationError(
      'env.DAY3_CONFIG_JSON.demoOverride',
      'the demo override of the evidence gates exists only in the local mode (TASK_TOKEN_MODE=local)',
    );
  }
  return config;
}

/** The Day-3 steps' dependencies (promotion pipeline deps, Day-3 config, micro-live store). */
export async function getDay3Deps(): Promise<Day3ApprovalDeps & ApprovalDeps & Day3Deps> {
  const deps = await getApprovalDeps();
  return {
    ...deps,
    promotion: getPromotionDeps(),
    genomePool: getRuntime().genomePool,
    reports: new S3ReportPublisher(
      makeS3Client(getRuntime().env),
      getRuntime().env.ARTIFACTS_BUCKET,
    ),
    config: day3ConfigOf(deps.env),
    approvalBaseUrl: deps.env.APPROVAL_BASE_URL ?? '',
  };
}

let cachedCore: Day3Deps | undefined;

/**
 * The Day-3 dependencies that need no secret (SelectCandidate, the rollback monitor):
 * promotion deps, Day-3 config, micro-live store.
 */
export function getDay3CoreDeps(): Day3Deps {
  if (!cachedCore) {
    const rt = getRuntime();
    const env = readApprovalEnv(process.env);
    cachedCore = {
      promotion: getPromotionDeps(),
      genomePool: rt.genomePool,
      reports: new S3ReportPublisher(makeS3Client(rt.env), rt.env.ARTIFACTS_BUCKET),
      config: day3ConfigOf(env),
      microLive: new DynamoMicroLiveRepository(makeDocumentClient(rt.env), rt.env.TABLE_NAME),
    };
  }
  return cachedCore;
}
