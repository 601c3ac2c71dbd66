/**
 * The chat-ops settings (`CHATOPS_CONFIG_JSON`) and the plan use cases' dependencies over a
 * runtime: shared by the slash command, the daily report and the console API (which does not
 * bundle the Slack or Lambda clients, so these live apart from `chatops.ts`).
 */
import { DynamoConsoleReadModel } from '../adapters/dynamodb/console-read-model.js';
import { DynamoPlanStore } from '../adapters/dynamodb/plan-store.js';
import { parseOrThrow, ValidationError } from '../core/errors.js';
import { type ChatOpsConfig, ChatOpsConfigSchema } from '../core/use-cases/chatops-commands.js';
import type { PlanDeps } from '../core/use-cases/plans.js';
import { makeDocumentClient, type Runtime } from './runtime.js';

/**
 * Parses `CHATOPS_CONFIG_JSON`.
 * @throws ValidationError naming `env.CHATOPS_CONFIG_JSON` and the bad field.
 */
export function readChatOpsConfig(json: string | undefined): ChatOpsConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(json ?? '');
  } catch {
    throw new ValidationError('env.CHATOPS_CONFIG_JSON', 'is not JSON');
  }
  return parseOrThrow(ChatOpsConfigSchema, raw, 'env.CHATOPS_CONFIG_JSON');
}

/**
 * The plan use cases' deps over a runtime and the stage's limits: the plan in the runtime's
 * table (`PLAN / CURRENT`, compare-and-set; DynamoDB Local in the local mode; a stage's plan
 * still in the artifacts bucket's `plans/current.json` is moved there on first read), the desk's
 * cohorts as evidence, the runtime's trail and clock.
 */
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
    plans: new DynamoPlanStore(doc, rt.env.TABLE_NAME, rt.artifacts),
    readModel: new DynamoConsoleReadModel(doc, rt.env.TABLE_NAME),
    audit: rt.audit,
    environment: rt.env.STAGE,
    clock: rt.clock,
  };
}
