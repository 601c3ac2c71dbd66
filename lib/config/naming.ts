/**
 * Physical names shared by the stateful and workflow stacks (and by operators' CLI commands).
 *
 * Buckets get deterministic names (`stagegate-<stage>-<purpose>-<account>-<region>`, built
 * from CloudFormation pseudo parameters) so the workflow stack can address them without a
 * cross-stack export, which keeps IAM resources readable and cdk-nag acknowledgements exact.
 *
 * Except the audit bucket: it is always retained (Object Lock), so a fixed name would make
 * `cdk destroy` then `cdk deploy` fail ("bucket already exists", for as long as the
 * retention lasts). Its name carries a suffix taken from the stateful stack's id (a UUID
 * CloudFormation draws anew for every stack creation: {@link auditBucketName}), and the
 * workflow stack reads it through the export {@link ResourceNames.auditBucketExport}
 * (`Fn::ImportValue` of a fixed export name, so the IAM ARNs stay readable and the cdk-nag
 * acknowledgements exact). docs/deploy.md, "Tearing down dev or staging".
 */
import { Aws, Fn } from 'aws-cdk-lib';
import {
  AUDIT_DEAD_LETTER_PREFIX,
  AUDIT_MANIFEST_PREFIX,
  AUDIT_PARQUET_PREFIX,
  AUDIT_PREFIX,
} from '../../functions/core/audit/keys.js';
import type { Stage } from './environment-config.js';

/** Buckets the stateful stack owns. */
export type BucketPurpose =
  | 'artifacts'
  | 'market-data'
  | 'audit'
  | 'athena-results'
  | 'access-logs';

const noSlash = (prefix: string) => prefix.replace(/\/+$/, '');

/**
 * Key prefixes inside the buckets (no trailing slash). The audit ones come from the audit
 * key layout in `functions/core/audit/keys.ts`, so the IAM grants and the Glue tables
 * cannot drift from what `record-audit` writes.
 */
export const PREFIXES = {
  /** LEAN tree operators upload: `aws s3 sync ../shared/data/lean s3://<market-data>/lean`. */
  marketData: 'lean',
  /** Cohort artifacts: `cohorts/{sessionDate}/{cohortId}/{simulation,score}.json`. */
  cohortArtifacts: 'cohorts',
  /** JSON-lines audit records: `audit/env={stage}/dt={yyyy-MM-dd}/hour={HH}/...`. */
  auditJsonLines: noSlash(AUDIT_PREFIX),
  /** Drafts the audit schema rejected: `audit-dead-letter/env={stage}/dt=.../{id}.json`. */
  auditDeadLetter: noSlash(AUDIT_DEAD_LETTER_PREFIX),
  /** Compacted Parquet audit records: `audit-parquet/env={stage}/dt={yyyy-MM-dd}/...`. */
  auditParquet: noSlash(AUDIT_PARQUET_PREFIX),
  /** Audit day manifests: `audit-manifests/env={stage}/dt={yyyy-MM-dd}.json`. */
  auditManifests: noSlash(AUDIT_MANIFEST_PREFIX),
  /** Athena query results. */
  athenaResults: 'results',
} as const;

/** Names for one stage. Values may contain CloudFormation tokens (account, region). */
export function resourceNames(stage: Stage) {
  const prefix = `stagegate-${stage}`;
  return {
    prefix,
    /** Bucket name: lower case, at most 57 characters for the longest stage/purpose/region. */
    bucket: (purpose: Exclude<BucketPurpose, 'audit'>) =>
      `${prefix}-${purpose}-${Aws.ACCOUNT_ID}-${Aws.REGION}`,
    /**
     * The operator console's pages (workflow stack; S3 server access logs go to the stateful
     * stack's access-logs bucket under `console-pages/`). At most 61 characters.
     */
    consolePagesBucket: `${prefix}-console-pages-${Aws.ACCOUNT_ID}-${Aws.REGION}`,
    /** Name of the stateful stack's export holding the audit bucket's name. */
    auditBucketExport: `${prefix}-audit-bucket-name`,
    table: prefix,
    glueDatabase: `stagegate_${stage}`,
    auditJsonTable: 'audit_jsonl',
    auditParquetTable: 'audit_parquet',
    /** Athena view over both tables; the named queries read it. */
    auditView: 'audit',
    athenaWorkgroup: prefix,
    stateMachine: `${prefix}-intraday-cohort`,
    /** The promotion pipeline state machine (issue 3). */
    promotionStateMachine: `${prefix}-promotion-pipeline`,
    paperSessionStateMachine: `${prefix}-paper-session`,
    /** The learning-cycle state machine (evolves the genome pool). */
    learningStateMachine: `${prefix}-learning-cycle`,
    /** The session-ingestion state machine (ingestion, then the session's chain). */
    ingestionStateMachine: `${prefix}-session-ingestion`,
    /**
     * The crypto session-ingestion state machine (the UTC day's ingestion, then its chain);
     * deployed when `cohort.cryptoSymbols` is not empty.
     */
    cryptoIngestionStateMachine: `${prefix}-crypto-session-ingestion`,
    /** The Day-3 go/no-go state machine (human approval, micro-live). */
    day3StateMachine: `${prefix}-day3-go-no-go`,
    /** The HTTP API serving the approval page and Slack interactivity. */
    approvalApi: `${prefix}-approval`,
    /** HMAC key of approval links, ids and task-token encryption (base64 text, >= 32 bytes). */
    approvalKeySecret: `stagegate/${stage}/approval-key`,
    /** Slack bot token (`xoxb-...`) used to post and update approval messages. */
    slackBotTokenSecret: `stagegate/${stage}/slack-bot-token`,
    /** Slack signing secret verifying `POST /slack/interactivity`. */
    slackSigningSecret: `stagegate/${stage}/slack-signing-secret`,
    scheduleGroup: prefix,
    /** Secrets Manager secret holding the Alpaca paper API keys (JSON `{keyId, secretKey}`). */
    alpacaPaperSecret: `stagegate/${stage}/alpaca-paper`,
    alarmTopic: `${prefix}-alarms`,
    dashboard: prefix,
  };
}

