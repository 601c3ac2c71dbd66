/**
 * A kill switch release never overwrites an engage it did not see: the release reads the
 * switch, someone engages it again before the release writes (forced with the double's
 * `afterNextRead`, never timed), and the release's conditional write is refused. Fail closed:
 * the switch stays as the other engage left it (its `lastEngagedAtIso` too, which halts the
 * paper sessions that never read the switch while it was on), the release is thrown as
 * `KillSwitchChangedError` naming who engaged and when, and the refusal is recorded
 * (`input_rejected`). An engage is never conditional. The DynamoDB adapter's condition:
 * `test/integration/kill-switch/release-race.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import { KillSwitchChangedError, ValidationError } from '../../../functions/core/errors.js';
import { setKillSwitch } from '../../../functions/core/use-cases/kill-switch.js';
import type { BrokerPort } from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { MemoryKillSwitch } from '../../support/doubles/memory-kill-switch.js';
import type { Payload } from '../../support/paper-tick.js';

const T0 = Date.parse('2013-10-09T15:00:00Z');
const noOrders = { name: 'simulated', listOpenOrders: async () => [] } as unknown as BrokerPort;

function world() {
  const clock = new ManualClock(T0);
  const audit = new MemoryAuditSink(clock);
  const killSwitch = new MemoryKillSwitch();
  const deps = { killSwitch, audit, clock, environment: 'local' as const, broker: noOrders };
  const set = (
    engaged: boolean,
    by: string,
    reason: string,
    idempotencyKey?: string,
    expectedChangedAtIso?: string | null,
  ) =>
    setKillSwitch(deps, {
      engaged,
      reason,
      by,
      idempotencyKey: idempotencyKey ?? null,
      ...(expectedChangedAtIso !== undefined ? { expectedChangedAtIso } : {}),
    });
  const ofKind = (kind: string) =>
    audit
      .records()
      .filter((r) => r.kind === kind)
      .map((r) => ({ ...r, payload: JSON.parse(r.payload) as Payload }));
  return { clock, killSwitch, set, ofKind };
}

describe('a release racing an engage', () => {
  it('is refused when the switch was engaged again between its read and its write; the engage and its lastEngagedAtIso stand; the refusal is recorded', async () => {
    // Prepare: alice engaged at T0; bob engages again while alice's release is between its
    // read and its write
    const w = world();
    await w.set(true, 'cli:alice', 'broker outage');
    w.clock.advance(60_000);
    w.killSwitch.afterNextRead(async () => {
      w.clock.advance(1_000);
      await w.set(true, 'slack:bob', 'drawdown breaker');
    });

    // Act
    const release = w.set(false, 'cli:alice', 'broker back');

    // Assess
    await expect(release).rejects.toThrow(KillSwitchChangedError);
    await expect(release).rejects.toThrow(
      'the kill switch changed while releasing it: engaged by slack:bob at 2013-10-09T15:01:01.000Z (drawdown breaker)',
    );
    expect(w.killSwitch.state).toEqual({
      engaged: true,
      reason: 'drawdown breaker',
      changedBy: 'slack:bob',
      changedAtIso: '2013-10-09T15:01:01.000Z',
      lastEngagedAtIso: '2013-10-09T15:01:01.000Z',
    });
    expect(w.killSwitch.writes.map((s) => [s.engaged, s.changedBy])).toEqual([
      [true, 'cli:alice'],
      [true, 'slack:bob'],
    ]);
    expect(w.ofKind('kill_switch_changed').map((r) => [r.actor, r.payload.engaged])).toEqual([
      ['cli:alice', true],
      ['slack:bob', true],
    ]);
    const refusals = w.ofKind('input_rejected');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({
      actor: 'cli:alice',
      stream: 'kill-switch:global',
      payload: {
        source: 'kill-switch',
        field: 'kill_switch',
        reason: 'changed_meanwhile',
        requested: { engaged: false, reason: 'broker back' },
        read: { engaged: true, changed_by: 'cli:alice', changed_at: '2013-10-09T15:00:00.000Z' },
        found: {
          engaged: true,
          changed_by: 'slack:bob',
          changed_at: '2013-10-09T15:01:01.000Z',
          last_engaged_at: '2013-10-09T15:01:01.000Z',
        },
      },
    });
    expect(String(refusals[0]?.payload.message)).toContain('slack:bob');
  });

  it('a release of a switch never set is refused when an engage stores the item first', async () => {
    // Prepare
    const w = world();
    w.killSwitch.afterNextRead(() => w.set(true, 'slack:bob', 'drawdown breaker'));

    // Act
    const release = w.set(false, 'cli:alice', 'nothing to hold');

    // Assess
    await expect(release).rejects.toThrow(/engaged by slack:bob/);
    expect(w.killSwitch.state).toMatchObject({ engaged: true, changedBy: 'slack:bob' });
    expect(w.ofKind('input_rejected')[0]?.payload).toMatchObject({ read: null });
  });

  it('a keyed release (a console Idempotency-Key, a Slack click) is refused and recorded the same way', async () => {
    // Prepare
    const w = world();
    await w.set(true, 'cli:alice', 'broker outage');
    w.killSwitch.afterNextRead(() => w.set(true, 'slack:bob', 'drawdown breaker'));

    // Act
    const release = w.set(
      false,
      'console:carol',
      'broker back',
      'key-0123456789abcdef',
      '2013-10-09T15:00:00.000Z',
    );

    // Assess
    await expect(release).rejects.toThrow(KillSwitchChangedError);
    expect(w.killSwitch.state).toMatchObject({ engaged: true, changedBy: 'slack:bob' });
    expect(w.ofKind('input_rejected').map((r) => r.actor)).toEqual(['console:carol']);
  });

  it('an engage racing a release is still written: the stricter state always wins', async () => {
    // Prepare: bob releases while alice's keyed engage (which reads first) is in flight
    const w = world();
    await w.set(true, 'cli:alice', 'broker outage');
    w.clock.advance(60_000);
    w.killSwitch.afterNextRead(() => w.set(false, 'slack:bob', 'broker back'));

    // Act
    const engage = await w.set(true, 'cli:alice', 'still down', 'key-0123456789abcdef');

    // Assess
    expect(engage.state.engaged).toBe(true);
    expect(w.killSwitch.state).toMatchObject({ engaged: true, reason: 'still down' });
    expect(w.ofKind('input_rejected')).toEqual([]);
  });

  it('a release whose write landed but whose response was lost (the retry fails its own condition) is the success it is, recorded as the change', async () => {
    // Prepare: alice engaged; her release's first response is lost and the put is retried
    const w = world();
    await w.set(true, 'cli:alice', 'broker outage');
    w.clock.advance(60_000);
    w.killSwitch.lostResponses = 1;

    // Act
    const out = await w.set(false, 'cli:alice', 'broker back');

    // Assess
    expect(w.killSwitch.lostResponses).toBe(0);
    expect(out.state).toMatchObject({ engaged: false, changedBy: 'cli:alice' });
    expect(w.killSwitch.state).toEqual(out.state);
    expect(w.ofKind('kill_switch_changed').map((r) => [r.actor, r.payload.engaged])).toEqual([
      ['cli:alice', true],
      ['cli:alice', false],
    ]);
    expect(w.ofKind('input_rejected')).toEqual([]);
  });

  it('a keyed release that names no switch seen is refused and recorded, so its redelivery after another engage never releases that engage', async () => {
    // Prepare: alice engaged; bob's keyed release names no switch seen (review13 repro)
    const w = world();
    await w.set(true, 'console:alice', 'broker outage');
    w.clock.advance(60_000);
    const release = () => w.set(false, 'console:bob', 'broker back', 'k-0123456789abcdef');

    // Act
    const first = release();
    await expect(first).rejects.toThrow(/^expectedChangedAtIso: a keyed release must name/);
    w.clock.advance(60_000);
    await w.set(true, 'console:carol', 'drawdown breaker');
    const redelivered = release();
    await expect(redelivered).rejects.toThrow(ValidationError);

    // Assess
    expect(w.killSwitch.state).toMatchObject({ engaged: true, changedBy: 'console:carol' });
    expect(w.killSwitch.writes.map((s) => s.engaged)).toEqual([true, true]);
    const refusals = w.ofKind('input_rejected').map((r) => [r.actor, r.payload.reason]);
    expect(refusals).toEqual([['console:bob', 'unseen_release']]);
  });

  it('a release with no change in between is written over the switch it read', async () => {
    // Prepare
    const w = world();
    await w.set(true, 'cli:alice', 'broker outage');
    w.clock.advance(60_000);

    // Act
    const out = await w.set(false, 'cli:alice', 'broker back');

    // Assess
    expect(out.state).toMatchObject({
      engaged: false,
      lastEngagedAtIso: '2013-10-09T15:00:00.000Z',
    });
    expect(w.killSwitch.state).toEqual(out.state);
    expect(w.ofKind('input_rejected')).toEqual([]);
  });

  it('a release from a view older than the switch (the console page, the Slack confirmation) is refused, also on redelivery; from the current view it is written', async () => {
    // Prepare: carol's page showed alice's engage; bob engaged again since
    const w = world();
    await w.set(true, 'cli:alice', 'broker outage');
    const seen = w.killSwitch.state?.changedAtIso as string;
    w.clock.advance(60_000);
    await w.set(true, 'slack:bob', 'drawdown breaker');
    w.clock.advance(60_000);
    const release = () =>
      w.set(false, 'console:carol', 'broker back', 'key-0123456789abcdef', seen);

    // Act
    const first = release();
    await expect(first).rejects.toThrow(/engaged by slack:bob at 2013-10-09T15:01:00.000Z/);
    const redelivered = release();
    await expect(redelivered).rejects.toThrow(KillSwitchChangedError);
    const fresh = await w.set(
      false,
      'console:carol',
      'broker back',
      'key-fedcba9876543210',
      '2013-10-09T15:01:00.000Z',
    );

    // Assess
    expect(w.killSwitch.writes.map((s) => [s.engaged, s.changedBy])).toEqual([
      [true, 'cli:alice'],
      [true, 'slack:bob'],
      [false, 'console:carol'],
    ]);
    expect(fresh.state).toMatchObject({
      engaged: false,
      lastEngagedAtIso: '2013-10-09T15:01:00.000Z',
    });
    const refusals = w.ofKind('input_rejected');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]?.payload).toMatchObject({
      seen_changed_at: '2013-10-09T15:00:00.000Z',
      read: { changed_by: 'slack:bob' },
      found: { changed_by: 'slack:bob' },
    });
  });
});
