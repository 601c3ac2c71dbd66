/**
 * What handlers emit through Powertools' `metrics.singleMetric()` (the EMF metrics the
 * did-not-run alarms count), captured in a test instead of printed. Restore with
 * `vi.restoreAllMocks()`.
 */
import { vi } from 'vitest';
import { metrics } from '../../functions/adapters/observability.js';

/** One emitted single metric: its dimensions, name and value. */
export interface EmittedMetric {
  readonly dimensions: Record<string, string>;
  readonly name: string;
  readonly value: number;
}

/** Spies on `metrics.singleMetric()`; the returned array fills as metrics are emitted. */
export function spyOnSingleMetrics(): EmittedMetric[] {
  const emitted: EmittedMetric[] = [];
  vi.spyOn(metrics, 'singleMetric').mockImplementation(() => {
    const dimensions: Record<string, string> = {};
    const single = {
      addDimension: (name: string, value: string) => {
        dimensions[name] = value;
        return single;
      },
      addMetric: (name: string, _unit: unknown, value: number) => {
        emitted.push({ dimensions: { ...dimensions }, name, value });
      },
    };
    return single as unknown as ReturnType<typeof metrics.singleMetric>;
  });
  return emitted;
}
