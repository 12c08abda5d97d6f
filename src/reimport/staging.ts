import { hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { HashField, NormalizedFinding } from '../connectors/types.js';
import { addRejection, cleanFinding, jsonForPostgres, type RejectedItems } from './clean.js';
import { columnOf, DIGEST_FIELDS, DIGEST_FIELDS_WHEN_TRUE, FINDING_FIELD_NAMES, missingValueOf, type FindingFieldName } from '../findings/fields.js';
import { computeHashCode } from './hash.js';

/**
 * Digest of what a sync refreshes on a match (the tool-owned fields and the tool's triage), as the tool
 * reports them. Equal digests mean there is nothing to refresh, so the reimport compares fields one by one
 * only for the findings whose digest changed.
 */
export function toolFieldsHash(f: NormalizedFinding): string {
  const values: unknown[] = DIGEST_FIELDS.map((name) => valueOf(f, name));
  for (const name of DIGEST_FIELDS_WHEN_TRUE) if (valueOf(f, name)) values.push(name);
  return hash('md5', JSON.stringify(values));
}

type Staged = NormalizedFinding & { hashCode?: string | null; toolFieldsHash?: string };

/** A field of a finding as staged: the tool's value, or what the field is when the tool left it out. */
const valueOf = (f: Staged, name: FindingFieldName): unknown => f[name] ?? missingValueOf(name);

const STAGED_COLUMNS = ['fetch_id', 'page', ...FINDING_FIELD_NAMES.map(columnOf)];

const NEEDS_ESCAPE = /[\\\n\r\t]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * One field in COPY's text format (`\N` = NULL), of a finding cleanFinding has made storable. Text rather
 * than CSV: JSON is full of quotes, which CSV doubles, and almost free of the backslashes text escapes.
 */
function copyField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = typeof value === 'string' ? value : jsonForPostgres(value);
  return NEEDS_ESCAPE.test(text) ? text.replace(/[\\\n\r\t]/g, (c) => ESCAPES[c]!) : text;
}

/** Each field's value when the tool left it out, in table order. */
const MISSING = FINDING_FIELD_NAMES.map(missingValueOf);

function copyLine(fetchId: string, page: number, f: NormalizedFinding, hashFields: readonly HashField[]): string {
  let line = `${fetchId}\t${page}`;
  for (let i = 0; i < FINDING_FIELD_NAMES.length; i++) {
    const name = FINDING_FIELD_NAMES[i]!;
    const value = name === 'hashCode' ? computeHashCode(f, hashFields) : name === 'toolFieldsHash' ? toolFieldsHash(f) : (f[name] ?? MISSING[i]);
    line += `\t${copyField(value)}`;
  }
  return `${line}\n`;
}

const ROWS_BETWEEN_YIELDS = 100;

/**
 * Encodes a page of cleaned findings, yielding to the event loop every few rows so the write of the page
 * before (its round trips to PostgreSQL) keeps going meanwhile: encoding and PostgreSQL's work overlap.
 * Items that cannot be kept are left out and counted in `rejected`.
 */
