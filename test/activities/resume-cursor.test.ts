import { randomBytes, randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { pino } from 'pino';
import { createActivities } from '../../src/activities/index.js';
import { openPool } from '../../src/db/database.js';
import { Connector, SyncFetch, ToolRecord } from '../../src/db/entities.js';
import { SecretBox } from '../../src/db/secrets.js';
import { codeScanningAlert, DEFAULT_GITHUB_TOKEN, ghRepo, startGitHubFake, type GitHubFake } from '../fakes/github.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let pool: ReturnType<typeof openPool>;
let github: GitHubFake;
const secrets = new SecretBox(randomBytes(32).toString('base64'));

beforeAll(async () => {
  db = await createTestDatabase();
  pool = openPool(db.url);
  github = await startGitHubFake();
});
afterAll(async () => {
  await github?.close();
  await pool?.end();
  await db?.drop();
});

/** A GitHub connector with one repository of three open code scanning alerts, and a fetch of it that stored `cursor` after one page. */
async function fetchStoppedAt(cursor: unknown): Promise<{ connectorId: string; recordId: string; fetchId: string }> {
  const repo = ghRepo('resume-org', `repo-${randomUUID().slice(0, 8)}`);
  github.state.orgs = ['resume-org'];
  github.state.repos.push(repo);
  github.state.alerts[repo.id] = { codeScanning: [1, 2, 3].map((n) => codeScanningAlert(repo, n)), dependabot: [], secretScanning: [] };
  const connectorId = randomUUID();
  const em = db.orm.em.fork();
  const connector = em.create(Connector, {
    id: connectorId,
    tool: 'github',
    label: connectorId,
    location: github.url,
    secretEncrypted: secrets.seal(DEFAULT_GITHUB_TOKEN, { connectorId, location: github.url }),
    settings: { owner: 'resume-org', alertKinds: ['code_scanning'] },
  });
  const record = em.create(ToolRecord, { connector, externalId: String(repo.id), name: repo.full_name, state: 'good', metadata: { fullName: repo.full_name } });
  await em.flush();
  const fetchId = randomUUID();
  // One page was committed before the worker died; its cursor is what the next attempt finds.
  em.create(SyncFetch, { id: fetchId, record, status: 'fetching', cursor, pages: 1, itemCount: 1 });
  await em.flush();
  return { connectorId, recordId: record.id, fetchId };
}

describe('a fetch resumed from a stored cursor', () => {
  test('a cursor the connector does not read (another version wrote it) starts the fetch over: every finding, the one staged before discarded', async () => {
    const activities = createActivities({ orm: db.orm, pool, secrets, logger: pino({ level: 'silent' }) });
    const foreign = { stream: 'code_scanning:open', page: 7, writtenBy: 'an older version' };
    const { connectorId, recordId, fetchId } = await fetchStoppedAt(foreign);
    github.state.requests = [];
    const result = await new MockActivityEnvironment().run(activities.fetchFindings, { fetchId, connectorId, recordId, operationId: null });
    expect(result).toMatchObject({ fetchId, items: 3 });
    const alertRequests = github.state.requests.filter((r) => r.path.endsWith('/code-scanning/alerts'));
    expect(alertRequests.length).toBeGreaterThan(0);
    expect(alertRequests.every((r) => !('page' in r.query))).toBe(true);
  });
});
