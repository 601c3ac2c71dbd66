import { describe, expect, it } from 'vitest';
import {
  DEFAULT_GATE_THRESHOLDS,
  GateThresholdsSchema,
} from '../../../functions/core/gates/thresholds.js';

describe('GateThresholdsSchema', () => {
  it('accepts the dev baseline', () => {
    expect(GateThresholdsSchema.safeParse(DEFAULT_GATE_THRESHOLDS).success).toBe(true);
  });

  it('rejects a missing threshold, an unknown key, bad units and an inverted window', () => {
    // Prepare
    const { maxLeverage: _dropped, ...missing } = DEFAULT_GATE_THRESHOLDS;
    const cases = [
      missing,
      { ...DEFAULT_GATE_THRESHOLDS, maxLevrage: 3 },
      { ...DEFAULT_GATE_THRESHOLDS, varConfidence: 99 },
      { ...DEFAULT_GATE_THRESHOLDS, maxParentDrawdownFraction: 10 },
      { ...DEFAULT_GATE_THRESHOLDS, promotionWindowOpenNy: '9:45' },
      { ...DEFAULT_GATE_THRESHOLDS, promotionWindowOpenNy: '16:00' },
    ];
    // Act / Assess
    for (const c of cases) expect(GateThresholdsSchema.safeParse(c).success).toBe(false);
  });
});
