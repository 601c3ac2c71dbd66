/**
 * A least-recently-used map bounded by a total weight (e.g. parsed rows) rather than an entry
 * count, so a warm Lambda keeps recent files without unbounded memory growth.
 */
export class WeightedLru<V> {
  private readonly entries = new Map<string, { readonly value: V; readonly weight: number }>();
  private total = 0;

  /** @param budget the largest total weight kept; an entry heavier than this is not cached. */
  constructor(readonly budget: number) {}

  /** Current total weight of the cached entries. */
  get weight(): number {
    return this.total;
  }

  /** The cached value, marked as most recently used, or `undefined`. */
  get(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (hit === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit.value;
  }

  /** Stores `value` (weight >= 0), then evicts least recently used entries over the budget. */
  set(key: string, value: V, weight: number): void {
    this.delete(key);
    if (weight > this.budget) return;
    this.entries.set(key, { value, weight });
    this.total += weight;
    for (const [oldKey] of this.entries) {
      if (this.total <= this.budget) break;
      this.delete(oldKey);
    }
  }

  delete(key: string): void {
    const hit = this.entries.get(key);
    if (hit === undefined) return;
    this.entries.delete(key);
    this.total -= hit.weight;
  }
}
