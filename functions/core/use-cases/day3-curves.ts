import type { ArtifactStore } from '../../ports/artifact-store.js';
import { downsampleEquityCurve } from '../approval/page.js';
import { type EquityCurve, MAX_EQUITY_CURVE_POINTS } from '../approval/types.js';
import { NotFoundError } from '../errors.js';
import { sampleStdev, simpleReturns } from '../scoring/metrics.js';
import type { LineageDay } from './day3-records.js';
import { readSimulation } from './simulation-artifact.js';

const MINUTE_MS = 60_000;

interface DayCurve {
  readonly allocationUsd: number;
  /** `[minute end epoch ms, equity USD]`. */
  readonly points: readonly (readonly [number, number])[];
}

async function dayCurves(
  artifacts: ArtifactStore,
  days: readonly LineageDay[],
): Promise<DayCurve[]> {
  const out: DayCurve[] = [];
  for (const day of days) {
    const sim = await readSimulation(artifacts, day.simulationKey);
    const agent = sim.agents.find((a) => a.agentId === day.agentId);
    if (!agent) throw new NotFoundError('agent', `${day.agentId} in ${day.simulationKey}`);
    const points: [number, number][] = [];
    for (let i = 0; i < agent.equityCurve.length; i++) {
      const t = sim.timestamps[i];
      const v = agent.equityCurve[i];
      if (typeof t === 'number' && typeof v === 'number' && Number.isFinite(v)) {
        points.push([t + MINUTE_MS, v]);
      }
    }
    out.push({ allocationUsd: agent.allocationUsd, points });
  }
  return out;
}

/**
 * The lineage's equity over its days as one cumulative curve `[epoch ms, USD]` starting from
 * Day 1's allocation (each later day's PnL is added on top of the previous days'), at most
 * 2,000 points (downsampled keeping each bucket's low and high).
 *
 * @throws NotFoundError when an artifact or the agent in it is missing.
 */
export async function lineageEquityCurve(
  artifacts: ArtifactStore,
  days: readonly LineageDay[],
): Promise<EquityCurve> {
  const curves = await dayCurves(artifacts, days);
  const base = curves[0]?.allocationUsd ?? 0;
  let carried = 0;
  const out: [number, number][] = [];
  for (const c of curves) {
    for (const [t, v] of c.points) out.push([t, base + carried + (v - c.allocationUsd)]);
    const last = c.points[c.points.length - 1];
    if (last) carried += last[1] - c.allocationUsd;
  }
  return downsampleEquityCurve(out, MAX_EQUITY_CURVE_POINTS);
}

/**
 * Sample variance (n − 1) of the lineage's per-minute simple returns over its days, each day
 * measured from its own allocation (no overnight return), fraction²: the rollback monitor's
 * yardstick for the live slice's minute returns. Null with fewer than two returns.
 *
 * @throws NotFoundError when an artifact or the agent in it is missing.
 */
export async function lineageReturnVariance(
  artifacts: ArtifactStore,
  days: readonly LineageDay[],
): Promise<number | null> {
  const curves = await dayCurves(artifacts, days);
  const returns: number[] = [];
  for (const c of curves) {
    returns.push(
      ...simpleReturns(
        c.points.map(([, v]) => v),
        c.allocationUsd,
      ),
    );
  }
  if (returns.length < 2) return null;
  const sd = sampleStdev(returns);
  return sd * sd;
}
