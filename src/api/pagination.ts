import { raw, type EntityKey, type EntityName, type FilterQuery, type Primary, type PrimaryKeyProp } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import { ApiError } from './errors.js';
import { isBigintId, isRealInstant, stringProblem } from './input.js';
import { queryBoolean } from './schemas.js';

/** The largest `limit` a list accepts; a bigger page would hold a connection and memory for too long. */
export const MAX_PAGE_SIZE = 500;

/** `?limit=&cursor=&count=` of every list. */
export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(50).describe(`page size, at most ${MAX_PAGE_SIZE}`),
  // Room for a cursor that carries a text sort key (a title of 1,000 characters of any script).
  cursor: z.string().min(1).max(8192).optional().describe('the `nextCursor` of the previous page'),
  count: queryBoolean
    .optional()
    .describe('`true` adds `count`, the number of items matching the filter on every page (costs a count query)'),
});
export interface PageQuery {
  limit: number;
  cursor?: string | undefined;
  count?: boolean | undefined;
}

/** A page of a list: `nextCursor` is null on the last page; `count` only when asked for with `?count=true`. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last page'),
    count: z.number().int().min(0).optional().describe('how many items match the filter, on `?count=true`'),
  });
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  count?: number;
}

/** A page's JSON answer: its items shown with `view`, the cursor, and the count when it was asked for. */
export function answerPage<T, V>(page: Page<T>, view: (item: T) => V): { items: V[]; nextCursor: string | null; count?: number } {
  return { items: page.items.map(view), nextCursor: page.nextCursor, ...(page.count !== undefined ? { count: page.count } : {}) };
}

type KeyKind = 'timestamp' | 'uuid' | 'text' | 'bigint';

/**
 * The orders a list accepts, declared once per list: the `ordering` query parameter (DefectDojo style,
 * `field` ascending or `-field` descending) is checked against it and documented from it. Each order is a
 * keyset on (field, id), so cursor pages neither repeat nor skip rows under any ordering.
 */
export interface ListOrders {
  /** Names the list, so a cursor of one list (or of another ordering) is refused. */
  name: string;
  /** The properties a list can be ordered by, each of a column that is never null (keyset comparisons need it). */
  fields: Record<string, KeyKind>;
  /** The kind of the primary key `id`, which breaks ties. */
  idKind: 'uuid' | 'bigint';
  /** The ordering when none is asked for, e.g. `-createdAt`. */
  default: string;
}

/** The `ordering` values a list accepts: each field, ascending and descending. */
function orderingValues(orders: ListOrders): [string, ...string[]] {
  return Object.keys(orders.fields).flatMap((field) => [field, `-${field}`]) as [string, ...string[]];
}

/** `?limit=&cursor=&count=&ordering=` of a list that can be ordered. */
export function orderedPageQuery(orders: ListOrders) {
  const values = orderingValues(orders);
  return pageQuery.extend({
    ordering: z
      .enum(values, {
        error: (issue) =>
          `unknown ordering field ${JSON.stringify(issue.input)}: order by one of ${Object.keys(orders.fields).join(', ')} (prefix - for descending)`,
      })
      .default(orders.default)
      .describe(`sort order: a field name for ascending, -name for descending; default ${orders.default}`),
  });
}

/** The keyset of one ordering of a list. */
export function keysetOf(orders: ListOrders, ordering: string = orders.default): Keyset {
  const descending = ordering.startsWith('-');
  const property = descending ? ordering.slice(1) : ordering;
  const kind = orders.fields[property];
  if (!kind) throw new Error(`${orders.name} has no ordering ${ordering}`);
  const keys = property === 'id' ? [{ property, kind }] : [{ property, kind }, { property: 'id', kind: orders.idKind }];
  return { name: `${orders.name}:${ordering}`, keys, direction: descending ? 'desc' : 'asc' };
}

/**
 * A keyset order: rows sorted by `keys` (all in one direction, the last key unique). The cursor is the
 * sort key of the last row of a page, so a page never repeats or skips a row while rows are added.
 */
export interface Keyset {
  /** Names the list, so a cursor of one list is refused by another. */
  name: string;
  keys: readonly { property: string; kind: KeyKind }[];
  direction: 'asc' | 'desc';
}

// A cursor is caller input: each key is checked as strictly as the column it is compared with, so an
// impossible date, a NUL or an out-of-range id is an invalid cursor rather than a database error.
const KEY_VALUE: Record<KeyKind, z.ZodType> = {
  timestamp: z
    .string()
    .regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$/)
    .refine(isRealInstant),
  uuid: z.guid(),
  text: z.string().max(1024).refine((value) => stringProblem(value) === null),
  // A bigint key travels as its decimal string, so ids beyond 2^53 keep their precision.
  bigint: z.string().refine(isBigintId),
};

function encodeCursor(keyset: Keyset, values: unknown[]): string {
  return Buffer.from(JSON.stringify([keyset.name, ...values])).toString('base64url');
}

function decodeCursor(keyset: Keyset, cursor: string): unknown[] {
  const invalid = () => new ApiError(400, 'INVALID_CURSOR', 'the cursor is not one this list handed out', { issues: [{ in: 'query', path: ['cursor'] }] });
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const shape = z.tuple([z.literal(keyset.name), ...keyset.keys.map((key) => KEY_VALUE[key.kind])] as [z.ZodType, ...z.ZodType[]]);
  const parsed = shape.safeParse(decoded);
  if (!parsed.success) throw invalid();
  return (parsed.data as unknown[]).slice(1);
}

