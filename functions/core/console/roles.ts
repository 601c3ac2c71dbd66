/**
 * Roles of the operator console and the API (issue 14): `viewer` reads, `operator` may also
 * engage/release the kill switch, start cohorts and create or cancel plans, `operator` and `risk` may sign approvals
 * (each only the step of a request's approval chain that names their role:
 * functions/core/approval/chain.ts; without a configured chain the one step is `risk`). A
 * higher role never implies another one's writes: a risk officer cannot flip the kill switch,
 * an operator cannot give a risk signature (separation of duties); both can read.
 *
 * Where roles come from (never from a header or body the client controls):
 * - AWS: the Cognito user pool's groups in the JWT claim `cognito:groups`. API Gateway HTTP
 *   API passes an array claim to the Lambda as the string `[viewer operator]`; a real array is
 *   accepted as well.
 * - Local: the local console server verifies its own bearer token and puts the user's groups
 *   into the Lambda-authorizer context (`requestContext.authorizer.lambda.groups`), exactly
 *   as a Lambda authorizer would.
 */

/** Every role, least privileged first. */
export const ROLES = ['viewer', 'operator', 'risk'] as const;
export type Role = (typeof ROLES)[number];

/** What a request wants to do; each action needs one role. */
export type ConsoleAction = 'read' | 'kill_switch' | 'cohort_start' | 'plan' | 'approve';

/**
 * The role each action requires (`read` is open to every role; a list: any of them). `approve`
 * admits the roles a chain step can name; the chain then requires the due step's role.
 */
export const ACTION_ROLE: Readonly<Record<ConsoleAction, Role | readonly Role[] | 'any'>> = {
  read: 'any',
  kill_switch: 'operator',
  cohort_start: 'operator',
  /** Create, cancel or report a plan ("grow $X over N days"); reading it is `read`. */
  plan: 'operator',
  approve: ['operator', 'risk'],
};

const isRole = (v: string): v is Role => (ROLES as readonly string[]).includes(v);

/**
 * The roles named by a groups claim: a JSON-ish array, the API Gateway rendering
 * `[a b c]`, or a comma/space separated string. Unknown group names are ignored.
 */
export function rolesFromGroups(groups: unknown): Role[] {
  let names: string[] = [];
  if (Array.isArray(groups)) names = groups.map(String);
  else if (typeof groups === 'string') {
    names = groups
      .replace(/^\[|\]$/g, '')
      .split(/[\s,]+/)
      .map((s) => s.replace(/^"|"$/g, ''));
  }
  return ROLES.filter((r) => names.some((n) => n === r && isRole(n)));
}

/** Whether `roles` may perform `action`. */
export function mayPerform(roles: readonly Role[], action: ConsoleAction): boolean {
  const need = ACTION_ROLE[action];
  if (need === 'any') return roles.length > 0;
  if (typeof need !== 'string') return need.some((r) => roles.includes(r));
  return roles.includes(need);
}