export type ResourceNames = ReturnType<typeof resourceNames>;

/**
 * The first group of the stack id's UUID (8 hex digits): `arn:aws:cloudformation:<region>:
 * <account>:stack/<name>/<uuid>` -> `<uuid>` -> its part before the first `-`. Differs for
 * every creation of the stack, stays the same across its updates.
 */
export function stackCreationSuffix(): string {
  return Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))));
}

/**
 * Name of the audit bucket created by the stack it is used in:
 * `stagegate-<stage>-audit-<account>-<region>-<8 hex>`, at most 61 characters (63 allowed).
 */
export function auditBucketName(stage: Stage): string {
  return `stagegate-${stage}-audit-${Aws.ACCOUNT_ID}-${Aws.REGION}-${stackCreationSuffix()}`;
}

/**
 * Partition-key patterns of the single table's item families, as IAM `dynamodb:LeadingKeys`
 * values (`StringLike`: `*` matches any suffix). They mirror the adapters that own the items
 * (`functions/adapters/**`); `test/infra/table-partitions.test.ts` runs those adapters and
 * fails when one touches a partition no pattern here covers.
 */
export const PARTITIONS = {
  /** Cohort header and agent rows (`cohort-repository.ts`). */
  cohort: 'COHORT#*',
  /** Promotion META and its `ORDER#<client_order_id>` items (`promotion-repository.ts`). */
  promotion: 'PROMOTION#*',
  /** Position book (average cost) per broker (`promotion-repository.ts`). */
  brokerBook: 'BROKER_BOOK#*',
  /** Each paper session's own book per account and day (`dynamodb/session-books.ts`). */
  sessionBook: 'SESSION_BOOK#*',
  /** Each genome's paper session results, its paper track record (`dynamodb/paper-track-record.ts`). */
  paperTrack: 'PAPER_TRACK#*',
  /**
   * `CONFIG / KILL_SWITCH` (`kill-switch.ts`); operators write it through the console API and
   * the Slack click (GetItem, PutItem: a release's put is conditional, still PutItem); every
   * other function only reads it.
   */
  killSwitch: 'CONFIG',
  /** Audit stream heads, the hash-chain tips (`audit/stream-heads.ts`). */
  auditStream: 'AUDIT_STREAM#*',
  /** The audit day anchor, the newest day manifest's date and hash (`audit/day-anchors.ts`). */
  auditAnchor: 'AUDIT_ANCHOR#*',
  /** The persisted genome pool: generations, their parts, the CURRENT pointer (`genome-pool-repository.ts`). */
  genomePool: 'GENOME_POOL',
  /** Approval requests (`APPROVAL#<id>/META`) and their Slack message refs (`/MESSAGE`). */
  approval: 'APPROVAL#*',
  /** Micro-live slices and their leverage decisions (`micro-live-repository.ts`). */
  microLive: 'MICROLIVE#*',
  /** Claims of a message post, one post per key (`dynamodb/post-claims.ts`: the daily report). */
  postClaim: 'POST_CLAIM#*',
  /** The current plan, `PLAN / CURRENT`, versioned (`dynamodb/plan-store.ts`). */
  plan: 'PLAN',
  /** State of one simulated broker account (`brokers/simulated-broker-store.ts`). */
  simulatedBroker: (accountId: string) => `SIMBROKER#${accountId}`,
} as const;
