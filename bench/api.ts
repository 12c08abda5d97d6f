/**
 * `npm run bench:api` — the API under load, with the worker and the API as real processes from the production build (`npm run start:api`) on a
 * database holding one synced connector of BENCH_API_RECORDS records × 100 findings (default 1,000: 100,000
 * findings): 30 s each of listing findings and operations as fast as they go (autocannon, BENCH_API_CONNECTIONS
 * connections), 30 s of listing findings at a fixed 500 requests/s (the target: p99 ≤ 50 ms), and 50 concurrent
 * manual syncs of 10 connectors (each answered within 1 s; exactly one `attached: false` per connector). Writes
 * its section of docs/benchmarks.md.
 */
import { cpus, totalmem } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import autocannon from 'autocannon';
import { ChaosStack } from '../chaos/stack.js';
import { writeSection } from './doc-sections.js';
import { syntheticConnector } from './synthetic-tool.js';

const RECORDS = Number(process.env.BENCH_API_RECORDS ?? 1000);
const DURATION = Number(process.env.BENCH_API_SECONDS ?? 30);
const CONNECTIONS = Number(process.env.BENCH_API_CONNECTIONS ?? 10);
const FIXED_RATE = 500;
const CONCURRENT_SYNCS = 50;
const SYNC_CONNECTORS = 10;

interface Load {
  label: string;
  rps: number;
  p50: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
}

