import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Market } from '../../core/calendar/market-calendar.js';
import {
  GenerationAlreadyExistsError,
  GenomePoolConflictError,
  GenomePoolCorruptError,
  TransientError,
  ValidationError,
} from '../../core/errors.js';
import {
  type GenomeGeneration,
  GenomeGenerationSchema,
  parseGenomeGeneration,
} from '../../core/learning/generation.js';
import type { GenomePoolRepository } from '../../ports/genome-pool.js';
import { rethrowAws } from '../aws-errors.js';

const PK = 'GENOME_POOL';
/**
 * Bytes of gzip payload per part item: well under DynamoDB's 400 KB item limit (which counts
 * attribute names and the key too). 1,000 genomes with lineage and fitness gzip to ~150 KB.
 */
export const PART_BYTES = 300_000;

/** Transaction cancellation reasons worth a retry (a concurrent write, throttling). */
const TRANSIENT_CANCELLATIONS = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
]);
/** Part indexes are 4 digits. */
const MAX_PARTS = 9_999;

/** The sort keys of one market's pool (see {@link genomePoolKeys}). */
export interface GenomePoolKeys {
  /** The pool's market (named in every error about the pool). */
  readonly market: Market;
  /** The pool's CURRENT pointer. */
  readonly current: string;
  /** Header of generation `n`. */
  readonly generation: (n: number) => string;
  /** Prefix of generation `n`'s parts whose payload hashes to `digest` (hex SHA-256). */
  readonly partPrefix: (n: number, digest: string) => string;
  /** Part `i` of generation `n`. */
  readonly part: (n: number, digest: string, i: number) => string;
}

/**
 * Sort keys (under `pk=GENOME_POOL`) of `market`'s genome pool. `equity-usa` keeps the keys
 * of the single pool stored before pools were per market (`CURRENT`, `GEN#<n>`), so an
 * existing pool reads as the equity pool with no migration; every other market's keys carry
 * the prefix `MARKET#<market>#` (`MARKET#crypto#CURRENT`, `MARKET#crypto#GEN#<n>`), which no
 * equity key starts with, so the equity pool's part queries (`begins_with GEN#<n>#PART#`)
 * never see another market's items. The partition stays `GENOME_POOL`: the functions' IAM
 * leading-key grant is unchanged.
 */
export function genomePoolKeys(market: Market): GenomePoolKeys {
  const prefix = market === 'equity-usa' ? '' : `MARKET#${market}#`;
  const generation = (n: number) => `${prefix}GEN#${String(n).padStart(10, '0')}`;
  const partPrefix = (n: number, digest: string) => `${generation(n)}#PART#${digest.slice(0, 16)}#`;
  return {
    market,
    current: `${prefix}CURRENT`,
    generation,
    partPrefix,
    part: (n, digest, i) => `${partPrefix(n, digest)}${String(i).padStart(4, '0')}`,
  };
}

interface Header {
  generation: number;
  createdAtIso: string;
  seed: number;
  genomeCount: number;
  partCount: number;
  payloadBytes: number;
  /** SHA-256 (hex) of the gzip payload: names the parts and proves them on read. */
  payloadSha256: string;
  /** SHA-256 (hex) of the canonical generation JSON: decides whether a re-save is a retry. */
  contentSha256: string;
  stats: GenomeGeneration['stats'] | null;
}

/**
 * {@link GenomePoolRepository} on the stagegate single table (pk/sk strings).
 *
 * Items, all under `pk=GENOME_POOL`, one set per market with the sort keys of
 * {@link genomePoolKeys} (shown here for `equity-usa`; `crypto`'s are the same behind
 * `MARKET#crypto#`):
 * - `sk=GEN#<generation, 10 digits>`: the generation header (created, seed, counts, stats,
 *   checksums).
 * - `sk=GEN#<generation>#PART#<16 hex of payload sha256>#<index, 4 digits>`: the genomes,
 *   lineage and fitness as one gzip-compressed JSON document, split into parts of at most
 *   {@link PART_BYTES} bytes so every item stays far below the 400 KB item limit whatever the
 *   pool size (300-1,000 genomes fit in one part). Parts are keyed by their content hash, so
 *   two concurrent writers of the same generation never overwrite each other's parts.
 * - `sk=CURRENT`: pointer `{ generation }` to the current generation.
 *
 * `saveGeneration` writes the parts first (invisible: nothing points to them), then ONE
 * transaction puts the header with `attribute_not_exists(pk)` and the CURRENT pointer with
 * `generation = :previous` (or `attribute_not_exists(pk)` for generation 0). Readers therefore
 * only ever see complete generations, and two learning cycles bred from the same generation
 * cannot both advance the pool. The loser's parts stay behind unreferenced (a few hundred KB;
 * harmless, and removable by a sweep of PART items with no header of the same hash).
 */
