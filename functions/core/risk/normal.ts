/**
 * Standard normal helpers for the parametric (variance-covariance) VaR and expected shortfall.
 */
import { ValidationError } from '../errors.js';

// Coefficients of Acklam's rational approximation (P. J. Acklam, "An algorithm for computing
// the inverse normal cumulative distribution function", 2003; relative error < 1.15e-9).
const A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2,
  -3.066479806614716e1, 2.506628277459239,
] as const;
const B = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1,
  -1.328068155288572e1,
] as const;
const C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734,
  4.374664141464968, 2.938163982698783,
] as const;
const D = [
  7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416,
] as const;
const P_LOW = 0.02425;
const P_HIGH = 1 - P_LOW;

/** Tail branch of Acklam's approximation for q = sqrt(−2 ln p), p the smaller tail mass. */
const tail = (q: number): number =>
  (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) /
  ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);

/**
 * Inverse of the standard normal CDF, Φ⁻¹(p): the z with P(Z ≤ z) = p for Z ~ N(0, 1).
 *
 * Source: Acklam's rational approximation (three regions split at p = 0.02425 and
 * 1 − 0.02425), relative error below 1.15e-9 over (0, 1). Examples: Φ⁻¹(0.95) ≈ 1.644854,
 * Φ⁻¹(0.99) ≈ 2.326348, Φ⁻¹(0.5) = 0.
 *
 * @param p probability, strictly between 0 and 1.
 * @throws ValidationError when `p` is not a finite number in (0, 1).
 */
export function inverseNormalCdf(p: number): number {
  if (!(Number.isFinite(p) && p > 0 && p < 1)) {
    throw new ValidationError('p', `probability must be in (0, 1), got ${p}`);
  }
  if (p < P_LOW) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > P_HIGH) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) /
    (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1)
  );
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Standard normal density φ(z) = exp(−z²/2) / √(2π). */
export function normalPdf(z: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * z * z);
}

/**
 * Upper tail Q(x) = 1 − Φ(x) for x >= 3 by Laplace's continued fraction
 * `φ(x) / (x + 1/(x + 2/(x + 3/(x + …))))` (Abramowitz & Stegun 26.2.14), evaluated backwards
 * from 120 terms: full double precision in the tail, where 1 − Φ would cancel.
 */
function upperTail(x: number): number {
  let t = x;
  for (let k = 120; k >= 1; k--) t = x + k / t;
  return normalPdf(x) / t;
}

/**
 * Standard normal CDF Φ(z) = P(Z ≤ z) for Z ~ N(0, 1).
 *
 * Source: for |z| < 3, G. Marsaglia, "Evaluating the Normal Distribution", J. Statistical
 * Software 11(4), 2004: `Φ(x) = 1/2 + φ(x)·(x + x³/3 + x⁵/(3·5) + …)`, summed until the terms
 * stop changing the total (absolute error about 1e-15); beyond, the tails by Laplace's
 * continued fraction (relative precision in the tail, so Φ stays monotone far out). NaN in,
 * NaN out.
 */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  if (z <= -3) return upperTail(-z);
  if (z >= 3) return 1 - upperTail(z);
  let sum = z;
  let term = z;
  const z2 = z * z;
  for (let i = 3; i < 1000; i += 2) {
    term = (term * z2) / i;
    const next = sum + term;
    if (next === sum) break;
    sum = next;
  }
  return Math.min(1, Math.max(0, 0.5 + normalPdf(z) * sum));
}
