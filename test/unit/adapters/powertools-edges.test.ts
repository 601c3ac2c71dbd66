/**
 * The Powertools edges of the deployed functions: secrets served (and cached) by Powertools
 * Parameters with the SDK's error names preserved, and Powertools Tracer wrapping the SDK
 * clients inside Lambda only. A real SDK client answers from an `initialize` middleware, so
 * no request leaves the process.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  powertoolsSecretReader,
  SecretsManagerSecrets,
} from '../../../functions/adapters/secrets/secrets.js';
import { currentTracer, traced, tracingMiddleware } from '../../../functions/adapters/tracing.js';
import { runsInLambda } from '../../../functions/config/env.js';

/** A Secrets Manager client whose every call runs `answer` instead of the network. */
function stubClient(answer: (secretId: string) => Promise<{ SecretString?: string }>) {
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const calls: string[] = [];
  client.middlewareStack.add(
    () => async (args) => {
      const id = (args.input as { SecretId: string }).SecretId;
      calls.push(id);
      return { output: { ...(await answer(id)), $metadata: {} }, response: {} };
    },
    { step: 'initialize', name: 'stubSecrets', priority: 'low' },
  );
  return { client, calls };
}

describe('secrets through Powertools Parameters', () => {
  it('serves each secret by role and caches it (one GetSecretValue per id)', async () => {
    const { client, calls } = stubClient(async (id) => ({ SecretString: `value-of-${id}` }));
    const secrets = new SecretsManagerSecrets({
      read: powertoolsSecretReader(client),
      secretIds: { approvalKey: 'arn:key', slackBotToken: 'arn:bot' },
    });
    await expect(secrets.get('approvalKey')).resolves.toBe('value-of-arn:key');
    await expect(secrets.get('approvalKey')).resolves.toBe('value-of-arn:key');
    await expect(secrets.get('slackBotToken')).resolves.toBe('value-of-arn:bot');
    expect(calls).toEqual(['arn:key', 'arn:bot']);
  });

  it('re-reads a secret once its max age has passed (a rotation is picked up)', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 5, 15) });
    try {
      let version = 1;
      const { client, calls } = stubClient(async () => ({ SecretString: `v${version}` }));
      const read = powertoolsSecretReader(client, 300);
      await expect(read('arn:key')).resolves.toBe('v1');
      version = 2;
      vi.advanceTimersByTime(299_000);
      await expect(read('arn:key')).resolves.toBe('v1');
      vi.advanceTimersByTime(2_000);
      await expect(read('arn:key')).resolves.toBe('v2');
      expect(calls).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps the SDK error names: throttling is retryable, a missing role or value is named', async () => {
    const throttled = stubClient(async () => {
      throw Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      });
    });
    const secrets = new SecretsManagerSecrets({
      read: powertoolsSecretReader(throttled.client),
      secretIds: { approvalKey: 'arn:key' },
    });
    await expect(secrets.get('approvalKey')).rejects.toMatchObject({
      name: 'TransientError',
      retryable: true,
    });
    await expect(secrets.get('slackSigningSecret')).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('secrets.slackSigningSecret'),
    });
    const empty = stubClient(async () => ({}));
    const noValue = new SecretsManagerSecrets({
      read: powertoolsSecretReader(empty.client),
      secretIds: { approvalKey: 'arn:key' },
    });
    await expect(noValue.get('approvalKey')).rejects.toMatchObject({
      name: 'ValidationError',
      message: expect.stringContaining('no string value'),
    });
  });
});

describe('Powertools Tracer at the handler edge', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('knows Lambda by AWS_LAMBDA_FUNCTION_NAME', () => {
    expect(runsInLambda({})).toBe(false);
    expect(runsInLambda({ AWS_LAMBDA_FUNCTION_NAME: 'stagegate-dev-RecordAudit' })).toBe(true);
  });

  it('outside Lambda loads no tracer and leaves SDK clients untouched', async () => {
    const mw = tracingMiddleware(() => false);
    await mw.before?.({} as never);
    expect(currentTracer()).toBeUndefined();
    const { client } = stubClient(async () => ({ SecretString: 'x' }));
    const before = client.middlewareStack.identify();
    expect(traced(client)).toBe(client);
    expect(client.middlewareStack.identify()).toEqual(before);
  });

  it('inside Lambda loads the tracer on the first invocation and then traces every client', async () => {
    vi.stubEnv('AWS_EXECUTION_ENV', 'AWS_Lambda_nodejs22.x');
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'stagegate-dev-RecordAudit');
    vi.stubEnv('POWERTOOLS_TRACE_ENABLED', 'true');
    vi.stubEnv('AWS_XRAY_CONTEXT_MISSING', 'IGNORE_ERROR');
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const mw = tracingMiddleware(() => runsInLambda());
    // Outside a real invocation there is no X-Ray segment; the middleware must still pass.
    await mw.before?.({ event: {}, context: {}, response: null } as never).catch(() => {});
    const tracer = currentTracer();
    expect(tracer).toBeDefined();
    expect(tracer?.isTracingEnabled()).toBe(true);
    const { client } = stubClient(async () => ({ SecretString: 'x' }));
    traced(client);
    expect(client.middlewareStack.identify().join(' ')).toMatch(/XRaySDKInstrumentation/);
    // The traced client still answers (the stub) outside a segment.
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: 'arn:key' })),
    ).resolves.toMatchObject({ SecretString: 'x' });
  });
});
