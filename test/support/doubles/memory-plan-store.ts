/**
 * In-memory {@link PlanStore} with the DynamoDB adapter's rule: a write lands only over the
 * version it expects (`PlanConflictError` otherwise). Reads and writes are asynchronous, so
 * two use cases run with `Promise.all` interleave their read and their write as two requests
 * would.
 */
import type { PlanRecord } from '../../../functions/core/chatops/plan.js';
import { PlanConflictError } from '../../../functions/core/errors.js';
import type { PlanStore, StoredPlan } from '../../../functions/ports/plan-store.js';

export class MemoryPlanStore implements PlanStore {
  private stored: StoredPlan | null = null;
  /** Writes that landed. */
  writes = 0;

  async read(): Promise<StoredPlan | null> {
    return this.stored ? structuredClone(this.stored) : null;
  }

  async write(plan: PlanRecord, expectedVersion: number | null): Promise<number> {
    await Promise.resolve();
    if ((this.stored?.version ?? null) !== expectedVersion) {
      throw new PlanConflictError(expectedVersion);
    }
    const version = (expectedVersion ?? 0) + 1;
    this.stored = { plan: structuredClone(plan), version };
    this.writes++;
    return version;
  }
}
