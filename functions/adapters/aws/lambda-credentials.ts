/**
 * The SDK's default credential provider as the deployed bundles see it: credentials from the
 * environment only (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), which is
 * where Lambda puts the execution role's credentials.
 *
 * Only the Lambda bundles use this module: `lib/constructs/bundling.ts` aliases
 * `@aws-sdk/credential-provider-node` to it, so every SDK client's default chain resolves here
 * and the bundle leaves out the chain's other sources (SSO, STS web identity, INI files,
 * processes, IMDS and the nested STS/SSO/sign-in clients, ~100 KB minified per function).
 * Tests, the local mode and the CLI are not bundled and keep the full chain.
 *
 * Shape: the `defaultProvider(init)` export of `@aws-sdk/credential-provider-node`, returning an
 * `AwsCredentialIdentityProvider`. Errors: `CredentialsProviderError` (from `fromEnv`) when the
 * variables are absent, e.g. a bundle run outside Lambda.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

type EnvInit = Parameters<typeof fromEnv>[0];

/** The default provider, reduced to the environment (Lambda's execution-role credentials). */
export const defaultProvider = (init: EnvInit = {}) => fromEnv(init);
