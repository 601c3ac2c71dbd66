/**
 * The kill switch keeps the time of its latest engage across a release (`lastEngagedAtIso`):
 * the engage writes it, a release carries the stored one (an item stored before the field, or
 * engaged by a direct write, gives its own change time), and a release that cannot read the
 * stored switch fails closed: nothing is written, the switch stays engaged. A paper session
 * that did not read the switch while it was on halts on it (`paper/paper-session.ts`).
 */
import { describe, expect, it } from 'vitest';
import { setKillSwitch } from '../../../functions/core/use-cases/kill-switch.js';
import type { BrokerPort } from '../../../functions/ports/broker.js';
import { ManualClock } from '../../../functions/ports/clock.js';
import type { KillSwitchState } from '../../../functions/ports/kill-switch.js';
import { MemoryAuditSink } from '../../support/doubles/memory-audit-sink.js';
import { MemoryKillSwitch } from '../../support/doubles/memory-kill-switch.js';

const T0 = Date.parse('2013-10-09T15:00:00Z');

const noOrders = { name: 'simulated', listOpenOrders: async () => [] } as unknown as BrokerPort;

function world(initial: KillSwitchState | null = null) {
  const clock = new ManualClock(T0);
  const killSwitch = new MemoryKillSwitch();
  killSwitch.state = initial;
  const deps = {
    killSwitch,
    audit: new MemoryAuditSink(clock),
    clock,
    environment: 'local' as const,
    broker: noOrders,
  };
  const set = (engaged: boolean, reason: string) =>
    setKillSwitch(deps, { engaged, reason, by: 'cli:operator' });
  return {
    set,
    clock,
    writes: killSwitch.writes,
    state: () => killSwitch.state,
    breakReads: () => {
      killSwitch.unreachable = true;
    },
  };
}

describe('lastEngagedAtIso', () => {
  it('an engage writes its own time; a release keeps the latest engage time', async () => {
    // Prepare
    const w = world();

    // Act
    await w.set(true, 'first');
    w.clock.advance(60_000);
    await w.set(false, 'resume');
    w.clock.advance(60_000);
    await w.set(true, 'second');
    w.clock.advance(60_000);
    const released = await w.set(false, 'resume again');

    // Assess
    expect(w.writes.map((s) => [s.engaged, s.changedAtIso, s.lastEngagedAtIso])).toEqual([
      [true, '2013-10-09T15:00:00.000Z', '2013-10-09T15:00:00.000Z'],
      [false, '2013-10-09T15:01:00.000Z', '2013-10-09T15:00:00.000Z'],
      [true, '2013-10-09T15:02:00.000Z', '2013-10-09T15:02:00.000Z'],
      [false, '2013-10-09T15:03:00.000Z', '2013-10-09T15:02:00.000Z'],
    ]);
    expect(released.state.lastEngagedAtIso).toBe('2013-10-09T15:02:00.000Z');
  });

  it('releasing an item stored without it (engaged by a direct write) carries its change time', async () => {
    // Prepare
    const w = world({
      engaged: true,
      reason: 'put-item',
      changedBy: 'aws-cli',
      changedAtIso: '2013-10-09T14:30:00Z',
    });

    // Act
    await w.set(false, 'resume');

    // Assess
    expect(w.state()).toMatchObject({ engaged: false, lastEngagedAtIso: '2013-10-09T14:30:00Z' });
  });

  it('a release of a switch never engaged has none', async () => {
    // Prepare
    const w = world();

    // Act
    await w.set(false, 'nothing to resume');

    // Assess
    expect(w.state()).toEqual({
      engaged: false,
      reason: 'nothing to resume',
      changedBy: 'cli:operator',
      changedAtIso: '2013-10-09T15:00:00.000Z',
    });
  });

  it('fails closed: a release that cannot read the stored switch writes nothing, the switch stays engaged; an engage never needs the read', async () => {
    // Prepare
    const w = world();
    await w.set(true, 'stop');
    w.breakReads();

    // Act
    const release = w.set(false, 'resume');
    await expect(release).rejects.toThrow('connect ECONNREFUSED (test)');
    w.clock.advance(60_000);
    await w.set(true, 'stop again');

    // Assess
    expect(w.writes.map((s) => [s.engaged, s.reason])).toEqual([
      [true, 'stop'],
      [true, 'stop again'],
    ]);
    expect(w.state()?.lastEngagedAtIso).toBe('2013-10-09T15:01:00.000Z');
  });
});
