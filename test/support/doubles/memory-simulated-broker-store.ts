/** In-memory {@link SimulatedBrokerStore} with the DynamoDB adapter's rules (versions, size). */
import {
  checkCommitSize,
  type SimAccountRecord,
  type SimCommit,
  type SimCommitResult,
  type SimOrderRecord,
  type SimulatedBrokerStore,
} from '../../../functions/adapters/brokers/simulated-broker-store.js';

/** {@link SimulatedBrokerStore} in process memory (tests and benches; state dies with the object). */
export class InMemorySimulatedBrokerStore implements SimulatedBrokerStore {
  private account: SimAccountRecord | null = null;
  private readonly orders = new Map<string, SimOrderRecord>();

  async loadAccount(): Promise<SimAccountRecord | null> {
    return this.account ? structuredClone(this.account) : null;
  }

  async getOrder(clientOrderId: string): Promise<SimOrderRecord | null> {
    const order = this.orders.get(clientOrderId);
    return order ? structuredClone(order) : null;
  }

  async getOrders(clientOrderIds: readonly string[]): Promise<SimOrderRecord[]> {
    const out: SimOrderRecord[] = [];
    for (const id of clientOrderIds) {
      const order = this.orders.get(id);
      if (order) out.push(structuredClone(order));
    }
    return out;
  }

  async commit(commit: SimCommit): Promise<SimCommitResult> {
    checkCommitSize(commit);
    const versionOk = (stored: { version: number } | null | undefined, expected: number | null) =>
      expected === null ? !stored : stored?.version === expected;
    if (commit.account && !versionOk(this.account, commit.account.expectedVersion)) {
      return { ok: false, reason: 'conflict' };
    }
    for (const w of commit.orders) {
      if (!versionOk(this.orders.get(w.record.order.clientOrderId), w.expectedVersion)) {
        return { ok: false, reason: 'conflict' };
      }
    }
    if (commit.account) this.account = structuredClone(commit.account.record);
    for (const w of commit.orders) {
      this.orders.set(w.record.order.clientOrderId, structuredClone(w.record));
    }
    return { ok: true };
  }
}
