import { describe, expect, it } from 'vitest';
import {
  decodeArtifact,
  encodeArtifact,
  isEncodedArtifact,
  MIN_COLUMN,
} from '../../../functions/adapters/s3/artifact-codec.js';
import { ValidationError } from '../../../functions/core/errors.js';

/** A simulation-like document: long curves, short arrays, strings, nested objects. */
function document(agents: number, bars: number) {
  return {
    cohortId: 'coh-1',
    timestamps: Array.from({ length: bars }, (_, i) => 1_381_152_600_000 + i * 60_000),
    agents: Array.from({ length: agents }, (_, a) => ({
      agentId: `a${a}`,
      genome: { family: 'momentum', params: { lookback: 5 + a } },
      equityCurve: Array.from({ length: bars }, (_, i) => 33.33 + Math.sin(a + i) / 7),
      grossExposureCurve: Array.from({ length: bars }, (_, i) => (i % 3 === 0 ? 0 : 12.5 * a)),
      fills: [{ t: 1, side: 'buy', qty: 0.1, priceUsd: 170.01 }],
      hourlyRoi: [0.01, -0.02, 0],
      positions: [],
      flag: true,
      none: null,
    })),
  };
}

describe('SGA1 artifact codec', () => {
  it.each(['zstd', 'deflate'] as const)(
    'round-trips a document exactly (%s), far smaller than its JSON',
    (compression) => {
      // Prepare
      const doc = document(50, 390);

      // Act
      const bytes = encodeArtifact(doc, { compression });
      const back = decodeArtifact(bytes);

      // Assess
      expect(isEncodedArtifact(bytes)).toBe(true);
      expect(back).toEqual(doc);
      expect(bytes.length).toBeLessThan(JSON.stringify(doc).length / 3);
    },
  );

  it('keeps NaN, ±Infinity and −0 inside numeric columns (JSON cannot)', () => {
    // Prepare
    const curve = Array.from({ length: MIN_COLUMN }, (_, i) => i);
    curve[1] = Number.NaN;
    curve[2] = Number.POSITIVE_INFINITY;
    curve[3] = Number.NEGATIVE_INFINITY;
    curve[4] = -0;

    // Act
    const back = decodeArtifact(encodeArtifact({ curve })) as { curve: number[] };

    // Assess
    expect(back.curve[1]).toBeNaN();
    expect(back.curve[2]).toBe(Number.POSITIVE_INFINITY);
    expect(back.curve[3]).toBe(Number.NEGATIVE_INFINITY);
    expect(Object.is(back.curve[4], -0)).toBe(true);
    expect(Array.isArray(back.curve)).toBe(true);
  });

  it('leaves short and mixed arrays in the JSON part, with JSON semantics', () => {
    // Prepare
    const doc = {
      short: [1, 2, 3],
      mixed: [...Array.from({ length: 20 }, (_, i) => i), 'x'],
      when: new Date('2013-10-07T13:30:00Z'),
      dropped: undefined,
    };

    // Act
    const back = decodeArtifact(encodeArtifact(doc));

    // Assess
    expect(back).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  it('still reads plain JSON artifacts written before the format', () => {
    // Act
    const back = decodeArtifact(Buffer.from(JSON.stringify({ a: [1, 2] }), 'utf8'));

    // Assess
    expect(back).toEqual({ a: [1, 2] });
  });

  it('refuses the reserved key and names the artifact in errors for damaged bytes', () => {
    // Prepare
    const bytes = encodeArtifact(document(2, 50));

    // Act / Assess
    expect(() => encodeArtifact({ nested: { $sga: 1 } })).toThrow(ValidationError);
    expect(() => decodeArtifact(bytes.subarray(0, bytes.length - 5))).toThrow(/artifact/);
    expect(() => decodeArtifact(Buffer.from('not json', 'utf8'))).toThrow(/neither SGA1 nor JSON/);
  });
});
