/**
 * The `approval` block a stage accepts with the Day-3 go/no-go deployed (approvers set), shared
 * by the tests that synthesize or load a stage with approvers:
 * - every stage: the given approvers;
 * - staging and prod: a JWT issuer (the approval page's signed-in identity, `approval.jwt`);
 * - prod: a two-step chain, operator {@link TEST_OPERATOR} then risk (the given approvers),
 *   since prod refuses fewer than two signatures (`PROD_MIN_SIGNATURES`, `approval.chain`).
 */
import type { Stage } from '../../lib/config/environment-config.js';

/** The JWT authorizer staging and prod require with approvers set. */
export const TEST_JWT = {
  issuer: 'https://idp.example.com/',
  audience: ['stagegate-approvals'],
} as const;

/** The operator who signs the first step of prod's chain in tests. */
export const TEST_OPERATOR = 'web:olivia@example.com';

export interface StageApproval {
  readonly approvers: string[];
  readonly jwt?: { readonly issuer: string; readonly audience: string[] };
  readonly chain?: { readonly role: 'operator' | 'risk'; readonly approvers: string[] }[];
}

/**
 * @param stage `dev` | `staging` | `prod`.
 * @param riskApprovers the approvers under test (in prod: the risk step; at least one other
 *   than {@link TEST_OPERATOR}).
 * @returns the `approval` override, e.g. for `{ [`stagegate:${stage}`]: { approval } }`.
 */
export function stageApproval(stage: Stage, riskApprovers: readonly string[]): StageApproval {
  const jwt = { issuer: TEST_JWT.issuer, audience: [...TEST_JWT.audience] };
  if (stage === 'dev') return { approvers: [...riskApprovers] };
  if (stage === 'staging') return { approvers: [...riskApprovers], jwt };
  const risk = riskApprovers.filter((a) => a !== TEST_OPERATOR);
  if (risk.length === 0)
    throw new Error(`stageApproval: no risk approver besides ${TEST_OPERATOR}`);
  return {
    approvers: [TEST_OPERATOR, ...risk],
    jwt,
    chain: [
      { role: 'operator', approvers: [TEST_OPERATOR] },
      { role: 'risk', approvers: risk },
    ],
  };
}
