/**
 * The kill switch item (`CONFIG / KILL_SWITCH`, `adapters/dynamodb/kill-switch.ts`): an item
 * stored before `lastEngagedAtIso` existed still parses; the field round-trips; a malformed
 * one is an error (the callers fail closed on any error of a read).
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoKillSwitch } from '../../../functions/adapters/dynamodb/kill-switch.js';
import { fakeDocumentClient } from '../../support/doubles/document-client.js';

/** A table of one item: what GetItem returns and what PutItem wrote. */
function table(item: Record<string, unknown> | undefined) {
  let stored = item;
  const doc = fakeDocumentClient(async (command: never) => {
    if ((command as object) instanceof GetCommand) return { Item: stored };
    if ((command as object) instanceof PutCommand) {
      stored = (command as PutCommand).input.Item;
      return {};
    }
    throw new Error('unexpected command');
  });
  return { port: new DynamoKillSwitch(doc, 'stagegate-test'), stored: () => stored };
}

const KEY = { pk: 'CONFIG', sk: 'KILL_SWITCH' };
const RELEASED = {
  engaged: false,
  reason: 'resume',
  changedBy: 'cli:operator',
  changedAtIso: '2013-10-09T15:01:00.000Z',
};

describe('the kill switch item', () => {
  it('an item stored before lastEngagedAtIso parses without it', async () => {
    // Prepare
    const t = table({ ...KEY, ...RELEASED });

    // Act
    const state = await t.port.read();

    // Assess
    expect(state).toEqual(RELEASED);
  });

  it('lastEngagedAtIso is written and read back', async () => {
    // Prepare
    const t = table(undefined);
    const state = { ...RELEASED, lastEngagedAtIso: '2013-10-09T15:00:00.000Z' };

    // Act
    await t.port.set(state);
    const back = await t.port.read();

    // Assess
    expect(t.stored()).toEqual({ ...KEY, ...state });
    expect(back).toEqual(state);
  });

  it('a lastEngagedAtIso that is not a UTC ISO-8601 time is an error (the readers fail closed)', async () => {
    // Prepare
    const t = table({ ...KEY, ...RELEASED, lastEngagedAtIso: 'yesterday' });

    // Act
    const read = t.port.read();

    // Assess
    await expect(read).rejects.toThrow(/lastEngagedAtIso/);
  });
});
