/**
 * The embedded default of `npm run dev`: a bundled demo tool (a local stand-in for a Dependency-Track
 * server, seeded with realistic projects and findings), a connector to it, discovery with auto-map, and
 * a first sync — all through the public API, as a user would do it. Prints where to look.
 */
import { createApiToken } from '../src/api/tokens.js';
import { openDatabase } from '../src/db/database.js';
import type { DemoContext } from '../src/devstack/demo-context.js';
import { DEFAULT_DT_API_KEY, seedDemoData, startDependencyTrackFake } from '../test/fakes/dependency-track.js';

const DEMO_LABEL = 'demo';
const FINAL = new Set(['succeeded', 'failed', 'partial']);

export async function runDemo(ctx: DemoContext): Promise<void> {
  const demoTool = await startDependencyTrackFake({ host: '127.0.0.1', port: Number(ctx.env.VULNSYNC_DEMO_TOOL_PORT ?? 8091) });
  ctx.signal.addEventListener('abort', () => void demoTool.close(), { once: true });
  const seeded = seedDemoData(demoTool.state);
  ctx.log(`demo tool (Dependency-Track stand-in) at ${demoTool.url}: ${seeded.projects} projects, ${seeded.findings} findings`);

  const orm = await openDatabase(ctx.databaseUrl);
  const { token } = await createApiToken(orm.em.fork(), { name: `dev demo ${new Date().toISOString()}`, scope: 'admin' });
  await orm.close();

  async function call(method: string, path: string, body?: unknown): Promise<any> {
    const res = await fetch(`${ctx.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: ctx.signal,
    });
    const json: any = await res.json().catch(() => undefined);
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(json?.error ?? json)}`);
    return json;
  }

  const existing = (await call('GET', '/api/v1/connectors?limit=500')).items.find(
    (c: { tool: string; label: string }) => c.tool === 'dependency_track' && c.label === DEMO_LABEL,
  );
  const settings = { location: demoTool.url, secret: DEFAULT_DT_API_KEY, autoMap: true };
  const connector = existing
    ? await call('PATCH', `/api/v1/connectors/${existing.id}`, settings)
    : await call('POST', '/api/v1/connectors', { tool: 'dependency_track', label: DEMO_LABEL, ...settings });
  await call('POST', `/api/v1/connectors/${connector.id}/check`);
  ctx.log(`connector "${DEMO_LABEL}" (${connector.id}) checked`);

  const started = await call('POST', `/api/v1/connectors/${connector.id}/sync`);
  ctx.log(`sync started — Temporal UI: ${started.temporalUrl}`);
  let op: any;
  do {
    await new Promise((r) => setTimeout(r, 500));
    op = await call('GET', `/api/v1/operations/${started.operationId}`);
  } while (!FINAL.has(op.status) && !ctx.signal.aborted);

  const s = op.summary ?? {};
  ctx.log(`sync ${op.status}: ${s.records ?? 0} records, ${s.fetched ?? 0} findings fetched — ${s.created ?? 0} created, ` +
    `${s.closed ?? 0} closed, ${s.reactivated ?? 0} reactivated, ${s.updated ?? 0} updated, ${s.untouched ?? 0} untouched`);
  if (op.error) ctx.log(`error: ${op.error.type}: ${op.error.message}`);
  ctx.log('look around:');
  ctx.log(`  API token     ${token}`);
  ctx.log(`  findings      curl -H "Authorization: Bearer ${token}" ${ctx.apiUrl}/api/v1/findings`);
  ctx.log(`  operation     ${ctx.apiUrl}/api/v1/operations/${started.operationId}`);
  ctx.log(`  Temporal run  ${started.temporalUrl}`);
  ctx.log(`  API document  ${ctx.apiUrl}/api/v1/openapi.json`);
}
