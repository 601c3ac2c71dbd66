/**
 * The doors of the plan use cases over given plan deps, as the plan tests drive them: the
 * operator console's API (olivia, an operator, with a matching CSRF header and cookie) and the
 * Slack slash command (user `UOPS`, an operator).
 */
import {
  ConsoleApi,
  type ConsoleApiDeps,
  type ConsolePlans,
} from '../../functions/core/use-cases/console-api.js';
import {
  currentPlan,
  type PlanDeps,
  planSlashCommands,
  runPlanCommand,
} from '../../functions/core/use-cases/plans.js';
import type { SlashCommandDeps } from '../../functions/core/use-cases/slash-command.js';

const CSRF = 'csrf-plan-console-0123';

/**
 * The console API whose plan routes run over `deps`, recording to `trail.audit`; returns a
 * request function: `(method, path, body?, idempotencyKey?)`, `body` sent as JSON ('' when
 * undefined), answering the API's response.
 */
export function planConsole(deps: PlanDeps, trail: Pick<PlanDeps, 'audit' | 'clock'>) {
  const plans: ConsolePlans = {
    current: () => currentPlan(deps),
    run: async (command, by, key) => {
      const out = await runPlanCommand(deps, command, by, 'console', key ?? null);
      return { title: out.title, lines: out.lines, plan: out.plan };
    },
  };
  const api = new ConsoleApi({
    plans,
    audit: trail.audit,
    environment: 'local',
    clock: trail.clock,
  } as unknown as ConsoleApiDeps);
  return (method: string, path: string, body?: unknown, key?: string) =>
    api.handle({
      method,
      path,
      query: {},
      headers: {
        'content-type': 'application/json',
        'x-csrf-token': CSRF,
        cookie: `stagegate_csrf=${CSRF}`,
        ...(key ? { 'idempotency-key': key } : {}),
      },
      body: body === undefined ? '' : JSON.stringify(body),
      identity: 'cognito:olivia@example.com',
      roles: ['operator'],
    });
}

/** Slash-command deps whose `plan` commands run over `planDeps` (UOPS is an operator). */
export function planSlack(
  planDeps: PlanDeps,
  audit: SlashCommandDeps['audit'],
  clock: PlanDeps['clock'],
): SlashCommandDeps {
  return {
    users: { UOPS: ['viewer', 'operator'] },
    readModel: {
      listCohorts: async () => ({ items: [], next: null }),
      listPromotions: async () => ({ items: [], next: null }),
      listApprovals: async () => ({ items: [], next: null }),
    },
    killSwitch: { read: async () => null },
    setKillSwitch: async () => {
      throw new Error('not in this test');
    },
    extra: { plan: planSlashCommands(planDeps) },
    audit,
    environment: 'local',
    clock,
  };
}
