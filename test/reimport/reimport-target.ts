import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { HashField, NormalizedFinding } from '../../src/connectors/types.js';
import { stageFindingsPage } from '../../src/reimport/staging.js';
import { createTestDatabase } from '../support/database.js';

/** A Test to reimport into, and the Record whose fetches feed it. */
export interface ReimportTarget {
  testId: string;
  recordId: string;
}

/** Dependency-Track's hash fields: the ones the reimport tests hash with. */
export const HASH_FIELDS: readonly HashField[] = ['componentName', 'componentVersion', 'vulnerabilityIds'];

/** A test file's own database, with the ORM and the plain connections staging uses. */
export interface ReimportDatabase {
  orm: MikroORM;
  /** A fresh Connector, Product, Global Connectors engagement, Test and Record, so a test owns its findings. */
  createTarget(): Promise<ReimportTarget>;
  /** A new fetch row for the target's Record, in the state a completed fetch leaves it. */
  createFetch(target: ReimportTarget, fetchId?: string): Promise<string>;
  /** Stages one fetched page exactly as the fetchFindings activity does, leaving the fetch completed. */
  stagePage(input: { fetchId: string; page: number; findings: NormalizedFinding[]; hashFields: readonly HashField[] }): Promise<void>;
  drop(): Promise<void>;
}

export async function createReimportDatabase(): Promise<ReimportDatabase> {
  const db = await createTestDatabase();
  const orm = db.orm as MikroORM;
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  return {
    orm,
    async createTarget() {
      const em = orm.em.fork();
      const [c] = await em.execute(
        `insert into connector (id, tool, label, location, secret_encrypted, settings, created_at, updated_at)
         values (gen_random_uuid(), 'dependency_track', gen_random_uuid()::text, 'http://tool', 'sealed', '{}', now(), now()) returning id`,
      );
      const [p] = await em.execute(`insert into product (id, name, created_at) values (gen_random_uuid(), gen_random_uuid()::text, now()) returning id`);
      const [e] = await em.execute(`insert into engagement (id, product_id, name, created_at) values (gen_random_uuid(), ?, 'Global Connectors', now()) returning id`, [p!.id]);
      const [t] = await em.execute(
        `insert into test (id, engagement_id, connector_id, tool, title, created_at) values (gen_random_uuid(), ?, ?, 'dependency_track', 'T', now()) returning id`,
        [e!.id, c!.id],
      );
      const [r] = await em.execute(
        `insert into tool_record (id, connector_id, external_id, name, state, first_discovered_at, last_discovered_at)
         values (gen_random_uuid(), ?, 'p1', 'p1', 'good', now(), now()) returning id`,
        [c!.id],
      );
      return { testId: t!.id, recordId: r!.id };
    },
    async createFetch(target, fetchId = crypto.randomUUID()) {
      await orm.em.fork().execute(
        `insert into sync_fetch (id, record_id, status, pages, item_count, created_at) values (?, ?, 'fetched', 0, 0, now()) on conflict do nothing`,
        [fetchId, target.recordId],
      );
      return fetchId;
    },
    async stagePage(input) {
      await pool.query(`update sync_fetch set status = 'fetching' where id = $1`, [input.fetchId]);
      await stageFindingsPage(pool, { ...input, cursor: { page: input.page } });
      await pool.query(`update sync_fetch set status = 'fetched' where id = $1`, [input.fetchId]);
    },
    async drop() {
      await pool.end();
      await db.drop();
    },
  };
}
