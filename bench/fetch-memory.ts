/**
 * Child process of `npm run bench:reimport`: runs the real fetchFindings activity (in Temporal's mock
 * activity environment) against the Dependency-Track fake at BENCH_TOOL_URL, whose one project has
 * BENCH_FINDINGS findings, and prints the process's peak RSS as the last line.
 */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type FetchFindingsResult } from '../src/activities/index.js';
import { openDatabase, openPool } from '../src/db/database.js';
import { SecretBox } from '../src/db/secrets.js';

const databaseUrl = process.env.BENCH_DATABASE_URL!;
const toolUrl = process.env.BENCH_TOOL_URL!;
const projectUuid = process.env.BENCH_PROJECT!;
const apiKey = process.env.BENCH_API_KEY!;

const orm = await openDatabase(databaseUrl);
const pool = openPool(databaseUrl);
const secrets = new SecretBox(randomBytes(32).toString('base64'));
const em = orm.em.fork();
const connectorId = crypto.randomUUID();
const [connector] = await em.execute(
  `insert into connector (id, tool, label, location, secret_encrypted, settings, created_at, updated_at)
   values (?, 'dependency_track', gen_random_uuid()::text, ?, ?, '{}', now(), now()) returning id`,
  [connectorId, toolUrl, secrets.seal(apiKey, { connectorId, location: toolUrl })],
);
const [record] = await em.execute(
  `insert into tool_record (id, connector_id, external_id, name, state, first_discovered_at, last_discovered_at)
   values (gen_random_uuid(), ?, ?, 'memory', 'good', now(), now()) returning id`,
  [connector!.id, projectUuid],
);

const activities = createActivities({ orm, pool, secrets, logger: pino({ level: 'silent' }) });
const before = process.memoryUsage().rss;
const started = performance.now();
const environment = new MockActivityEnvironment();
if (process.env.BENCH_TRACE_MEMORY) {
  environment.on('heartbeat', () => {
    const m = process.memoryUsage();
    const mb = (n: number) => (n / 2 ** 20).toFixed(0);
    console.error(`rss ${mb(m.rss)} heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} external ${mb(m.external)} buffers ${mb(m.arrayBuffers)}`);
  });
}
const result: FetchFindingsResult = await environment.run(activities.fetchFindings, {
  fetchId: crypto.randomUUID(),
  connectorId: connector!.id,
  recordId: record!.id,
  operationId: null,
});
const seconds = (performance.now() - started) / 1000;
const peakMb = process.resourceUsage().maxRSS / 1024;
await pool.end();
await orm.close();
console.log(
  `Peak RSS of the worker process while fetching and staging one record of ${result.items.toLocaleString('en')} findings from the ` +
    `Dependency-Track fake (one unpaginated response, ${result.pages} staged pages, ${seconds.toFixed(1)} s): ` +
    `**${peakMb.toFixed(0)} MB** (${(before / 2 ** 20).toFixed(0)} MB before the fetch; target ≤ 300 MB).`,
);