async function load(stack: ChaosStack, label: string, paths: string[], options: { rate?: number; seconds?: number } = {}): Promise<Load> {
  const result = await autocannon({
    url: stack.apiUrl,
    connections: CONNECTIONS,
    duration: options.seconds ?? DURATION,
    ...(options.rate ? { overallRate: options.rate } : {}),
    headers: { authorization: `Bearer ${stack.token}` },
    requests: paths.map((path) => ({ method: 'GET' as const, path })),
  });
  const row = {
    label,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
  console.log(`  ${label}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, max ${row.max} ms, non-2xx ${row.non2xx}, errors ${row.errors}`);
  return row;
}

/** 50 manual syncs of 10 connectors at once: how long each answer took, and whether each connector got one run. */
async function concurrentSyncs(stack: ChaosStack): Promise<string> {
  const workloads = await Promise.all(Array.from({ length: SYNC_CONNECTORS }, (_, i) => syntheticConnector(stack, `api-sync-${i}`, 2)));
  const requests = Array.from({ length: CONCURRENT_SYNCS }, (_, i) => workloads[i % SYNC_CONNECTORS]!);
  const answers = await Promise.all(
    requests.map(async (w) => {
      const t0 = performance.now();
      const res = await stack.call('POST', `/api/v1/connectors/${w.connectorId}/sync`);
      return { connectorId: w.connectorId, ms: performance.now() - t0, status: res.status, body: res.body as { attached: boolean; operationId: string; workflowId: string } };
    }),
  );
  const slowest = Math.max(...answers.map((a) => a.ms));
  const wrong: string[] = [];
  for (const w of workloads) {
    const mine = answers.filter((a) => a.connectorId === w.connectorId);
    const started = mine.filter((a) => a.status === 202 && a.body.attached === false);
    const operations = new Set(mine.map((a) => a.body.operationId));
    if (mine.some((a) => a.status !== 202) || started.length !== 1 || operations.size !== 1) {
      wrong.push(`${w.connectorId}: ${mine.map((a) => `${a.status}/${a.body.attached}`).join(',')}`);
    }
  }
  // Every connector ends with one connector-sync Operation, finished.
  const deadline = Date.now() + 120_000;
  let runs: { connector_id: string; n: number; open: number }[] = [];
  for (;;) {
    runs = await stack.query(
      `select connector_id, count(*)::int n, count(*) filter (where status not in ('succeeded','failed','partial'))::int open
       from operation where type = 'sync' and record_id is null and connector_id = any($1) group by connector_id`,
      [workloads.map((w) => w.connectorId)],
    );
    if (runs.every((r) => r.open === 0) || Date.now() > deadline) break;
    await delay(250);
  }
  const extraRuns = runs.filter((r) => r.n !== 1).length;
  for (const w of workloads) await w.close();
  const line =
    `${CONCURRENT_SYNCS} requests for ${SYNC_CONNECTORS} connectors at once: slowest answer **${slowest.toFixed(0)} ms** ` +
    `(median ${[...answers.map((a) => a.ms)].sort((a, b) => a - b)[answers.length >> 1]!.toFixed(0)} ms); ` +
    `connectors with other than one \`attached: false\`: ${wrong.length}; connectors with other than one sync Operation: ${extraRuns}.`;
  console.log(`  ${line}`);
  if (wrong.length > 0) console.log(`  wrong answers: ${wrong.join('; ')}`);
  return line;
}

async function main() {
  // The API and the worker as production runs them: compiled JavaScript (dist/), not the sources under tsx.
  const stack = await ChaosStack.start({ syncConcurrency: null, build: true, log: (line) => console.log(`  ${line}`) });
  // Ctrl-C still stops the worker, the API, the Temporal server and drops the database.
  process.once('SIGINT', () => void stack.stop().finally(() => process.exit(130)));
  let rows: Load[] = [];
  let syncs = '';
  let findings = 0;
  try {
    console.log(`seeding: one connector of ${RECORDS} records × 100 findings, synced`);
    const seeded = await syntheticConnector(stack, 'api-load', RECORDS);
    await seeded.baseline(600_000);
    await seeded.close();
    await stack.query('vacuum analyze');
    const [count] = await stack.query<{ n: number }>('select count(*)::int n from finding');
    findings = count!.n;
    const [product] = await stack.query<{ id: string }>('select id from product order by name limit 1');
    const [connector] = await stack.query<{ id: string }>('select id from connector limit 1');

    rows = [
      await load(stack, 'findings (all, one product\'s), as fast as it goes', ['/api/v1/findings?limit=50', `/api/v1/findings?limit=50&productId=${product!.id}`]),
      await load(stack, 'operations (all, one connector\'s syncs), as fast as it goes', ['/api/v1/operations?limit=50', `/api/v1/operations?limit=50&connectorId=${connector!.id}&type=sync`]),
      await load(stack, `findings at a fixed ${FIXED_RATE} req/s`, ['/api/v1/findings?limit=50', `/api/v1/findings?limit=50&productId=${product!.id}`], { rate: FIXED_RATE }),
      // A connector's active High findings: every Test of the connector is read before the first page (docs/scaling.md).
      await load(stack, 'findings of one connector, active and High', [`/api/v1/findings?limit=50&connectorId=${connector!.id}&severity=High&active=true`], { seconds: 10 }),
    ];
    syncs = await concurrentSyncs(stack);
  } finally {
    await stack.stop();
  }

  const fixed = rows[2]!;
  const cpu = cpus();
  writeSection(
    'api',
    `## API under load

Produced by \`npm run bench:api\` (bench/api.ts) on ${new Date().toISOString().slice(0, 10)}. Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'},
${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node.js ${process.version}; the API (\`npm run start:api\`, compiled), the worker and autocannon on the
same machine. The database holds one synced connector of ${RECORDS.toLocaleString('en')} records (${findings.toLocaleString('en')} findings).
Each load runs ${DURATION} s (the last 10 s) with ${CONNECTIONS} connections, cycling through its requests (pages of 50).

| load | requests/s | p50 | p99 | max | non-2xx | errors |
|---|---:|---:|---:|---:|---:|---:|
${rows.map((r) => `| ${r.label} | ${r.rps.toFixed(0)} | ${r.p50} ms | ${r.p99} ms | ${r.max} ms | ${r.non2xx} | ${r.errors} |`).join('\n')}

Target findings list p99 ≤ 50 ms at ${FIXED_RATE} requests/s: ${fixed.p99} ms — ${fixed.p99 <= 50 && fixed.rps >= FIXED_RATE * 0.95 ? 'met' : 'missed'}.

**Concurrent manual syncs:** ${syncs}
`,
  );
  console.log('wrote the api section of docs/benchmarks.md');
}

await main();
