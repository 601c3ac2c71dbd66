/**
 * The capital slice a promotion trades, from the bankroll (pure).
 */

/**
 * A capital slice of a bankroll (USD), the one rule of the daily promotion and the Day-3
 * micro-live slice: `fraction × bankroll` rounded to the cent, at least `minUsd`, and at most
 * `maxExposureFraction × bankroll` (the `maxSymbolExposureFraction` gate), so a position of the
 * whole slice always fits the exposure limit: the floor yields to the cap on small bankrolls
 * ($50 at a 0.2 cap: a $10 slice, where a $50 floor would be 100 % of the bankroll and fail
 * every promotion). Never above the bankroll. Documented in docs/evidence.md.
 */
export function sliceOfBankroll(
  bankrollUsd: number,
  slice: { readonly fraction: number; readonly minUsd: number },
  maxExposureFraction = 1,
): number {
  const share = Math.round(bankrollUsd * slice.fraction * 100) / 100;
  const cap = Math.floor(bankrollUsd * Math.min(1, maxExposureFraction) * 100) / 100;
  return Math.min(cap, Math.max(slice.minUsd, share));
}
