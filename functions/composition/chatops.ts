/**
 * Composition of the `/stagegate` slash command (`functions/handlers/slack-command.ts`) and
 * the kill-switch confirmation clicks (`slack-interactivity.ts`): the console's read model and
 * kill switch over a {@link Runtime}, the stage's Slack user -> role map
 * (`SLACK_COMMAND_USERS_JSON`, from `slack.commandUsers` of the stage config), the signing
 * secret, and where follow-up answers may be posted (`response_url`: Slack's hooks host only).
 */
import { DynamoConsoleReadModel } from '../adapters/dynamodb/console-read-model.js';
import { DynamoKillSwitch } from '../adapters/dynamodb/kill-switch.js';
import { SlackCommandUsersSchema } from '../core/chatops/command.js';
import { parseOrThrow, ValidationError } from '../core/errors.js';
import type { PlanDeps } from '../core/use-cases/plans.js';
import type { PromotionDeps } from '../core/use-cases/promotion.js';
import type {
  SlackCommandUsers,
  SlashCommandDeps,
  SlashCommandExtensions,
} from '../core/use-cases/slash-command.js';
import type { Clock } from '../ports/clock.js';
import type { SecretsPort } from '../ports/secrets.js';
import { makeSecrets, readApprovalEnv } from './approval.js';
import { killSwitchSetter } from './console.js';
import { getPromotionDeps } from './promotion.js';
import { getRuntime, makeDocumentClient, type Runtime } from './runtime.js';

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
}

/** Parts the AWS and local roots differ in. */
export interface SlashCommandParts {
  readonly users: SlackCommandUsers;
  readonly secrets: SecretsPort;
  readonly promotionDeps: () => PromotionDeps;
  readonly responseUrlAllowed?: (url: string) => boolean;
  readonly extra?: SlashCommandExtensions;
  /** @default 2500 (Slack waits 3 s) */
  readonly ackBudgetMs?: number;
  /** @default the runtime's clock */
  readonly requestClock?: Clock;
}

/** Builds the chat-ops deps over a runtime. */
export function buildSlashCommandDeps(
  rt: Runtime,
  parts: SlashCommandParts,
): SlashCommandHandlerDeps {
  const doc = makeDocumentClient(rt.env, rt.credentials);
  return {
    users: parts.users,
    readModel: new DynamoConsoleReadModel(doc, rt.env.TABLE_NAME),
    killSwitch: new DynamoKillSwitch(doc, rt.env.TABLE_NAME),
    setKillSwitch: killSwitchSetter(rt, parts.promotionDeps),
    ...(parts.extra ? { extra: parts.extra } : {}),
    audit: rt.audit,
    environment: rt.env.STAGE,
    clock: rt.clock,
    secrets: parts.secrets,
    responseUrlAllowed: parts.responseUrlAllowed ?? ((url) => SLACK_RESPONSE_URL.test(url)),
    ackBudgetMs: parts.ackBudgetMs ?? 2500,
    requestClock: parts.requestClock ?? rt.clock,
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

let cached: SlashCommandHandlerDeps | undefined;

/** The process-wide chat-ops deps of a Lambda, built once from its environment. */
export function getSlashCommandDeps(): SlashCommandHandlerDeps {
  if (!cached) {
    const rt = getRuntime();
    cached = buildSlashCommandDeps(rt, {
      users: readSlackCommandUsers(process.env.SLACK_COMMAND_USERS_JSON),
      secrets: makeSecrets(readApprovalEnv(process.env), rt),
      promotionDeps: getPromotionDeps,
    });
  }
  return cached;
}

/** The plan use cases' deps over a runtime and the stage's limits. */
export function buildPlanDeps(
  rt: Runtime,
  limits: Pick<
    PlanDeps,
    'policy' | 'market' | 'bankrollUsd' | 'bankrollLimits' | 'maxDrawdownFraction'
  >,
): PlanDeps {
  const doc = makeDocumentClient(rt.env, rt.credentials);
  return {
    ...limits,
    artifacts: rt.artifacts,
    readModel: new DynamoConsoleReadModel(doc, rt.env.TABLE_NAME),
    audit: rt.audit,
    environment: rt.env.STAGE,
    clock: rt.clock,
  };
}
