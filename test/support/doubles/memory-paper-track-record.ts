/** In-memory {@link PaperTrackRecordStore} with the DynamoDB adapter's key (genome, date, promotion). */
import type { PaperSessionResult } from '../../../functions/core/paper/track-record.js';
import type { PaperTrackRecordStore } from '../../../functions/ports/paper-track-record.js';

export class MemoryPaperTrackRecord implements PaperTrackRecordStore {
  private readonly items = new Map<string, PaperSessionResult>();

  async append(result: PaperSessionResult): Promise<void> {
    this.items.set(`${result.genomeId}#${result.date}#${result.promotionId}`, result);
  }

  async list(genomeId: string): Promise<readonly PaperSessionResult[]> {
    return [...this.items.values()].filter((r) => r.genomeId === genomeId);
  }
}
