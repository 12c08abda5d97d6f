import { randomBytes, randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { pino } from 'pino';
import { createActivities } from '../../src/activities/index.js';
import { openPool } from '../../src/db/database.js';
import { Connector } from '../../src/db/entities.js';
import { SecretBox } from '../../src/db/secrets.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let pool: ReturnType<typeof openPool>;
const secrets = new SecretBox(randomBytes(32).toString('base64'));

beforeAll(async () => {
  db = await createTestDatabase();
  pool = openPool(db.url);
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

async function connectorWithSecret(sealedFor: (id: string, location: string) => string): Promise<string> {
  const id = randomUUID();
  const location = 'http://127.0.0.1:9';
  const em = db.orm.em.fork();
  em.create(Connector, { id, tool: 'dependency_track', label: id, location, secretEncrypted: sealedFor(id, location), settings: {} });
  await em.flush();
  return id;
}

describe('a run whose connector secret does not open', () => {
  test('fails at once with a non-retryable CONFIG_INVALID, before any request', async () => {
    const activities = createActivities({ orm: db.orm, pool, secrets, logger: pino({ level: 'silent' }) });
    const moved = await connectorWithSecret((_id, location) => secrets.seal('odt_moved_secret_0000000', { connectorId: randomUUID(), location }));
    const otherKey = await connectorWithSecret((id, location) =>
      new SecretBox(randomBytes(32).toString('base64')).seal('odt_other_key_secret_000', { connectorId: id, location }),
    );
    for (const [connectorId, message] of [
      [moved, 'does not belong to this connector'],
      [otherKey, 'neither VULNSYNC_SECRET_KEY nor in VULNSYNC_SECRET_KEYS_OLD'],
    ] as const) {
      let thrown: unknown;
      try {
        await new MockActivityEnvironment().run(activities.discoverRecords, { connectorId });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ApplicationFailure);
      expect(thrown).toMatchObject({ type: 'CONFIG_INVALID', nonRetryable: true, message: expect.stringContaining(message) });
      expect((thrown as Error).message).not.toContain('odt_');
    }
  });
});
