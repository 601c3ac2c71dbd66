/**
 * In-memory {@link KillSwitchPort}: the switch as its store keeps it (the DynamoDB adapter's
 * contract: a conditional `set` is refused with `KillSwitchChangedError` when the stored
 * switch is no longer the one expected, and writes nothing), counting its reads and keeping
 * every write; `unreachable` makes every read fail (the fail-closed paths); {@link afterNextRead}
 * runs a change between a read and the caller's next step (a race forced, never timed).
 */
import { KillSwitchChangedError } from '../../../functions/core/errors.js';
import {
  isSameKillSwitchWrite,
  type KillSwitchCondition,
  type KillSwitchPort,
  type KillSwitchState,
} from '../../../functions/ports/kill-switch.js';

export class MemoryKillSwitch implements KillSwitchPort {
  state: KillSwitchState | null = null;
  /** Reads so far (a failed one included). */
  reads = 0;
  /** Every state written, in order (a refused write is not one). */
  readonly writes: KillSwitchState[] = [];
  unreachable = false;
  /**
   * Sets whose write lands but whose response is lost: the set is then retried as the AWS SDK
   * does, and the retry's condition is checked against the write just made.
   */
  lostResponses = 0;
  private interleaved: (() => Promise<unknown>) | null = null;

  async read(): Promise<KillSwitchState | null> {
    this.reads += 1;
    if (this.unreachable) throw new Error('connect ECONNREFUSED (test)');
    const seen = this.state;
    const change = this.interleaved;
    this.interleaved = null;
    if (change) await change();
    return seen;
  }

  async set(state: KillSwitchState, condition?: KillSwitchCondition): Promise<void> {
    if (condition && !sameSwitch(this.state, condition.expected)) {
      if (isSameKillSwitchWrite(this.state, state)) return; // a retry of a write that landed
      throw new KillSwitchChangedError(condition.expected, this.state);
    }
    this.state = state;
    this.writes.push(state);
    if (this.lostResponses > 0) {
      this.lostResponses -= 1;
      await this.set(state, condition);
    }
  }

  /** Engaged directly in the store (as the runbook's emergency `put-item`), `reason` given. */
  engage(reason: string): void {
    this.state = { engaged: true, reason, changedBy: 'test', changedAtIso: '' };
  }

  /**
   * Runs `change` (e.g. another operator's engage) once, right after the next read took the
   * stored switch and before that read returns it: the reader acts on what it read while the
   * store already holds the change.
   */
  afterNextRead(change: () => Promise<unknown>): void {
    this.interleaved = change;
  }
}

/** The DynamoDB adapter's condition: the same `engaged`, `reason`, `changedBy`, `changedAtIso`. */
function sameSwitch(stored: KillSwitchState | null, expected: KillSwitchState | null): boolean {
  if (!stored || !expected) return stored === expected;
  return (
    stored.engaged === expected.engaged &&
    stored.reason === expected.reason &&
    stored.changedBy === expected.changedBy &&
    stored.changedAtIso === expected.changedAtIso
  );
}
