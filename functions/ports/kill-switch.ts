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
  readonly changedAtIso: string;
}

export interface KillSwitchPort {
  /** Current state; null when it was never set (treated as off). */
  read(): Promise<KillSwitchState | null>;
  set(state: KillSwitchState): Promise<void>;
}