export class DynamoGenomePoolRepository implements GenomePoolRepository {
  private readonly partBytes: number;

  /**
   * @param options.partBytes gzip bytes per part item, 1..{@link PART_BYTES}
   *   (default {@link PART_BYTES}; tests lower it to exercise multi-part generations).
   */
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: { readonly partBytes?: number } = {},
  ) {
    const partBytes = options.partBytes ?? PART_BYTES;
    if (!Number.isInteger(partBytes) || partBytes < 1 || partBytes > PART_BYTES) {
      throw new ValidationError(
        'partBytes',
        `must be an integer 1..${PART_BYTES}, got ${partBytes}`,
      );
    }
    this.partBytes = partBytes;
  }

  async saveGeneration(market: Market, input: GenomeGeneration): Promise<void> {
    const keys = genomePoolKeys(market);
    const gen = parseGenomeGeneration(input);
    const n = gen.generation;
    const content = {
      genomes: gen.genomes,
      lineage: gen.lineage,
      fitness: gen.fitness,
      ...(gen.validationFitness ? { validationFitness: gen.validationFitness } : {}),
      ...(gen.trials === undefined ? {} : { trials: gen.trials }),
    };
    const payload = gzipSync(Buffer.from(JSON.stringify(content)));
    const payloadSha256 = sha256(payload);
    const contentSha256 = sha256(
      Buffer.from(
        JSON.stringify([n, gen.seed, gen.createdAtIso, gen.stats ?? null, payloadSha256]),
      ),
    );
    const parts: Buffer[] = [];
    for (let off = 0; off < payload.length; off += this.partBytes) {
      parts.push(payload.subarray(off, off + this.partBytes));
    }
    if (parts.length > MAX_PARTS) {
      throw new ValidationError(
        'genomes',
        `${market} genome pool generation ${n} needs ${parts.length} parts (max ${MAX_PARTS})`,
      );
    }
    await this.writeParts(keys, n, payloadSha256, parts);

    const header: Header = {
      generation: n,
      createdAtIso: gen.createdAtIso,
      seed: gen.seed,
      genomeCount: gen.genomes.length,
      partCount: parts.length,
      payloadBytes: payload.length,
      payloadSha256,
      contentSha256,
      stats: gen.stats ?? null,
    };
    try {
      await this.commitHeader(keys, header);
    } catch (err) {
      await this.explainCancelled(err, keys, n, contentSha256);
    }
  }

  /** Writes the gzip payload's parts (keyed by the payload's SHA-256: a retry rewrites the same items). */
  private async writeParts(
    keys: GenomePoolKeys,
    n: number,
    payloadSha256: string,
    parts: readonly Buffer[],
  ): Promise<void> {
    for (const [i, data] of parts.entries()) {
      await this.call(
        () =>
          this.doc.send(
            new PutCommand({
              TableName: this.tableName,
              Item: { pk: PK, sk: keys.part(n, payloadSha256, i), generation: n, data },
            }),
          ),
        `write ${keys.market} genome pool generation ${n} part ${i}`,
      );
    }
  }

  /**
   * Writes the generation's header and moves CURRENT to it in one transaction: the header must
   * not exist yet, CURRENT must be the previous generation (absent for generation 0).
   */
  private async commitHeader(keys: GenomePoolKeys, header: Header): Promise<void> {
    const n = header.generation;
    const first = n === 0;
    await this.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.tableName,
              Item: { pk: PK, sk: keys.generation(n), ...header },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Put: {
              TableName: this.tableName,
              Item: {
                pk: PK,
                sk: keys.current,
                generation: n,
                createdAtIso: header.createdAtIso,
              },
              ConditionExpression: first ? 'attribute_not_exists(pk)' : '#generation = :previous',
              ...(first
                ? {}
                : {
                    ExpressionAttributeNames: { '#generation': 'generation' },
                    ExpressionAttributeValues: { ':previous': n - 1 },
                  }),
            },
          },
        ],
      }),
    );
  }

  /**
   * Why the generation's transaction failed: the same save retried (returns), the generation
   * already written with other content, CURRENT moved by another writer, a transient
   * cancellation, or the error itself (a bug).
   */
  private async explainCancelled(
    err: unknown,
    keys: GenomePoolKeys,
    n: number,
    contentSha256: string,
  ): Promise<void> {
    const first = n === 0;
    if ((err as { name?: string }).name !== 'TransactionCanceledException') {
      rethrowAws(err, `save ${keys.market} genome pool generation ${n}`);
    }
    const existing = await this.getHeader(keys, n);
    if (existing) {
      if (existing.contentSha256 === contentSha256) return; // retry of the same save
      throw new GenerationAlreadyExistsError(n, keys.market);
    }
    const current = await this.getCurrentGeneration(keys);
    if (current !== (first ? null : n - 1)) {
      throw new GenomePoolConflictError(first ? null : n - 1, current, keys.market);
    }
    const reasons =
      (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
    if (reasons.some((r) => TRANSIENT_CANCELLATIONS.has(r.Code ?? ''))) {
      throw new TransientError(
        `save ${keys.market} genome pool generation ${n}: transaction cancelled`,
        {
          cause: err,
        },
      );
    }
    throw err; // cancelled for another reason (a bug): surface it unchanged
  }

  async getCurrent(market: Market): Promise<GenomeGeneration | null> {
    const n = await this.getCurrentGeneration(genomePoolKeys(market));
    return n === null ? null : this.getGeneration(market, n);
  }

  async getGeneration(market: Market, generation: number): Promise<GenomeGeneration | null> {
    const keys = genomePoolKeys(market);
    if (!Number.isInteger(generation) || generation < 0) {
      throw new ValidationError(
        'generation',
        `must be an integer >= 0, got ${generation} (${market} genome pool)`,
      );
    }
    const header = await this.getHeader(keys, generation);
    if (!header) return null;
    const prefix = keys.partPrefix(generation, header.payloadSha256);
    const items = await this.call(async () => {
      const out: Record<string, unknown>[] = [];
      const pages = paginateQuery(
        { client: this.doc },
        {
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': PK, ':prefix': prefix },
          ConsistentRead: true,
        },
      );
      for await (const page of pages) out.push(...(page.Items ?? []));
      return out;
    }, `read ${market} genome pool generation ${generation}`);
    if (items.length !== header.partCount) {
      throw new GenomePoolCorruptError(
        generation,
        `expected ${header.partCount} parts, found ${items.length}`,
        market,
      );
    }
    items.sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
    const payload = Buffer.concat(items.map((i) => Buffer.from(i.data as Uint8Array)));
    if (sha256(payload) !== header.payloadSha256) {
      throw new GenomePoolCorruptError(generation, 'payload checksum mismatch', market);
    }
    let content: unknown;
    try {
      content = JSON.parse(gunzipSync(payload).toString('utf8'));
    } catch (err) {
      throw new GenomePoolCorruptError(generation, `unreadable payload: ${String(err)}`, market);
    }
    const parsed = GenomeGenerationSchema.safeParse({
      ...(content as object),
      generation,
      seed: header.seed,
      createdAtIso: header.createdAtIso,
      stats: header.stats ?? null,
    });
    if (!parsed.success) {
      const detail = parsed.error.issues[0]?.message ?? 'invalid';
      throw new GenomePoolCorruptError(generation, detail, market);
    }
    return parsed.data as GenomeGeneration;
  }

  private async getCurrentGeneration(keys: GenomePoolKeys): Promise<number | null> {
    const out = await this.call(
      () =>
        this.doc.send(
          new GetCommand({
            TableName: this.tableName,
            Key: { pk: PK, sk: keys.current },
            ConsistentRead: true,
          }),
        ),
      `read ${keys.market} genome pool pointer`,
    );
    return out.Item ? Number(out.Item.generation) : null;
  }

  private async getHeader(keys: GenomePoolKeys, n: number): Promise<Header | null> {
    const out = await this.call(
      () =>
        this.doc.send(
          new GetCommand({
            TableName: this.tableName,
            Key: { pk: PK, sk: keys.generation(n) },
            ConsistentRead: true,
          }),
        ),
      `read ${keys.market} genome pool generation ${n}`,
    );
    return (out.Item as Header | undefined) ?? null;
  }

  private async call<R>(request: () => Promise<R>, what: string): Promise<R> {
    try {
      return await request();
    } catch (err) {
      rethrowAws(err, what);
    }
  }
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
