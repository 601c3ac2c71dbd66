/**
 * {@link ConsoleReadModel} on the stagegate single table: each listing is one `gsi1` query
 * (`COHORTS`, `PROMOTIONS`, `APPROVALS` partitions, newest first), its LastEvaluatedKey the
 * page cursor. The cohort date filter is a `begins_with` on the sort key
 * (`<session>#<completedAt>#<id>`), the bankroll filter a FilterExpression.
 */
import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ApprovalNotFoundError } from '../../core/errors.js';
import type { CohortSummary } from '../../core/use-cases/cohort-records.js';
import {
  type StagedPromotion,
  StagedPromotionSchema,
} from '../../core/use-cases/promotion-records.js';
import type { ApprovalView } from '../../ports/approval-store.js';
import type {
  CohortListQuery,
  ConsoleReadModel,
  ListQuery,
  Page,
} from '../../ports/console-read-model.js';
import { APPROVALS_GSI_PK, approvalViewOfItem } from '../approval/dynamo-approval-store.js';
import { rethrowAws } from '../aws-errors.js';
import { PARTIAL_COHORTS_GSI_PK } from './cohort-repository.js';

type Item = Record<string, unknown>;

function cohortSummaryOf(i: Item): CohortSummary {
  return {
    cohortId: String(i.cohortId),
    sessionDate: String(i.sessionDate),
    completedAtIso: String(i.completedAtIso),
    symbols: (i.symbols as string[]) ?? [],
    bankrollUsd: Number(i.bankrollUsd),
    agentCount: Number(i.agentCount),
    totalPnlUsd: Number((i.parent as { totalPnlUsd?: number } | undefined)?.totalPnlUsd ?? 0),
    bestAgentId: (i.bestAgentId as string | null) ?? null,
    // Absent on records written before cohorts had a market (equity-usa).
    ...(i.market === 'crypto' || i.market === 'equity-usa' ? { market: i.market } : {}),
    ...(i.partial ? { partialUpToIso: String((i.partial as { upToIso?: string }).upToIso) } : {}),
  };
}

export class DynamoConsoleReadModel implements ConsoleReadModel {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private async query(
    what: string,
    partition: string,
    query: ListQuery,
    extra: {
      readonly sortPrefix?: string;
      readonly filter?: { expression: string; values: Record<string, unknown> };
    } = {},
  ): Promise<{ items: Item[]; next: Record<string, unknown> | null }> {
    const values: Record<string, unknown> = { ':pk': partition, ...extra.filter?.values };
    let condition = 'gsi1pk = :pk';
    if (extra.sortPrefix) {
      condition += ' AND begins_with(gsi1sk, :prefix)';
      values[':prefix'] = extra.sortPrefix;
    }
    try {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: 'gsi1',
          KeyConditionExpression: condition,
          FilterExpression: extra.filter?.expression,
          ExpressionAttributeValues: values,
          ScanIndexForward: false,
          Limit: query.limit,
          ExclusiveStartKey: query.cursor,
        }),
      );
      return { items: out.Items ?? [], next: out.LastEvaluatedKey ?? null };
    } catch (err) {
      rethrowAws(err, `list ${what}`);
    }
  }

  async listCohorts(query: CohortListQuery): Promise<Page<CohortSummary>> {
    const partition = query.kind === 'partial' ? PARTIAL_COHORTS_GSI_PK : 'COHORTS';
    const out = await this.query('cohorts', partition, query, {
      ...(query.sessionDate ? { sortPrefix: `${query.sessionDate}#` } : {}),
      ...(query.bankrollUsd !== undefined
        ? {
            filter: {
              expression: 'bankrollUsd = :bankroll',
              values: { ':bankroll': query.bankrollUsd },
            },
          }
        : {}),
    });
    return { items: out.items.map(cohortSummaryOf), next: out.next };
  }

  async listPromotions(query: ListQuery): Promise<Page<StagedPromotion>> {
    const out = await this.query('promotions', 'PROMOTIONS', query);
    return { items: out.items.map((i) => StagedPromotionSchema.parse(i)), next: out.next };
  }

  async getApproval(approvalId: string): Promise<ApprovalView> {
    let item: Item | undefined;
    try {
      const out = await this.doc.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: `APPROVAL#${approvalId}`, sk: 'META' },
        }),
      );
      item = out.Item;
    } catch (err) {
      rethrowAws(err, `get approval ${approvalId}`);
    }
    if (!item) throw new ApprovalNotFoundError(approvalId);
    return approvalViewOfItem(item);
  }

  async listApprovals(query: ListQuery): Promise<Page<ApprovalView>> {
    const out = await this.query('approvals', APPROVALS_GSI_PK, query);
    return { items: out.items.map(approvalViewOfItem), next: out.next };
  }
}
