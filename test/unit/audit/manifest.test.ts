import { describe, expect, it } from 'vitest';
import {
  buildDayManifest,
  checkDayEdges,
  verifyManifestChain,
} from '../../../functions/core/audit/manifest.js';
import { chain } from './fixtures.js';

// Four records of one stream across midnight: seq 0, 1 on 2024-03-04, seq 2, 3 on 2024-03-05.
const records = chain(4, 'promotion:p-1', Date.UTC(2024, 2, 4, 23, 58));
const day1 = records.slice(0, 2);
const day2 = records.slice(2);
const m1 = buildDayManifest({
  environment: 'local',
  date: '2024-03-04',
  records: day1,
  previous: null,
});
const m2 = buildDayManifest({
  environment: 'local',
  date: '2024-03-05',
  records: day2,
  previous: m1,
});
const anchor = { date: m2.date, hash: m2.hash };

describe('day manifests and the anchor', () => {
  it('chain across days up to the anchor', () => {
    // Act
    const out = verifyManifestChain([m2, m1], anchor);
    // Assess
    expect(out.breaks).toEqual([]);
    expect(out.manifests.map((m) => m.date)).toEqual(['2024-03-04', '2024-03-05']);
    expect(m2.prev_hash).toBe(m1.hash);
  });

  it('a deleted newest manifest does not match the anchor', () => {
    // Act
    const out = verifyManifestChain([m1], anchor);
    // Assess
    expect(out.breaks).toEqual([expect.objectContaining({ reason: 'anchor-mismatch' })]);
  });

  it('a deleted manifest in the middle, or an altered one, breaks the chain', () => {
    // Prepare
    const m3 = buildDayManifest({
      environment: 'local',
      date: '2024-03-06',
      records: [],
      previous: m2,
    });
    const altered = { ...m1, streams: [] };
    // Act
    const gap = verifyManifestChain([m1, m3], { date: m3.date, hash: m3.hash });
    const changed = verifyManifestChain([altered, m2], anchor);
    // Assess
    expect(gap.breaks.map((b) => b.reason)).toEqual(['anchor-mismatch']);
    expect(gap.breaks[0]?.detail).toContain('deleted or replaced');
    expect(changed.breaks[0]?.detail).toContain('altered');
  });

  it('edges of a day hold when nothing is missing', () => {
    // Act
    const breaks = checkDayEdges({
      date: '2024-03-05',
      records: day2,
      previous: m1,
      own: null,
      heads: new Map([['promotion:p-1', { seq: 3, hash: day2[1]!.hash }]]),
    });
    // Assess
    expect(breaks).toEqual([]);
  });

  it('a deleted first record of a day does not follow the previous manifest', () => {
    // Act
    const breaks = checkDayEdges({
      date: '2024-03-05',
      records: day2.slice(1),
      previous: m1,
      own: null,
    });
    // Assess
    expect(breaks).toEqual([expect.objectContaining({ seq: 3, reason: 'day-edge' })]);
  });

  it('a deleted last record of a day not yet anchored is found through the next stored record', () => {
    // Act
    const breaks = checkDayEdges({
      date: '2024-03-04',
      records: day1.slice(0, 1),
      previous: null,
      own: null,
      next: new Map([['promotion:p-1', { seq: 2, prevHash: day2[0]!.prev_hash }]]),
    });
    // Assess
    expect(breaks).toEqual([expect.objectContaining({ seq: 0, reason: 'day-edge' })]);
  });

  it('a stream listed by the day manifest with no stored record that day is missing', () => {
    // Act
    const breaks = checkDayEdges({ date: '2024-03-05', records: [], previous: m1, own: m2 });
    // Assess
    expect(breaks).toEqual([
      expect.objectContaining({ stream: 'promotion:p-1', reason: 'manifest-mismatch' }),
    ]);
  });
});
