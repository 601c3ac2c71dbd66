/**
 * `bin/launch.mjs` refuses a Node older than the CLI needs before it starts any server, with a
 * message that says what to run instead (an older Node failed mid-run at LoadMarketData).
 */
import { describe, expect, it } from 'vitest';
import { MIN_NODE_MAJOR, nodeVersionProblem } from '../../../bin/node-version.mjs';

describe('nodeVersionProblem', () => {
  it('accepts Node 22 and later', () => {
    expect(MIN_NODE_MAJOR).toBe(22);
    for (const v of ['22.0.0', '22.23.3', '24.1.0', process.versions.node]) {
      expect(nodeVersionProblem(v)).toBeNull();
    }
  });

  it('refuses Node 20 and 21 naming the version and the npm commands to use', () => {
    for (const v of ['20.20.2', '21.7.3']) {
      const problem = nodeVersionProblem(v);
      expect(problem).toContain(`this is Node ${v}`);
      expect(problem).toContain('npm start');
      expect(problem).toContain('npm run stagegate');
    }
  });

  it('refuses a version it cannot read', () => {
    expect(nodeVersionProblem('')).not.toBeNull();
    expect(nodeVersionProblem('v22')).not.toBeNull();
  });
});
