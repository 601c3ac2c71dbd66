import { createHash } from 'node:crypto';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
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
import { decodeAgentPage, encodeAgentPage } from './agent-pages.js';
import { isConditionFailure } from './condition-failure.js';

/** Partition of every cohort in the `gsi1` index, sorted by session date then completion. */
const COHORTS_GSI_PK = 'COHORTS';
/**
 * Partition of partial (intraday) cohorts in `gsi1`: apart from {@link COHORTS_GSI_PK}, so
 * `list` (what promotions, the Day-3 evidence and learning cycles read) never returns one.
 */
export const PARTIAL_COHORTS_GSI_PK = 'COHORTS_PARTIAL';
const META = 'META';
/** Most items in one `BatchWriteItem` (the DynamoDB limit). */
const BATCH = 25;
const MAX_BATCH_ATTEMPTS = 8;
/**
 * Leaderboard rows per agent-page item. A row is ~0.5 KB of JSON before compression, so a
 * page stays far below the 400 KB item limit, and 1,000 agents take 10 items (one
 * `BatchWriteItem`), not 1,000.
 */
export const AGENT_PAGE_ROWS = 100;
/** Most `BatchWriteItem` calls in flight at once for one cohort. */
export const MAX_PARALLEL_BATCHES = 4;

const cohortPk = (id: string) => `COHORT#${id}`;
/**
 * The page set of one execution's leaderboard: 16 hex digits of SHA-256 of its execution id.
 * Pages are keyed by it, so two executions saving one cohort id never overwrite each other's
 * pages; the header names the set that belongs to it (`agentPageSet`).
 */
export const agentPageSetOf = (executionId: string) =>
  createHash('sha256').update(executionId).digest('hex').slice(0, 16);
/** Page of leaderboard rows of page set `pageSet`, starting at `firstRank` (1-based). */
const agentPageSk = (pageSet: string, firstRank: number) =>
  `AGENTS#${pageSet}#${String(firstRank).padStart(5, '0')}`;
/** One-row-per-item layout written before agent pages existed; still read. */
const LEGACY_AGENT_PREFIX = 'AGENT#';
/** Pages written before page sets existed (`AGENTS#<first rank>`); still read. */
const UNSCOPED_AGENT_PAGE = /^AGENTS#\d+$/;

type PutRequest = { PutRequest: { Item: Record<string, unknown> } };

/**
 * Runs `tasks` with at most `limit` in flight; rejects with the first failure (after the
 * tasks already started have settled, so no write is left running unobserved).
 */
async function boundedAll(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < tasks.length) {
      const task = tasks[next++] as () => Promise<void>;
      try {
        await task();
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failure !== undefined) throw failure;
}

/**
 * Which sort keys hold the leaderboard pages of `header`: its page set's pages, or for a
 * header written before page sets existed, the unscoped `AGENTS#<first rank>` pages.
 */
function pageOfHeader(header: Record<string, unknown>): (sk: string) => boolean {
  const pageSet = header.agentPageSet;
  if (typeof pageSet !== 'string') return (sk) => UNSCOPED_AGENT_PAGE.test(sk);
  const prefix = `AGENTS#${pageSet}#`;
  return (sk) => sk.startsWith(prefix);
}

/**
 * {@link CohortRepository} on the stagegate single table.
 *
 * Items: header `pk=COHORT#<id>, sk=META` (indexed in `gsi1` under `COHORTS`), and the
 * leaderboard in pages of {@link AGENT_PAGE_ROWS} rows, `pk=COHORT#<id>, sk=AGENTS#<page
 * set>#<first rank>` with the rows compact in one binary attribute (`format`, `data`:
 * `agent-pages.ts`; a 1,000-agent cohort is 11 items, 17,000 numbers in 10 attributes). The
 * page set is the saving execution's ({@link agentPageSetOf}); the header names it. A save
 * first reads the header: a cohort already saved by another execution is refused
 * ({@link CohortAlreadyExistsError}) before any page is written, and one saved by the same
 * execution (a retried step) is a no-op. Otherwise pages are written first (idempotent
 * overwrites of the execution's own set) with at most {@link MAX_PARALLEL_BATCHES}
 * `BatchWriteItem` calls in flight, each retrying its unprocessed items with exponential
 * backoff; the header last with `attribute_not_exists(pk)`: readers only ever see complete
 * cohorts, and two executions racing on one cohort id leave the winner's leaderboard whole
 * (the loser's pages sit in a set no header names, and `get` ignores them). `get` also reads
 * the three older layouts: pages without a page set, pages with the rows as a list of maps
 * (`rows`), and one item per agent (`sk=AGENT#<rank>`); a page in an unknown format fails
 * with `CohortRecordCorruptError`. A partial cohort's header is indexed under {@link PARTIAL_COHORTS_GSI_PK}:
 * `list` returns complete cohorts only.
 */