/**
 * A property's value in a plain row: as the entity holds it, except a to-one relation (an entity type, known by
 * its primary key marker), which the row holds as the related entity's primary key.
 */
type PlainValue<V> = typeof PrimaryKeyProp extends keyof NonNullable<V> ? Primary<NonNullable<V>> | Extract<V, null | undefined> : V;

/**
 * A plain row of `entity` with `fields` as the QueryBuilder maps them: scalars as the entity holds them, a
 * to-one relation as its primary key. Not managed: no identity map, no change-tracking snapshot.
 */
export type PlainRow<E, F extends keyof E> = { [K in F]: PlainValue<E[K]> };

/** How a page's rows are read, given the conditions (the filter and the cursor's), the order and the limit. */
type ReadRows<R> = (where: FilterQuery<never>, orderBy: Record<string, 'asc' | 'desc'>, limit: number) => Promise<R[]>;

/**
 * One page of `entity` matching `where` in keyset order, as managed entities (to change them, or to populate
 * relations). Timestamps go into the cursor at PostgreSQL's microsecond precision (read back from the row),
 * because rows written with SQL `now()` carry more precision than a JavaScript Date and a truncated key would
 * skip rows.
 */
export async function findPage<E extends object>(
  em: EntityManager,
  entity: EntityName<E>,
  where: FilterQuery<E>,
  keyset: Keyset,
  page: PageQuery,
  options: { populate?: readonly string[]; exclude?: readonly string[] } = {},
): Promise<Page<E>> {
  return readPage(em, entity, where, keyset, page, (conditions, orderBy, limit) =>
    em.find(entity, conditions as never, { orderBy, limit, populate: options.populate, exclude: options.exclude } as never) as Promise<E[]>,
  );
}

/**
 * One page like findPage, read as plain rows of `fields` (and the keyset's properties): a large list answered
 * as JSON does not pay for building, tracking and snapshotting an entity per row, which cost more than its SQL.
 * Relation filters and formula properties work as in findPage.
 */
export async function findPlainPage<E extends object, F extends EntityKey<E>>(
  em: EntityManager,
  entity: EntityName<E>,
  where: FilterQuery<E>,
  keyset: Keyset,
  page: PageQuery,
  fields: readonly F[],
): Promise<Page<PlainRow<E, F>>> {
  const selected = [...new Set<string>([...fields, ...keyset.keys.map((key) => key.property)])];
  return readPage(em, entity, where, keyset, page, async (conditions, orderBy, limit) => {
    const query = em.createQueryBuilder(entity, 'e').select(selected as never).where(conditions as never).orderBy(orderBy as never).limit(limit);
    return (await query.execute('all')) as PlainRow<E, F>[];
  });
}

async function readPage<E extends object, R extends object>(
  em: EntityManager,
  entity: EntityName<E>,
  where: FilterQuery<E>,
  keyset: Keyset,
  page: PageQuery,
  read: ReadRows<R>,
): Promise<Page<R>> {
  const meta = em.getMetadata(entity);
  const column = (property: string) => {
    const prop = meta.properties[property as keyof typeof meta.properties] as { fieldNames: string[] } | undefined;
    const name = prop?.fieldNames[0];
    if (!name) throw new Error(`${meta.className} has no column for ${property}`);
    return name;
  };
  const columns = keyset.keys.map((key) => column(key.property));
  const conditions: unknown[] = [where];
  if (page.cursor) {
    const values = decodeCursor(keyset, page.cursor);
    const placeholders = keyset.keys.map((key) => (key.kind === 'text' ? '?' : `cast(? as ${CAST[key.kind]})`));
    const operator = keyset.direction === 'asc' ? '>' : '<';
    conditions.push({
      [raw((alias: string) => `(${columns.map((c) => `${alias}."${c}"`).join(', ')}) ${operator} (${placeholders.join(', ')})`, values)]: [],
    });
  }
  const orderBy = Object.fromEntries(keyset.keys.map((key) => [key.property, keyset.direction]));
  const rows = await read({ $and: conditions } as never, orderBy, page.limit + 1);
  const count = page.count ? await em.count(entity, where as never) : undefined;
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  const counted = count === undefined ? {} : { count };
  if (rows.length <= page.limit || !last) return { items, nextCursor: null, ...counted };
  return { items, nextCursor: encodeCursor(keyset, await sortKeyOf(em, meta.tableName, meta.primaryKeys[0] as string, last, keyset, column)), ...counted };
}

const CAST: Record<'timestamp' | 'uuid' | 'bigint', string> = { timestamp: 'timestamptz', uuid: 'uuid', bigint: 'bigint' };

async function sortKeyOf(
  em: EntityManager,
  table: string,
  primaryKey: string,
  row: object,
  keyset: Keyset,
  column: (property: string) => string,
): Promise<unknown[]> {
  const record = row as Record<string, unknown>;
  const timestamps = keyset.keys.filter((key) => key.kind === 'timestamp');
  let exact: Record<string, string> = {};
  if (timestamps.length > 0) {
    const select = timestamps
      .map((key) => `to_char("${column(key.property)}" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as "${key.property}"`)
      .join(', ');
    const [found] = await em.execute<Record<string, string>[]>(`select ${select} from "${table}" where "${column(primaryKey)}" = ?`, [record[primaryKey]]);
    exact = found ?? {};
  }
  return keyset.keys.map((key) => {
    if (key.kind === 'timestamp') return exact[key.property] ?? (record[key.property] as Date).toISOString();
    return record[key.property];
  });
}
