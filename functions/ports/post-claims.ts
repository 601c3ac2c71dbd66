/**
 * Claims of a message post, so a message is posted at most once even when two runs start at
 * the same instant (the daily report: `daily-report#<session date>`).
 *
 * A claim is `posting` while its owner posts, then `posted` (Slack's channel and message ts)
 * or `failed` (nothing was posted; a later run may claim it again). Claiming is atomic: of two
 * runs that claim the same key at once, exactly one gets `claimed: true`.
 *
 * Errors: `ValidationError('post claim')` for an unreadable stored claim, `TransientError`
 * for retryable storage faults.
 */
export type PostClaim =
  | { readonly status: 'posting' | 'failed'; readonly atIso: string }
  | {
      readonly status: 'posted';
      readonly atIso: string;
      readonly channel: string;
      readonly ts: string;
    };

export interface PostClaimStore {
  /**
   * Claims `key`: creates it `posting` (at `atIso`, UTC ISO-8601) when it is absent or
   * `failed`, in one conditional write. Otherwise returns the claim that is there.
   */
  begin(
    key: string,
    atIso: string,
  ): Promise<{ readonly claimed: true } | { readonly claimed: false; readonly claim: PostClaim }>;
  /** Records the outcome of the caller's own claim (`posted` or `failed`). */
  settle(key: string, claim: PostClaim): Promise<void>;
}
