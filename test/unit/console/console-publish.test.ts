/**
 * `stagegate publish-console` reads a `cdk deploy --outputs-file` document: it finds the one
 * stage's console outputs, or refuses naming the file, the stack and the output.
 */
import { describe, expect, it } from 'vitest';
import { consoleDeploymentOf } from '../../../lib/console-publish.js';

const outputs = (stack: string, extra: Record<string, string> = {}) => ({
  [stack]: {
    ConsoleUrl: 'https://d111.cloudfront.net/',
    ConsolePagesBucket: 'stagegate-dev-console-pages-1-us-east-1',
    ConsoleSignInUrl: 'https://stagegate-dev-1.auth.us-east-1.amazoncognito.com/',
    ConsoleClientId: 'client1',
    ...extra,
  },
});

describe('consoleDeploymentOf', () => {
  it('reads the console of the one stage in the file', () => {
    expect(
      consoleDeploymentOf(
        { ...outputs('stagegate-dev-workflow'), 'stagegate-dev-stateful': { X: 'y' } },
        'o.json',
      ),
    ).toEqual({
      stack: 'stagegate-dev-workflow',
      url: 'https://d111.cloudfront.net/',
      bucket: 'stagegate-dev-console-pages-1-us-east-1',
      signInUrl: 'https://stagegate-dev-1.auth.us-east-1.amazoncognito.com',
      clientId: 'client1',
    });
  });

  it('needs --stage when the file holds several stages, and picks that one', () => {
    const both = { ...outputs('stagegate-dev-workflow'), ...outputs('stagegate-prod-workflow') };
    expect(() => consoleDeploymentOf(both, 'o.json')).toThrow('o.json: holds several stages');
    expect(consoleDeploymentOf(both, 'o.json', 'prod').stack).toBe('stagegate-prod-workflow');
    expect(() => consoleDeploymentOf(both, 'o.json', 'staging')).toThrow(
      /o\.json: no stack with the output ConsolePagesBucket for stage staging/,
    );
  });

  it('refuses a file that is not an outputs document, a missing output or a non-https URL', () => {
    expect(() => consoleDeploymentOf([1, 2], 'o.json')).toThrow(
      'o.json: not a cdk deploy --outputs-file document',
    );
    const noClient = outputs('stagegate-dev-workflow');
    delete (noClient['stagegate-dev-workflow'] as Record<string, string>).ConsoleClientId;
    expect(() => consoleDeploymentOf(noClient, 'o.json')).toThrow(
      'o.json: stagegate-dev-workflow.ConsoleClientId: missing',
    );
    expect(() =>
      consoleDeploymentOf(
        outputs('stagegate-dev-workflow', { ConsoleSignInUrl: 'http://evil.example' }),
        'o.json',
      ),
    ).toThrow('stagegate-dev-workflow.ConsoleSignInUrl: not an https URL');
  });
});
