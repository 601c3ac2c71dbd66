/**
 * In-memory {@link KillSwitchPort}: the switch as its store keeps it (the DynamoDB adapter's
 * contract), counting its reads; `unreachable` makes every read fail (the fail-closed paths).
 */
import type { KillSwitchPort, KillSwitchState } from '../../../functions/ports/kill-switch.js';

export class MemoryKillSwitch implements KillSwitchPort {
  state: KillSwitchState | null = null;
  /** Reads so far (a failed one included). */
  reads = 0;
  unreachable = false;

  async read(): Promise<KillSwitchState | null> {
    this.reads += 1;
    if (this.unreachable) throw new Error('connect ECONNREFUSED (test)');
    return this.state;
  }

  async set(state: KillSwitchState): Promise<void> {
    this.state = state;
  }

  /** Engaged directly in the store (as the runbook's emergency `put-item`), `reason` given. */
  engage(reason: string): void {
    this.state = { engaged: true, reason, changedBy: 'test', changedAtIso: '' };
  }
}
