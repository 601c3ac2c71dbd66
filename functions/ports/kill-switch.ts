/**
 * The kill switch flag. When engaged, every gate evaluation fails, no order is submitted,
 * and open orders are canceled. Reading it can fail; callers then treat the switch as
 * `unknown` and fail closed.
 *
 * Errors: `TransientError` when storage keeps failing.
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

export interface KillSwitchPort {
  /** Current state; null when it was never set (treated as off). */
  read(): Promise<KillSwitchState | null>;
  set(state: KillSwitchState): Promise<void>;
}
