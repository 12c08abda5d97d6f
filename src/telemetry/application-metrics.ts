import type { MikroORM } from '@mikro-orm/postgresql';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FINDING_ACTIONS, OPERATION_STATUSES, OPERATION_TYPES } from '../domain.js';

/** How long one reading of PostgreSQL serves scrapes: a scrape storm costs one set of queries per period. */
const SNAPSHOT_TTL_MS = 10_000;
/** Durations and per-sync counts cover the runs of the last day: a bounded read on indexed `created_at`. */
const RECENT_WINDOW = '24 hours';
/** At most this many recent runs or imports are read for the histograms. */
const RECENT_LIMIT = 20_000;
/** No scrape may hold a connection longer than this. */
const STATEMENT_TIMEOUT_MS = 2_000;

interface Snapshot {
  records: { tool: string; state: string; n: number }[];
  operations: { type: string; status: string; n: number }[];
  durations: { type: string; status: string; duration_ms: number }[];
  imports: Record<(typeof FINDING_ACTIONS)[number], number>[];
  toolCalls: { tool: string; error_type: string; calls: string }[];
}

async function readSnapshot(orm: MikroORM): Promise<Snapshot> {
  return orm.em.fork().transactional(async (em) => {
    await em.execute(`set local statement_timeout = ${STATEMENT_TIMEOUT_MS}`);
    await em.execute('set local transaction read only');
    const records = await em.execute<Snapshot['records']>(
      `select c.tool, r.state, count(*)::int as n from tool_record r join connector c on c.id = r.connector_id group by c.tool, r.state`,
    );
    const operations = await em.execute<Snapshot['operations']>(`select type, status, count(*)::int as n from operation group by type, status`);
    const durations = await em.execute<Snapshot['durations']>(
      `select type, status, duration_ms from operation
       where created_at > now() - interval '${RECENT_WINDOW}' and duration_ms is not null and status in ('succeeded', 'failed', 'partial')
       order by created_at desc limit ${RECENT_LIMIT}`,
    );
    const imports = await em.execute<Snapshot['imports']>(
      `select ${FINDING_ACTIONS.map((a) => `"${a}"`).join(', ')} from finding_import
       where created_at > now() - interval '${RECENT_WINDOW}' order by created_at desc limit ${RECENT_LIMIT}`,
    );
    const toolCalls = await em.execute<Snapshot['toolCalls']>('select tool, error_type, calls from tool_api_call');
    return { records, operations, durations, imports, toolCalls };
  });
}

/**
 * The API's `/metrics`: what PostgreSQL says about records, operations and reimports, read at scrape time
 * (the API sees no sync happen; the worker runs them). One snapshot serves all metrics of a scrape and
 * the scrapes of the next few seconds, and only one read is in flight at a time.
 *
 * Gauges count every Record and Operation by state/status. The histograms describe the runs of the last
 * 24 hours as they are now (read them with `histogram_quantile` directly, not through `rate`): operation
 * durations by type and status, and the findings each sync's reimport created, closed, reactivated,
 * updated or left untouched.
 */
export function applicationMetrics(orm: MikroORM): Registry {
  const registry = new Registry();
  let cached: { at: number; snapshot: Promise<Snapshot> } | null = null;
  const snapshot = () => {
    if (!cached || Date.now() - cached.at > SNAPSHOT_TTL_MS) {
      const reading = readSnapshot(orm);
      cached = { at: Date.now(), snapshot: reading };
      // A failed reading is not kept: the next scrape tries again.
      reading.catch(() => {
        if (cached?.snapshot === reading) cached = null;
      });
    }
    return cached.snapshot;
  };

  new Gauge({
    name: 'vulnsync_records',
    help: 'Records by tool and state (new, good, ignored, stale, missing)',
    labelNames: ['tool', 'state'] as const,
    registers: [registry],
    async collect() {
      const { records } = await snapshot();
      this.reset();
      for (const { tool, state, n } of records) this.set({ tool, state }, n);
    },
  });
  new Gauge({
    name: 'vulnsync_operations',
    help: 'Operations (discover and sync runs) by type and status',
    labelNames: ['type', 'status'] as const,
    registers: [registry],
    async collect() {
      const { operations } = await snapshot();
      this.reset();
      for (const type of OPERATION_TYPES) for (const status of OPERATION_STATUSES) this.set({ type, status }, 0);
      for (const { type, status, n } of operations) this.set({ type, status }, n);
    },
  });
  new Histogram({
    name: 'vulnsync_operation_duration_seconds',
    help: 'How long the discover and sync runs of the last 24 hours took, by type and final status',
    labelNames: ['type', 'status'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400],
    registers: [registry],
    async collect() {
      const { durations } = await snapshot();
      this.reset();
      for (const { type, status, duration_ms } of durations) this.observe({ type, status }, duration_ms / 1000);
    },
  });
  new Histogram({
    name: 'vulnsync_sync_findings',
    help: "Findings per record sync's reimport in the last 24 hours, by action (created, closed, reactivated, updated, untouched)",
    labelNames: ['action'] as const,
    buckets: [0, 1, 10, 100, 1000, 10_000, 100_000],
    registers: [registry],
    async collect() {
      const { imports } = await snapshot();
      this.reset();
      for (const counts of imports) for (const action of FINDING_ACTIONS) this.observe({ action }, counts[action]);
    },
  });
  new Counter({
    name: 'vulnsync_tool_api_requests_total',
    help: "Requests every worker sent to a tool's API (each retry counts), by tool; written by the workers every 15 s",
    labelNames: ['tool'] as const,
    registers: [registry],
    async collect() {
      const { toolCalls } = await snapshot();
      this.reset();
      for (const { tool, calls } of toolCalls) this.inc({ tool }, Number(calls));
    },
  });
  new Counter({
    name: 'vulnsync_tool_api_request_errors_total',
    help: "Requests to a tool's API that failed, by tool and error type (AUTH_REJECTED, RATE_LIMITED, TOOL_UNAVAILABLE, ...)",
    labelNames: ['tool', 'type'] as const,
    registers: [registry],
    async collect() {
      const { toolCalls } = await snapshot();
      this.reset();
      for (const { tool, error_type: type, calls } of toolCalls) if (type) this.inc({ tool, type }, Number(calls));
    },
  });
  return registry;
}
