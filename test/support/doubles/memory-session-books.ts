/** In-memory {@link SessionBookRegistry} with the DynamoDB adapter's rule (a later snapshot wins). */
import type {
  SessionBookRegistry,
  SessionBookSnapshot,
} from '../../../functions/ports/session-books.js';

export class MemorySessionBooks implements SessionBookRegistry {
  private readonly items = new Map<string, SessionBookSnapshot>();

  async save(account: string, snapshot: SessionBookSnapshot): Promise<void> {
    const key = `${account}#${snapshot.date}#${snapshot.promotionId}`;
    const stored = this.items.get(key);
    if (stored && stored.ticks > snapshot.ticks) return;
    this.items.set(key, snapshot);
  }

  async list(account: string, date: string): Promise<readonly SessionBookSnapshot[]> {
    return [...this.items.entries()]
      .filter(([k]) => k.startsWith(`${account}#${date}#`))
      .map(([, v]) => v)
      .sort((a, b) => a.promotionId.localeCompare(b.promotionId));
  }
}
