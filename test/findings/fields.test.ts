import { DIGEST_FIELDS, DIGEST_FIELDS_WHEN_TRUE, FINDING_API_FIELDS, FINDING_FIELDS, REFRESHED_FIELDS, TOOL_VERDICT_FIELDS } from '../../src/findings/fields.js';
import { findingView } from '../../src/api/views.js';
import { toolFieldsHash } from '../../src/reimport/staging.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/** The one table of finding fields, and what is derived from it. */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

it('every field a sync refreshes or takes as the tool’s verdict is in the digest that decides whether to', () => {
  const inDigest = new Set([...DIGEST_FIELDS, ...DIGEST_FIELDS_WHEN_TRUE]);
  for (const name of [...REFRESHED_FIELDS, ...TOOL_VERDICT_FIELDS]) expect({ name, inDigest: inDigest.has(name) }).toEqual({ name, inDigest: true });
});

it('keeps the digest of findings stored by earlier versions (a change would make every finding "updated" once)', () => {
  const finding = {
    title: 'Prototype pollution', severity: 'High' as const, description: 'd', line: 12, cvssScore: 7.5, cwes: [1321], vulnerabilityIds: ['CVE-2021-23337'],
    falseP: false, riskAccepted: true, raw: { any: 'thing' },
  };
  expect(toolFieldsHash(finding)).toBe('1cac6095f2ad11505da903afbe20f597');
  expect(toolFieldsHash({ ...finding, verified: true })).not.toBe(toolFieldsHash(finding));
  expect(toolFieldsHash({ ...finding, raw: { other: 1 }, componentName: 'lodash' })).toBe(toolFieldsHash(finding));
});

it('the finding and staging tables have exactly the table’s columns, and the API shows the fields it names', async () => {
  const columns = async (table: string) =>
    (await db.orm.em.fork().execute<{ column_name: string }[]>('select column_name from information_schema.columns where table_name = ?', [table])).map((c) => c.column_name);
  const fieldColumns = Object.values(FINDING_FIELDS).map((f) => f.column);
  expect((await columns('staged_finding')).sort()).toEqual(['fetch_id', 'id', 'page', ...fieldColumns].sort());
  expect(await columns('finding')).toEqual(expect.arrayContaining(fieldColumns));
  const shown = Object.keys(findingView.shape);
  for (const f of FINDING_API_FIELDS) expect(shown).toContain(f.apiName);
});
