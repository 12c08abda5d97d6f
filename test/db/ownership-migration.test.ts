import { randomBytes } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/postgresql';
import { ensureDatabase, openDatabase } from '../../src/db/database.js';
import { dropTestDatabase } from '../support/database.js';

/**
 * The migration that makes findings owned by their Record backfills existing data: a finding belongs to
 * the Record whose import last acted on it (found through the import's fetch), or else to the one Record
 * of its connector mapped to its Product; and the last sighting the old per-Test rule implied is kept.
 */
const BEFORE = 'Migration20261126075458';
let orm: MikroORM;
let name: string;

beforeAll(async () => {
  name = `vulnsync_test_${randomBytes(6).toString('hex')}`;
  const url = new URL(process.env.VULNSYNC_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  url.pathname = `/${name}`;
  await ensureDatabase(url.toString());
  orm = await openDatabase(url.toString());
  await orm.migrator.up({ to: BEFORE });
});
afterAll(async () => {
  await orm?.close(true);
  await dropTestDatabase(name);
});

it('gives every finding the Record that reported it and keeps its last sighting', async () => {
  const em = orm.em.fork();
  const one = async (sql: string, params: unknown[] = []) => ((await em.execute<{ id: string }[]>(sql, params))[0]!).id;
  const connector = await one(`insert into connector (id, tool, label, location, secret_encrypted, settings, created_at, updated_at)
    values (gen_random_uuid(), 'dependency_track', 'c', 'http://tool', 'sealed', '{}', now(), now()) returning id`);
  const record = (product: string | null, ext: string) =>
    one(`insert into tool_record (id, connector_id, external_id, name, state, product_id, first_discovered_at, last_discovered_at)
      values (gen_random_uuid(), ?, ?, ?, 'good', ?, now(), now()) returning id`, [connector, ext, ext, product]);
  const testOf = async (product: string) => {
    const engagement = await one(`insert into engagement (id, product_id, name, created_at) values (gen_random_uuid(), ?, 'Global Connectors', now()) returning id`, [product]);
    return one(`insert into test (id, engagement_id, connector_id, tool, title, created_at, last_imported_at)
      values (gen_random_uuid(), ?, ?, 'dependency_track', 'T', now(), '2026-01-10T00:00:00Z') returning id`, [engagement, connector]);
  };
  const shared = await one(`insert into product (id, name, created_at) values (gen_random_uuid(), 'shared', now()) returning id`);
  const single = await one(`insert into product (id, name, created_at) values (gen_random_uuid(), 'single', now()) returning id`);
  const [a, b, c] = [await record(shared, 'a'), await record(shared, 'b'), await record(single, 'c')];
  const [sharedTest, singleTest] = [await testOf(shared), await testOf(single)];
  const finding = (test: string) =>
    one(`insert into finding (id, test_id, title, severity, active, first_seen_at, last_seen_at, created_at)
      values (default, ?, 't', 'High', true, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', now()) returning id::text`, [test]);
  const imported = async (recordId: string, test: string, findingId: string, at: string) => {
    const fetch = await one(`insert into sync_fetch (id, record_id, status, pages, item_count, created_at) values (gen_random_uuid(), ?, 'applied', 1, 1, now()) returning id`, [recordId]);
    const imp = await one(`insert into finding_import (id, test_id, fetch_id, severity_before, severity_after, settings, created_at)
      values (gen_random_uuid(), ?, ?, '{}', '{}', '{}', ?) returning id`, [test, fetch, at]);
    await em.execute(`insert into finding_action (import_id, finding_id, action, created_at) values (?, ?, 'created', ?)`, [imp, findingId, at]);
  };
  const [fa, fb, fc, orphan] = [await finding(sharedTest), await finding(sharedTest), await finding(singleTest), await finding(sharedTest)];
  await imported(a, sharedTest, fa, '2026-01-01T00:00:00Z');
  await imported(b, sharedTest, fb, '2026-01-01T00:00:00Z');

  await orm.migrator.up();

  const rows = await orm.em.fork().execute<{ id: string; record_id: string | null; last_seen_at: Date }[]>(
    'select id::text, record_id, last_seen_at from finding order by id',
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  expect(byId.get(fa)!.record_id).toBe(a);
  expect(byId.get(fb)!.record_id).toBe(b);
  // No import acted on it, but its Product has one Record of the connector.
  expect(byId.get(fc)!.record_id).toBe(c);
  // Two Records share the Product and no import tells which: left unowned rather than guessed.
  expect(byId.get(orphan)!.record_id).toBeNull();
  for (const r of rows) expect(new Date(r.last_seen_at).toISOString()).toBe('2026-01-10T00:00:00.000Z');
  const imports = await orm.em.fork().execute<{ record_id: string }[]>('select record_id from finding_import order by record_id');
  expect(imports.map((i) => i.record_id).sort()).toEqual([a, b].sort());
});