async function encodePage(
  fetchId: string,
  page: number,
  findings: NormalizedFinding[],
  hashFields: readonly HashField[],
  rejected: RejectedItems,
): Promise<{ body: string; rows: number }> {
  let body = '';
  let rows = 0;
  for (let i = 0; i < findings.length; i++) {
    const cleaned = cleanFinding(findings[i]!);
    if ('rejected' in cleaned) {
      addRejection(rejected, cleaned.rejected);
    } else {
      body += copyLine(fetchId, page, cleaned.finding, hashFields);
      rows++;
    }
    if (i % ROWS_BETWEEN_YIELDS === ROWS_BETWEEN_YIELDS - 1) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { body, rows };
}

/**
 * Writes one page (COPY) and advances the fetch's cursor in the same transaction. The cursor only moves
 * from the page before, so a page is staged once: an attempt that lost the race to another (an activity
 * retried while the first attempt still ran) fails instead of staging twice.
 */
async function inTransaction(client: pg.PoolClient, work: () => Promise<void>): Promise<void> {
  await client.query('begin');
  try {
    await work();
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}

async function writePage(pool: pg.Pool, fetchId: string, page: number, body: string, count: number, cursor: unknown, rejected: RejectedItems): Promise<void> {
  await withClient(pool, (client) => inTransaction(client, async () => {
    if (body.length > 0) {
      await pipeline(Readable.from([body]), client.query(copyFrom(`copy staged_finding (${STAGED_COLUMNS.join(', ')}) from stdin`)));
    }
    const advanced = await client.query(
      `update sync_fetch set cursor = $1::jsonb, pages = $2 + 1, item_count = item_count + $3, rejected = $5, rejected_reasons = $6::jsonb
       where id = $4 and pages = $2 and status = 'fetching'`,
      [JSON.stringify(cursor ?? null), page, count, fetchId, rejected.count, rejected.count > 0 ? JSON.stringify(rejected.reasons) : null],
    );
    if (advanced.rowCount !== 1) throw new Error(`fetch ${fetchId} is no longer at page ${page}: another attempt staged it`);
  }));
}

/**
 * Runs `work` on a connection of its own, listening for the connection's errors meanwhile (a PostgreSQL
 * restart then fails the work instead of crashing the process); a connection that failed is discarded.
 */
export async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  try {
    const result = await work(client);
    client.off('error', onError);
    client.release(broken);
    return result;
  } catch (err) {
    client.off('error', onError);
    client.release(true);
    throw err;
  }
}

/**
 * Stages a fetch page by page from `firstPage` on. `stage` returns once the page is encoded and the page
 * before it is committed, so encoding (and fetching) the next page overlaps with PostgreSQL writing this
 * one; at most one page is in flight. Each page takes a connection only while it is written, so a slow
 * tool holds no connection between its pages. `flush` waits for the last page. A failed write surfaces at
 * the next call; the fetch's cursor then still names the last committed page.
 */
export function createPageStager(
  pool: pg.Pool,
  options: { fetchId: string; firstPage: number; hashFields: readonly HashField[]; rejectedSoFar?: RejectedItems },
) {
  let page = options.firstPage;
  let inFlight: Promise<void> = Promise.resolve();
  // Rejections so far (a resumed fetch starts from what its committed pages rejected), written with each page.
  const rejected: RejectedItems = { count: options.rejectedSoFar?.count ?? 0, reasons: { ...options.rejectedSoFar?.reasons } };
  return {
    async stage(findings: NormalizedFinding[], cursor: unknown): Promise<void> {
      const thisPage = page++;
      const pageRejected: RejectedItems = { count: rejected.count, reasons: { ...rejected.reasons } };
      const { body, rows } = await encodePage(options.fetchId, thisPage, findings, options.hashFields, pageRejected);
      await inFlight;
      rejected.count = pageRejected.count;
      rejected.reasons = pageRejected.reasons;
      inFlight = writePage(pool, options.fetchId, thisPage, body, rows, cursor, pageRejected);
      inFlight.catch(() => undefined);
    },
    async flush(): Promise<void> {
      await inFlight;
    },
    /** Waits for the page in flight, whatever its outcome; always call it. */
    async close(): Promise<void> {
      await inFlight.catch(() => undefined);
    },
    get pagesStarted(): number {
      return page;
    },
  };
}

/** Stages a single page and waits for it (the fetch must be at that page). */
export async function stageFindingsPage(
  pool: pg.Pool,
  input: { fetchId: string; page: number; findings: NormalizedFinding[]; hashFields: readonly HashField[]; cursor: unknown },
): Promise<void> {
  const stager = createPageStager(pool, { fetchId: input.fetchId, firstPage: input.page, hashFields: input.hashFields });
  try {
    await stager.stage(input.findings, input.cursor);
    await stager.flush();
  } finally {
    await stager.close();
  }
}

/**
 * Whether every row a fetch committed is still staged (its item count, on no page beyond its last). Staging
 * can lose rows behind the fetch's back (an unlogged table after a crash, a promoted standby), and a resumed
 * fetch must not build on pages that are gone.
 */
export async function stagedPagesIntact(pool: pg.Pool, fetch: { id: string; pages: number; itemCount: number }): Promise<boolean> {
  const { rows } = await pool.query<StagedExtent>(STAGED_EXTENT_SQL.replace('?', '$1'), [fetch.id]);
  return stagingComplete(rows[0], fetch);
}

/** How much of a fetch is staged: its rows, and the last page they are on. */
export interface StagedExtent {
  n: string;
  last_page: number | null;
}
export const STAGED_EXTENT_SQL = 'select count(*) as n, max(page) as last_page from staged_finding where fetch_id = ?';

/** Whether the staged rows are exactly the fetch's items, on no page beyond its last committed one. */
export function stagingComplete(extent: StagedExtent | undefined, fetch: { pages: number; itemCount: number }): boolean {
  return Number(extent?.n ?? 0) === fetch.itemCount && (extent?.last_page ?? -1) < fetch.pages;
}

/**
 * Deletes the fetches (and, through their trigger, the staged rows) last touched before `olderThan`: applied
 * ones are done with, and failed or abandoned ones can no longer be resumed (a fetch's deadline is hours,
 * the retention a day or more). Returns how many fetches went.
 */
export async function sweepFetches(pool: pg.Pool, olderThan: Date): Promise<number> {
  const { rowCount } = await pool.query('delete from sync_fetch where coalesce(fetched_at, created_at) < $1', [olderThan]);
  return rowCount ?? 0;
}

/** Empties a fetch that must start over: its staged rows go and its cursor returns to the start, together. */
export async function discardStagedPages(pool: pg.Pool, fetchId: string): Promise<void> {
  await withClient(pool, (client) =>
    inTransaction(client, async () => {
      await client.query('delete from staged_finding where fetch_id = $1', [fetchId]);
      await client.query(
        `update sync_fetch set cursor = null, pages = 0, item_count = 0, rejected = 0, rejected_reasons = null where id = $1 and status = 'fetching'`,
        [fetchId],
      );
    }),
  );
}
