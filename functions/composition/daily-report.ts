/**
 * Composition of the daily report after the close (`functions/handlers/post-daily-report.ts`,
 * the local replay's `daily-report` firing): the console's read model, the cohort repository,
 * the audit reader and sink, the artifacts (the posted reports, the plan), the post claims
 * (a conditional put on the single table: one post per session), the stage's
 * chat-ops settings (`CHATOPS_CONFIG_JSON`: market, leverage policy, min PSR, plan limits),
 * and the channel: Slack through the official SDK (`@slack/web-api` `WebClient`,
 * `chat.postMessage`) with the bot token (`SLACK_BOT_TOKEN_SECRET_ID`) to `SLACK_CHANNEL`.
 */
import { S3AuditReader } from '../adapters/audit/s3-audit-reader.js';
import { DynamoConsoleReadModel } from '../adapters/dynamodb/console-read-model.js';
import { DynamoPostClaims } from '../adapters/dynamodb/post-claims.js';
import { SlackNotifier } from '../adapters/slack/slack-notifier.js';
import { ValidationError } from '../core/errors.js';
import type { ChatOpsConfig } from '../core/use-cases/chatops-commands.js';
import type { DailyReportDeps } from '../core/use-cases/daily-report.js';
import type { ReportChannel } from '../ports/report-channel.js';
import { makeSecrets, readApprovalEnv } from './approval.js';
import { buildPlanDeps, readChatOpsConfig } from './chatops.js';
import { getRuntime, makeDocumentClient, makeS3Client, type Runtime } from './runtime.js';
import { webApiPoster } from './slack-web-api.js';

/** Builds the daily report's deps over a runtime, the stage's settings and a channel. */
export function buildDailyReportDeps(
  rt: Runtime,
  config: ChatOpsConfig,
  channel: ReportChannel,
  consoleUrl: string | null = null,
): DailyReportDeps {
  const doc = makeDocumentClient(rt.env, rt.credentials);
  return {
    readModel: new DynamoConsoleReadModel(doc, rt.env.TABLE_NAME),
    cohorts: rt.cohorts,
    genomePool: rt.genomePool,
    auditReader: new S3AuditReader({
      s3: makeS3Client(rt.env, rt.credentials),
      bucket: rt.env.AUDIT_BUCKET,
      dynamo: doc,
      tableName: rt.env.TABLE_NAME,
    }),
    audit: rt.audit,
    artifacts: rt.artifacts,
    claims: new DynamoPostClaims(doc, rt.env.TABLE_NAME),
    environment: rt.env.STAGE,
    clock: rt.clock,
    market: config.market,
    channel,
    plan: buildPlanDeps(rt, { ...config, policy: config.leveragePolicy }),
    consoleUrl,
    minPsr: config.minPsr,
  };
}

/** The Slack channel of a Lambda: the bot token from Secrets Manager, `SLACK_CHANNEL`. */
export function slackReportChannel(
  rt: Runtime,
  env: Record<string, string | undefined>,
): ReportChannel {
  const approvalEnv = readApprovalEnv(env);
  const channel = approvalEnv.SLACK_CHANNEL;
  if (!channel) throw new ValidationError('env.SLACK_CHANNEL', 'is required for the daily report');
  const secrets = makeSecrets(approvalEnv, rt);
  let notifier: SlackNotifier | undefined;
  return {
    async post(message) {
      notifier ??= new SlackNotifier({
        poster: webApiPoster(await secrets.get('slackBotToken')),
        channel,
      });
      return notifier.post(message);
    },
  };
}

let cached: DailyReportDeps | undefined;

/** The process-wide deps of the Lambda, built once from its environment. */
export function getDailyReportDeps(): DailyReportDeps {
  if (!cached) {
    const rt = getRuntime();
    cached = buildDailyReportDeps(
      rt,
      readChatOpsConfig(process.env.CHATOPS_CONFIG_JSON),
      slackReportChannel(rt, process.env),
      process.env.CONSOLE_URL || null,
    );
  }
  return cached;
}
