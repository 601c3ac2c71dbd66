/**
 * No input field of a deployed workflow can set the time: every workflow's request schema is
 * strict, so an execution input carrying `replayStartIso`, `now` or `clock` is refused (not
 * stripped) by the first step, ends in `RecordRejection`, and leaves an `input_rejected`
 * record naming the key. The local stack runs the same ASL files and handlers as AWS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleNotifier } from '../../local/console-notifier.js';
import { type LocalDay3Run, type LocalStack, startLocalStack } from '../../local/local-stack.js';
import { readAuditObjects } from '../support/audit.js';
import { DATA_ROOT } from '../support/paths.js';

let stack: LocalStack;
let day3: LocalDay3Run;

beforeAll(async () => {
  stack = await startLocalStack({ dataRoot: DATA_ROOT, stateDir: 'memory', logLevel: 'SILENT' });
  day3 = await stack.day3({
    approvalBaseUrl: 'http://127.0.0.1:9',
    approvers: ['local:test'],
    notifier: new ConsoleNotifier(),
  });
});

afterAll(async () => {
  await stack?.stop();
});

/** A valid input of each workflow (what its schedule or the CLI sends). */
const VALID: Record<string, Record<string, unknown>> = {
  'intraday-cohort': {
    source: 'schedule',
    scheduledTime: '2013-10-07T13:35:00Z',
    symbols: ['SPY'],
    bankrollUsd: 1000,
    agentCount: 4,
    allocation: 'equal',
  },
  'promotion-pipeline': { source: 'schedule' },
  'learning-cycle': { source: 'schedule' },
  'day3-go-no-go': { source: 'schedule' },
};

const TIME_FIELDS: readonly [string, unknown][] = [
  ['replayStartIso', '2013-10-08T13:55:00.000Z'],
  ['now', '2013-10-08T14:00:00.000Z'],
  ['clock', { replayStartIso: '2013-10-08T13:55:00.000Z', elapsedSeconds: 0 }],
];

const CASES = Object.keys(VALID).flatMap((machine) =>
  TIME_FIELDS.map(([key, value]) => [machine, key, value] as const),
);

function machineOf(name: string) {
  const byName = {
    'intraday-cohort': stack.intradayCohort,
    'promotion-pipeline': stack.promotionPipeline,
    'learning-cycle': stack.learningCycle,
    'day3-go-no-go': day3.machine,
  } as const;
  return byName[name as keyof typeof byName];
}

describe('an execution input that tries to set the time', () => {
  it.each(CASES)(
    '%s with "%s": input_rejected, recorded, no step ran',
    async (machine, key, value) => {
      // Prepare
      const executionName = `it-time-${machine}-${key}`;

      // Act
      const result = await machineOf(machine).execute(
        { ...VALID[machine], [key]: value },
        { executionName },
      );

      // Assess: refused by the first step, the refusal recorded with the key named
      expect(result.status).toBe('FAILED');
      expect(result.error).toBe('ValidationError');
      expect(result.cause).toContain(key);
      expect(result.path).toContain('RecordRejection');
      const records = (await readAuditObjects(stack.servers.s3Endpoint)).filter(
        (r) => r.stream === `execution:${executionName}`,
      );
      expect(records.map((r) => r.kind)).toEqual(['input_rejected']);
      const payload = JSON.parse(String(records[0]?.payload)) as {
        message: string;
        request: Record<string, unknown>;
      };
      expect(payload.message).toContain(key);
      expect(payload.request).toMatchObject({ [key]: value });
    },
  );
});