export class DynamoCohortRepository implements CohortRepository {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async saveCompleted(record: CohortRecord): Promise<void> {
    const valid = CohortRecordSchema.parse(record);
    const { leaderboard, ...header } = valid;
    if (await this.alreadySaved(valid.cohortId, valid.executionId)) return;
    const pageSet = agentPageSetOf(valid.executionId);
    await this.writeAgents(valid.cohortId, pageSet, leaderboard);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: cohortPk(valid.cohortId),
            sk: META,
            gsi1pk: valid.partial ? PARTIAL_COHORTS_GSI_PK : COHORTS_GSI_PK,
            gsi1sk: `${valid.sessionDate}#${valid.completedAtIso}#${valid.cohortId}`,
            ...header,
            agentPageSet: pageSet,
            bestAgentId: leaderboard[0]?.agentId ?? null,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) {
        const existing = await this.getHeader(valid.cohortId);
        if (existing?.executionId === valid.executionId) return; // retry of the same step
        throw new CohortAlreadyExistsError(valid.cohortId);
      }
      rethrowAws(err, `save cohort ${valid.cohortId}`);
    }
  }

  /**
   * Whether `executionId` already saved this cohort (true: a retried step, nothing to do).
   *
   * @throws CohortAlreadyExistsError another execution saved it.
   */
  private async alreadySaved(cohortId: string, executionId: string): Promise<boolean> {
    const existing = await this.getHeader(cohortId);
    if (existing === undefined) return false;
    if (existing.executionId === executionId) return true;
    throw new CohortAlreadyExistsError(cohortId);
  }

  private async writeAgents(
    cohortId: string,
    pageSet: string,
    rows: readonly AgentRow[],
  ): Promise<void> {
    const requests: PutRequest[] = [];
    for (let i = 0; i < rows.length; i += AGENT_PAGE_ROWS) {
      const page = rows.slice(i, i + AGENT_PAGE_ROWS);
      requests.push({
        PutRequest: {
          Item: {
            pk: cohortPk(cohortId),
            sk: agentPageSk(pageSet, page[0]?.rank ?? i + 1),
            ...encodeAgentPage(page),
          },
        },
      });
    }
    const batches: (() => Promise<void>)[] = [];
    for (let i = 0; i < requests.length; i += BATCH) {
      const batch = requests.slice(i, i + BATCH);
      batches.push(() => this.writeBatch(cohortId, batch));
    }
    await boundedAll(batches, MAX_PARALLEL_BATCHES);
  }

  /** One `BatchWriteItem`, retrying unprocessed items (backoff 100 ms × 2^attempt). */
  private async writeBatch(cohortId: string, batch: readonly PutRequest[]): Promise<void> {
    let requests = [...batch];
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt >= MAX_BATCH_ATTEMPTS) {
        throw new TransientError(`unprocessed agent rows for cohort ${cohortId}`);
      }
      if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      try {
        const out = await this.doc.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
        );
        requests = (out.UnprocessedItems?.[this.tableName] ?? []) as PutRequest[];
      } catch (err) {
        rethrowAws(err, `write agents of cohort ${cohortId}`);
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
    try {
      const pages = paginateQuery(
        { client: this.doc },
        {
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': cohortPk(cohortId) },
        },
      );
      for await (const page of pages) items.push(...(page.Items ?? []));
    } catch (err) {
      rethrowAws(err, `get cohort ${cohortId}`);
    }
    const header = items.find((i) => i.sk === META);
    if (!header) throw new NotFoundError('cohort', cohortId);
    const isPage = pageOfHeader(header);
    const leaderboard = items
      .flatMap((i): AgentRow[] => {
        const sk = String(i.sk);
        if (isPage(sk)) {
          // pages written before the compact format hold `rows`, a list of maps
          if (Array.isArray(i.rows)) return i.rows.map((row) => AgentRowSchema.parse(row));
          return decodeAgentPage(cohortId, i);
        }
        return sk.startsWith(LEGACY_AGENT_PREFIX) ? [AgentRowSchema.parse(i)] : [];
      })
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
        ...(i.market === 'crypto' || i.market === 'equity-usa' ? { market: i.market } : {}),
        totalPnlUsd: Number((i.parent as { totalPnlUsd?: number } | undefined)?.totalPnlUsd ?? 0),
        bestAgentId: (i.bestAgentId as string | null) ?? null,
      }));
    } catch (err) {
      rethrowAws(err, 'list cohorts');
    }
  }
}
