/**
 * The embedded default of `npm run dev`: bundled demo tools (local stand-ins for Dependency-Track, GitHub and
 * SonarQube, seeded with realistic projects and findings), a connector to each, discovery with auto-map, and
 * a first sync — all through the public API, as a user would do it. Prints per tool what it did and where to look.
 */
import { createApiToken } from '../src/api/tokens.js';
import { openDatabase } from '../src/db/database.js';
import type { DemoContext } from '../src/devstack/demo-context.js';
import { startDemoTools, type DemoTool } from '../src/devstack/demo-tools.js';

const DEMO_LABEL = 'demo';
const FINAL = new Set(['succeeded', 'failed', 'partial']);
/** Where the first demo tool listens (the others on the ports after it); 0 for free ports. */
const DEFAULT_DEMO_TOOL_PORT = 8091;

interface Operation {
  id: string;
  status: string;
  summary: Record<string, unknown> | null;
  error: { type: string; message: string } | null;
  temporalUrl: string;
}

/** What the demo did with one tool. */
export interface DemoOutcome {
  tool: string;
  name: string;
  connectorId: string;
  seeded: DemoTool['seeded'];
  discover: Operation;
  sync: Operation;
}

const count = (summary: Record<string, unknown> | null, key: string) => (typeof summary?.[key] === 'number' ? summary[key] : 0);

export async function runDemo(ctx: DemoContext): Promise<DemoOutcome[]> {
  const base = Number(ctx.env.VULNSYNC_DEMO_TOOL_PORT ?? process.env.VULNSYNC_DEMO_TOOL_PORT ?? DEFAULT_DEMO_TOOL_PORT);
  const tools = await startDemoTools({ host: '127.0.0.1', basePort: base === 0 ? undefined : base });
  ctx.signal.addEventListener('abort', () => void Promise.all(tools.map((tool) => tool.close())), { once: true });
  for (const tool of tools) ctx.log(`demo ${tool.name} at ${tool.url}: ${tool.seeded.records} records, ${tool.seeded.findings} current findings`);

  const orm = await openDatabase(ctx.databaseUrl);
  const { token } = await createApiToken(orm.em.fork(), { name: `dev demo ${new Date().toISOString()}`, scope: 'admin' });
  await orm.close();

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${ctx.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: ctx.signal,
    });
    const json: unknown = await res.json().catch(() => undefined);
    if (!res.ok) {
      const said = typeof json === 'object' && json !== null && 'error' in json ? json.error : json;
      throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(said)}`);
    }
    return json as T;
  }

  async function finished(started: { operationId: string }): Promise<Operation> {
    for (;;) {
      const op = await call<Operation>('GET', `/api/v1/operations/${started.operationId}`);
      if (FINAL.has(op.status) || ctx.signal.aborted) return op;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  const { items: existing } = await call<{ items: { id: string; tool: string; label: string }[] }>('GET', '/api/v1/connectors?limit=500');
  const outcomes: DemoOutcome[] = [];
  for (const tool of tools) {
    const fields = { location: tool.url, secret: tool.secret, settings: tool.settings, autoMap: true };
    const known = existing.find((c) => c.tool === tool.tool && c.label === DEMO_LABEL);
    const connector = known
      ? await call<{ id: string }>('PATCH', `/api/v1/connectors/${known.id}`, fields)
      : await call<{ id: string }>('POST', '/api/v1/connectors', { tool: tool.tool, label: DEMO_LABEL, ...fields });
    await call('POST', `/api/v1/connectors/${connector.id}/check`);
    const discover = await finished(await call('POST', `/api/v1/connectors/${connector.id}/discover`));
    const sync = await finished(await call('POST', `/api/v1/connectors/${connector.id}/sync`));
    outcomes.push({ tool: tool.tool, name: tool.name, connectorId: connector.id, seeded: tool.seeded, discover, sync });

    const d = discover.summary;
    const s = sync.summary;
    ctx.log(`${tool.name}: connector "${DEMO_LABEL}" (${connector.id}) checked; discover ${discover.status}: ${count(d, 'discovered')} records (${count(d, 'created')} new, ${count(d, 'mapped')} newly mapped)`);
    ctx.log(`${tool.name}: sync ${sync.status}: ${count(s, 'records')} records, ${count(s, 'fetched')} findings fetched — ${count(s, 'created')} created, ` +
      `${count(s, 'closed')} closed, ${count(s, 'reactivated')} reactivated, ${count(s, 'updated')} updated, ${count(s, 'untouched')} untouched`);
    for (const op of [discover, sync]) if (op.error) ctx.log(`${tool.name}: error: ${op.error.type}: ${op.error.message}`);
    ctx.log(`${tool.name}: Temporal run ${sync.temporalUrl}`);
  }

  ctx.log('look around:');
  ctx.log(`  operator page ${ctx.apiUrl}/ui/ (sign in with the API token)`);
  ctx.log(`  API token     ${token}`);
  ctx.log(`  findings      curl -H "Authorization: Bearer ${token}" ${ctx.apiUrl}/api/v1/findings`);
  ctx.log(`  operations    curl -H "Authorization: Bearer ${token}" ${ctx.apiUrl}/api/v1/operations`);
  ctx.log(`  API document  ${ctx.apiUrl}/api/v1/openapi.json (Swagger UI: ${ctx.apiUrl}/api/v1/docs/)`);
  ctx.log(`  metrics       ${ctx.apiUrl}/metrics`);
  return outcomes;
}
