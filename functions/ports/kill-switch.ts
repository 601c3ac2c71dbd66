/**
 * The kill switch flag. When engaged, every gate evaluation fails, no order is submitted,
 * and open orders are canceled. Reading it can fail; callers then treat the switch as
 * `unknown` and fail closed.
 *
 * Errors: `TransientError` when storage keeps failing; `KillSwitchChangedError` when a
 * conditional write (a release) finds the switch changed since it was read.
 */
export interface KillSwitchState {
  readonly engaged: boolean;
  readonly reason: string;
  /** Who changed it: a CLI user, an operator identity, or a system component. */
  readonly changedBy: string;
  /** When the switch last changed (engaged or released), UTC ISO-8601. */
  readonly changedAtIso: string;
  /**
   * When the switch was last engaged, UTC ISO-8601, kept across a release: a paper session
   * that did not read the switch while it was on (a flat, idle tick does not read it) still
   * halts for the day when this falls at or after its start (`paper/paper-session.ts`).
   * Absent: never engaged since the field exists (an item stored before it, or never engaged).
   */
  readonly lastEngagedAtIso?: string;
}

/**
 * The condition of a write made over the switch as the writer read it (a release): the stored
 * switch must still be `expected`, i.e. have its `engaged`, `reason`, `changedBy` and
 * `changedAtIso`; `expected: null` means no item may be stored.
 */
export interface KillSwitchCondition {
  readonly expected: KillSwitchState | null;
}

/**
 * Whether the stored switch `stored` is the write `written` (all five fields equal, an absent
 * `lastEngagedAtIso` equal only to an absent one): a conditional write refused over its own
 * state is one that landed and whose response was lost (the SDK retried it).
 */
export function isSameKillSwitchWrite(
  stored: KillSwitchState | null,
  written: KillSwitchState,
): boolean {
  return (
    stored !== null &&
    stored.engaged === written.engaged &&
    stored.reason === written.reason &&
    stored.changedBy === written.changedBy &&
    stored.changedAtIso === written.changedAtIso &&
    stored.lastEngagedAtIso === written.lastEngagedAtIso
  );
}

export interface KillSwitchPort {
  /** Current state; null when it was never set (treated as off). */
  read(): Promise<KillSwitchState | null>;
  /**
   * Stores `state`. Without `condition` unconditionally (an engage: the stricter state always
   * wins). With it only when the stored switch is still `condition.expected` (a release, which
   * must never overwrite a change it did not read), atomically with the write.
   *
   * A condition that fails over a stored switch that IS `state` (the write landed, its
   * response was lost and the retry failed its own condition) is a success.
   *
   * @throws KillSwitchChangedError when the condition does not hold: nothing was written; the
   *   error names the stored switch (`'unreadable'` when it cannot be had).
   */
  set(state: KillSwitchState, condition?: KillSwitchCondition): Promise<void>;
}
