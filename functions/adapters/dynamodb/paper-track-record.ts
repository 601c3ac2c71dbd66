import { type DynamoDBDocumentClient, PutCommand, paginateQuery } from '@aws-sdk/lib-dynamodb';
import { parseOrThrow } from '../../core/errors.js';
import {
  type PaperSessionResult,
  PaperSessionResultSchema,
} from '../../core/paper/track-record.js';
import type { PaperTrackRecordStore } from '../../ports/paper-track-record.js';
import { rethrowAws } from '../aws-errors.js';

/** `PAPER_TRACK#<genome id>`. */
const trackPk = (genomeId: string) => `PAPER_TRACK#${genomeId}`;
/** `SESSION#<date>#<promotion id>`: sorted by date. */
const trackSk = (r: Pick<PaperSessionResult, 'date' | 'promotionId'>) =>
  `SESSION#${r.date}#${r.promotionId}`;

/**
 * {@link PaperTrackRecordStore} on the stagegate single table: one item per genome, session
 * and promotion, `PAPER_TRACK#<genome> / SESSION#<date>#<promotion>` (a retried Finish
 * overwrites the same item).
 */
export class DynamoPaperTrackRecord implements PaperTrackRecordStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async append(result: PaperSessionResult): Promise<void> {
    const valid = parseOrThrow(PaperSessionResultSchema, result, 'result');
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: trackPk(valid.genomeId), sk: trackSk(valid), ...valid },
        }),
      );
    } catch (err) {
      rethrowAws(err, `append paper session ${valid.promotionId} to ${valid.genomeId}`);
    }
  }

  async list(genomeId: string): Promise<readonly PaperSessionResult[]> {
    const out: PaperSessionResult[] = [];
    try {
      const pages = paginateQuery(
        { client: this.doc },
        {
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
          ExpressionAttributeValues: { ':pk': trackPk(genomeId), ':s': 'SESSION#' },
          ConsistentRead: true,
        },
      );
      for await (const page of pages) {
        for (const item of page.Items ?? []) {
          const { pk: _pk, sk, ...rest } = item;
          out.push(parseOrThrow(PaperSessionResultSchema, rest, `${trackPk(genomeId)}/${sk}`));
        }
      }
    } catch (err) {
      rethrowAws(err, `list paper track record ${genomeId}`);
    }
    return out;
  }
}
