import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { CohortAlreadyExistsError, NotFoundError, TransientError } from '../../core/errors.js';
import {
  type AgentRow,
  AgentRowSchema,
  type CohortRecord,
  CohortRecordSchema,
  type CohortSummary,
} from '../../core/use-cases/cohort-records.js';
import type { CohortRepository } from '../../ports/cohort-repository.js';
import { rethrowAws } from '../aws-errors.js';

/** Partition of every cohort in the `gsi1` index, sorted by session date then completion. */
const COHORTS_GSI_PK = 'COHORTS';
const META = 'META';
const BATCH = 25;
const MAX_BATCH_ATTEMPTS = 8;

const cohortPk = (id: string) => `COHORT#${id}`;
const agentSk = (rank: number) => `AGENT#${String(rank).padStart(5, '0')}`;

/**
 * {@link CohortRepository} on the stagegate single table.
 *
 * Items: header `pk=COHORT#<id>, sk=META` (indexed in `gsi1` under `COHORTS`), one item per
 * agent `pk=COHORT#<id>, sk=AGENT#<rank>`. Agent rows are written first (idempotent
 * overwrites), the header last with `attribute_not_exists(pk)`: readers only ever see
 * complete cohorts, and a retried step of the same execution is a no-op.
 */
export class DynamoCohortRepository implements CohortRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async saveCompleted(record: CohortRecord): Promise<void> {
    const valid = CohortRecordSchema.parse(record);
    const { leaderboard, ...header } = valid;
    await this.writeAgents(valid.cohortId, leaderboard);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: cohortPk(valid.cohortId),
            sk: META,
            gsi1pk: COHORTS_GSI_PK,
            gsi1sk: `${valid.sessionDate}#${valid.completedAtIso}#${valid.cohortId}`,
            ...header,
            bestAgentId: leaderboard[0]?.agentId ?? null,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') {
        const existing = await this.getHeader(valid.cohortId);
        if (existing?.executionId === valid.executionId) return; // retry of the same step
        throw new CohortAlreadyExistsError(valid.cohortId);
      }
      rethrowAws(err, `save cohort ${valid.cohortId}`);
    }
  }

  private async writeAgents(cohortId: string, rows: readonly AgentRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += BATCH) {
      let requests = rows.slice(i, i + BATCH).map((row) => ({
        PutRequest: { Item: { pk: cohortPk(cohortId), sk: agentSk(row.rank), ...row } },
      }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt >= MAX_BATCH_ATTEMPTS) {
          throw new TransientError(`unprocessed agent rows for cohort ${cohortId}`);
        }
        if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        try {
          const out = await this.doc.send(
            new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
          );
          requests = (out.UnprocessedItems?.[this.tableName] ?? []) as typeof requests;
        } catch (err) {
          rethrowAws(err, `write agents of cohort ${cohortId}`);
        }
      }
    }
  }

  private async getHeader(cohortId: string): Promise<Record<string, unknown> | undefined> {
    try {
      const out = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: { pk: cohortPk(cohortId), sk: META } }),
      );
      return out.Item;
    } catch (err) {
      rethrowAws(err, `get cohort ${cohortId}`);
    }
  }

  async get(cohortId: string): Promise<CohortRecord> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    try {
      do {
        const out = await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': cohortPk(cohortId) },
            ExclusiveStartKey: startKey,
          }),
        );
        items.push(...(out.Items ?? []));
        startKey = out.LastEvaluatedKey;
      } while (startKey);
    } catch (err) {
      rethrowAws(err, `get cohort ${cohortId}`);
    }
    const header = items.find((i) => i.sk === META);
    if (!header) throw new NotFoundError('cohort', cohortId);
    const leaderboard = items
      .filter((i) => String(i.sk).startsWith('AGENT#'))
      .map((i) => AgentRowSchema.parse(i))
      .sort((a, b) => a.rank - b.rank);
    return CohortRecordSchema.parse({ ...header, leaderboard });
  }

  async list(limit: number): Promise<readonly CohortSummary[]> {
    try {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': COHORTS_GSI_PK },
          ScanIndexForward: false,
          Limit: limit,
        }),
      );
      return (out.Items ?? []).map((i) => ({
        cohortId: String(i.cohortId),
        sessionDate: String(i.sessionDate),
        completedAtIso: String(i.completedAtIso),
        symbols: (i.symbols as string[]) ?? [],
        bankrollUsd: Number(i.bankrollUsd),
        agentCount: Number(i.agentCount),
        totalPnlUsd: Number((i.parent as { totalPnlUsd?: number } | undefined)?.totalPnlUsd ?? 0),
        bestAgentId: (i.bestAgentId as string | null) ?? null,
      }));
    } catch (err) {
      rethrowAws(err, 'list cohorts');
    }
  }
}
