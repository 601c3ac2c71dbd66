/**
 * cdk-nag acknowledgements (v3: `Validations.of(x).acknowledge`) with a mandatory reason, and
 * helpers that compute the exact finding id of a wildcard IAM resource, so an
 * acknowledgement covers that one resource and nothing broader.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

/** Shortest reason accepted: an acknowledgement must say why, not just "ok". */
export const MIN_REASON_LENGTH = 40;

/**
 * Acknowledges one cdk-nag rule (or one finding `Rule[finding]`) on `scope` and its children.
 *
 * @throws Error when `reason` is shorter than {@link MIN_REASON_LENGTH} characters.
 */
export function acknowledgeNag(scope: IConstruct, id: string, reason: string): void {
  if (reason.trim().length < MIN_REASON_LENGTH) {
    throw new Error(
      `cdk-nag acknowledgement ${id} on ${scope.node.path} needs a reason of at least ${MIN_REASON_LENGTH} characters`,
    );
  }
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * The AwsSolutions-IAM5 finding id cdk-nag reports for a wildcard `resource` (an ARN that may
 * contain tokens), e.g. `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::b/lean/*]`.
 * Only valid when the ARN holds no cross-stack reference (it is resolved in `scope`'s stack
 * now, and must render the same at validation time).
 */
export function wildcardResourceFinding(scope: IConstruct, resource: string): string {
  const flat = flattenCfnReference(Stack.of(scope).resolve(resource));
  return `AwsSolutions-IAM5[Resource::${flat}]`;
}

/** The AwsSolutions-IAM5 finding id for a `Resource: "*"` statement. */
export const STAR_RESOURCE_FINDING = 'AwsSolutions-IAM5[Resource::*]';
