import { describe, expect, it } from 'vitest';
import { toCsv } from '../../../functions/core/console/csv.js';
import { decodeCursor, encodeCursor } from '../../../functions/core/console/cursor.js';
import { mayPerform, rolesFromGroups } from '../../../functions/core/console/roles.js';

describe('console roles', () => {
  it('reads groups as API Gateway renders them, as arrays and as lists; unknown groups ignored', () => {
    expect(rolesFromGroups('[viewer operator]')).toEqual(['viewer', 'operator']);
    expect(rolesFromGroups(['risk', 'admin'])).toEqual(['risk']);
    expect(rolesFromGroups('viewer,risk')).toEqual(['viewer', 'risk']);
    expect(rolesFromGroups(undefined)).toEqual([]);
    expect(rolesFromGroups('[operators]')).toEqual([]);
  });

  it('separates duties: operator writes the kill switch, risk does not; both may sign approvals (their chain step)', () => {
    expect(mayPerform(['viewer'], 'read')).toBe(true);
    expect(mayPerform([], 'read')).toBe(false);
    expect(mayPerform(['viewer', 'operator'], 'kill_switch')).toBe(true);
    expect(mayPerform(['viewer', 'operator'], 'approve')).toBe(true);
    expect(mayPerform(['viewer'], 'approve')).toBe(false);
    expect(mayPerform(['viewer', 'risk'], 'approve')).toBe(true);
    expect(mayPerform(['viewer', 'risk'], 'kill_switch')).toBe(false);
    expect(mayPerform(['viewer'], 'cohort_start')).toBe(false);
  });
});

describe('CSV', () => {
  it('quotes separators, doubles quotes, neutralizes formulas and writes numbers plainly', () => {
    const text = toCsv(
      ['a', 'b', 'c', 'd'],
      [
        ['x,y', 'say "hi"', 1000.5, null],
        ['=HYPERLINK("x")', '-1', true, 'line\nbreak'],
      ],
    );
    expect(text.split('\r\n')).toEqual([
      'a,b,c,d',
      '"x,y","say ""hi""",1000.5,',
      `"'=HYPERLINK(""x"")",'-1,true,"line\nbreak"`,
      '',
    ]);
  });
});

describe('cursor', () => {
  it('round-trips a position and refuses garbage naming the parameter', () => {
    const pos = { pk: 'COHORT#c1', gsi1sk: '2013-10-07#x' };
    expect(decodeCursor(encodeCursor(pos))).toEqual(pos);
    expect(() => decodeCursor('%%%')).toThrow(/query.cursor/);
  });
});
