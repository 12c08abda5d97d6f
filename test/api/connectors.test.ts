import { randomBytes } from 'node:crypto';
import { Client, ScheduleOverlapPolicy } from '@temporalio/client';
import { z } from 'zod';
import { createApp } from '../../src/api/app.js';
import type { ApiDeps } from '../../src/api/deps.js';
import { connectors as shippedConnectors } from '../../src/connectors/index.js';
import { createOutbound } from '../../src/connectors/http/outbound.js';
import { defineConnector } from '../../src/connectors/types.js';
import { Connector, Finding, Operation, Test, ToolRecord } from '../../src/db/entities.js';
import { openConnectorSecret, SecretBox } from '../../src/db/secrets.js';
import { describeConnectorSchedule } from '../../src/temporal/schedules.js';
import { DEFAULT_DT_API_KEY, startDependencyTrackFake, type DependencyTrackFake } from '../fakes/dependency-track.js';
import { listen, seedFindings, startTestApi, TEMPORAL_UI, type TestApi } from './api-harness.js';

/** A tool whose check never answers, to see the API give up on it. */
const silentTool = defineConnector({
  tool: 'silent_tool',
  displayName: 'Silent Tool',
  spec: { settings: z.object({}), secretDescription: 'anything', locationDescription: 'anywhere' },
  matching: 'unique_id_from_tool',
  hashFields: [],
  cursors: { fetch: z.never(), discovery: z.never() },
  check: () => new Promise<void>(() => undefined),
  async *discover() {},
  async *fetchFindings() {},
});

const SECRETS = ['odt-secret-that-must-never-leak-1', 'odt-secret-that-must-never-leak-2', DEFAULT_DT_API_KEY, 'ghp_secret_never_returned'];

let api: TestApi;
let dt: DependencyTrackFake;

beforeAll(async () => {
  api = await startTestApi({ connectors: { ...shippedConnectors, [silentTool.tool]: silentTool }, checkTimeoutMs: 300 });
  dt = await startDependencyTrackFake();
});

afterAll(async () => {
  await dt?.close();
  await api?.close();
  for (const secret of SECRETS) {
    const leaking = api.bodies.filter((body) => body.includes(secret));
    expect(leaking).toEqual([]);
  }
});

/** Runs `use` against a second app over the same database, built with other dependencies, and stops it. */
async function withOtherApp(overrides: Partial<ApiDeps>, use: (url: string) => Promise<void>): Promise<void> {
  const { server, url } = await listen(createApp({ ...api.deps, ...overrides }));
  try {
    await use(url);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

async function createConnector(fields: Record<string, unknown> = {}) {
  const res = await api.call('POST', '/api/v1/connectors', {
    body: { tool: 'dependency_track', label: `dt-${Math.random().toString(36).slice(2)}`, location: dt.url, secret: SECRETS[0], ...fields },
  });
  expect(res.status).toBe(201);
  return res.body as { id: string; label: string; [field: string]: unknown };
}

describe('creating a connector', () => {
  test('answers the connector without its secret, with defaults applied', async () => {
    const res = await api.call('POST', '/api/v1/connectors', {
      body: {
        tool: 'dependency_track',
        label: 'Main DT',
        location: dt.url,
        secret: SECRETS[0],
        minSeverity: 'Low',
        autoMap: true,
        schedule: { hour: 4, minute: 30, timezone: 'Europe/Paris' },
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.any(String),
      tool: 'dependency_track',
      label: 'Main DT',
      location: dt.url,
      settings: { includeInactive: false },
      minSeverity: 'Low',
      autoMap: true,
      enabled: true,
      schedule: { hour: 4, minute: 30, timezone: 'Europe/Paris' },
      hasSecret: true,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const stored = await api.orm.em.fork().findOneOrFail(Connector, { id: res.body.id }, { populate: ['secretEncrypted'] });
    expect(stored.secretEncrypted).not.toContain(SECRETS[0]);
    expect(openConnectorSecret(api.deps.secrets, stored)).toBe(SECRETS[0]);
  });

  test('creates its daily schedule in Temporal: hour, minute and time zone, overlap SKIP', async () => {
    const connector = await createConnector({ schedule: { hour: 22, minute: 15, timezone: 'America/New_York' } });
    const description = await describeConnectorSchedule(api.temporal.client, connector.id);
    expect(description).not.toBeNull();
    expect(description!.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 22, end: 22 }], minute: [{ start: 15, end: 15 }] });
    expect(description!.spec.timezone).toBe('America/New_York');
    expect(description!.policies.overlap).toBe(ScheduleOverlapPolicy.SKIP);
    expect(description!.state.paused).toBe(false);
    expect(description!.action).toMatchObject({ workflowType: 'connectorSync', taskQueue: api.taskQueue });

    const res = await api.call('GET', `/api/v1/connectors/${connector.id}/schedule`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      scheduleId: `connector-${connector.id}-sync`,
      paused: false,
      hour: 22,
      minute: 15,
      timezone: 'America/New_York',
      jitter: '1m',
      overlap: 'SKIP',
      catchupWindow: '10m',
      recentRuns: [],
      temporalUrl: `${TEMPORAL_UI}/namespaces/default/schedules/connector-${connector.id}-sync`,
    });
    expect(res.body.nextRuns.length).toBeGreaterThan(0);
    const next = new Date(res.body.nextRuns[0]);
    const newYorkTime = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour: 'numeric', minute: 'numeric', hour12: false }).format(next);
    expect(newYorkTime).toMatch(/^22:(1[5-6])$/);
  });

  test('validates the settings with the tool schema, naming the field', async () => {
    const res = await api.call('POST', '/api/v1/connectors', {
      body: { tool: 'github', label: 'gh', location: 'https://api.github.com', secret: SECRETS[3], settings: { owner: 42 } },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.details.issues).toEqual([expect.objectContaining({ in: 'body', path: ['settings', 'owner'] })]);
  });

  test('refuses an unknown time zone', async () => {
    for (const timezone of ['Mars/Olympus_Mons', '+01:00', '']) {
      const res = await api.call('POST', '/api/v1/connectors', {
        body: { tool: 'dependency_track', label: 'tz', location: dt.url, secret: SECRETS[0], schedule: { hour: 1, minute: 0, timezone } },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.details.issues[0].path).toEqual(['schedule', 'timezone']);
    }
  });

  test('a second connector of the same tool with the same label is 409', async () => {
    const first = await createConnector();
    const res = await api.call('POST', '/api/v1/connectors', {
      body: { tool: 'dependency_track', label: first.label, location: dt.url, secret: SECRETS[0] },
    });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('label') });
  });

  test('is not left half-created when Temporal refuses the schedule', async () => {
    const brokenClient = new Client({ connection: api.temporal.connection, namespace: 'no-such-namespace' });
    const { server, url } = await listen(createApp({ ...api.deps, client: brokenClient }));
    try {
      const res = await fetch(`${url}/api/v1/connectors`, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tool: 'dependency_track', label: 'half-created', location: dt.url, secret: SECRETS[0] }),
      });
      const text = await res.text();
      expect(res.status).toBeGreaterThanOrEqual(500);
      expect(JSON.parse(text)).toEqual({ error: { code: expect.any(String), message: expect.any(String), details: expect.anything() } });
      expect(text).not.toMatch(/at .*\.ts:\d+/);
      expect(text).not.toContain(SECRETS[0]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await api.orm.em.fork().count(Connector, { label: 'half-created' })).toBe(0);
  });
});

describe('reading and changing connectors', () => {
  test('lists connectors page by page with a cursor', async () => {
    for (let i = 0; i < 3; i++) await createConnector({ label: `paged-${i}` });
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: { items: { id: string }[]; nextCursor: string | null } } = await api.call(
        'GET',
        `/api/v1/connectors?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((c) => c.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 50);
    const all = await api.orm.em.fork().find(Connector, {}, { orderBy: { createdAt: 'asc', id: 'asc' } });
    expect(seen).toEqual(all.map((c) => c.id));
    expect(pages).toBe(Math.ceil(all.length / 2));
  });

  test('PATCH changes fields, replaces the secret, and re-upserts the schedule', async () => {
    const connector = await createConnector();
    const res = await api.call('PATCH', `/api/v1/connectors/${connector.id}`, {
      body: { label: `${connector.label}-renamed`, secret: SECRETS[1], settings: { includeInactive: true }, minSeverity: 'High', schedule: { hour: 7 } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      label: `${connector.label}-renamed`,
      settings: { includeInactive: true },
      minSeverity: 'High',
      schedule: { hour: 7, minute: 0, timezone: 'UTC' },
      hasSecret: true,
    });
    expect(res.body).not.toHaveProperty('secret');
    const stored = await api.orm.em.fork().findOneOrFail(Connector, { id: connector.id }, { populate: ['secretEncrypted'] });
    expect(openConnectorSecret(api.deps.secrets, stored)).toBe(SECRETS[1]);
    const description = await describeConnectorSchedule(api.temporal.client, connector.id);
    expect(description!.spec.calendars?.[0]?.hour).toEqual([expect.objectContaining({ start: 7 })]);
    expect((description!.action as { staticSummary?: string }).staticSummary ?? '').toContain(`${connector.label}-renamed`);

    const invalid = await api.call('PATCH', `/api/v1/connectors/${connector.id}`, { body: { settings: { includeInactive: 'yes' } } });
    expect(invalid.status).toBe(400);
    const unknownField = await api.call('PATCH', `/api/v1/connectors/${connector.id}`, { body: { secretEncrypted: 'x' } });
    expect(unknownField.status).toBe(400);
  });

  test('a disabled connector has its schedule paused, and cannot be synced or discovered until enabled again', async () => {
    const connector = await createConnector();
    const disabled = await api.call('PATCH', `/api/v1/connectors/${connector.id}`, { body: { enabled: false } });
    expect(disabled.body.enabled).toBe(false);
    expect((await describeConnectorSchedule(api.temporal.client, connector.id))!.state).toMatchObject({ paused: true, note: 'connector disabled' });
    for (const action of ['sync', 'discover']) {
      const res = await api.call('POST', `/api/v1/connectors/${connector.id}/${action}`);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('CONNECTOR_DISABLED');
    }
    expect((await api.call('POST', `/api/v1/connectors/${connector.id}/schedule/unpause`)).status).toBe(409);
    await api.call('PATCH', `/api/v1/connectors/${connector.id}`, { body: { enabled: true } });
    expect((await describeConnectorSchedule(api.temporal.client, connector.id))!.state.paused).toBe(false);
  });
});

describe('the schedule', () => {
  test('PUT sets the time in the connector and in Temporal', async () => {
    const connector = await createConnector();
    const res = await api.call('PUT', `/api/v1/connectors/${connector.id}/schedule`, { body: { hour: 5, minute: 45, timezone: 'Asia/Tokyo' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ hour: 5, minute: 45, timezone: 'Asia/Tokyo', paused: false });
    const description = await describeConnectorSchedule(api.temporal.client, connector.id);
    expect(description!.spec.timezone).toBe('Asia/Tokyo');
    expect(description!.spec.calendars?.[0]).toMatchObject({ hour: [{ start: 5 }], minute: [{ start: 45 }] });
    expect((await api.call('GET', `/api/v1/connectors/${connector.id}`)).body.schedule).toEqual({ hour: 5, minute: 45, timezone: 'Asia/Tokyo' });

    expect((await api.call('PUT', `/api/v1/connectors/${connector.id}/schedule`, { body: { hour: 24, minute: 0, timezone: 'UTC' } })).status).toBe(400);
  });

  test('pause and unpause act on the Temporal schedule; a person’s pause survives other changes', async () => {
    const connector = await createConnector();
    const paused = await api.call('POST', `/api/v1/connectors/${connector.id}/schedule/pause`, { body: { note: 'tool maintenance' } });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ paused: true, note: 'tool maintenance' });
    expect((await describeConnectorSchedule(api.temporal.client, connector.id))!.state).toMatchObject({ paused: true, note: 'tool maintenance' });

    await api.call('PATCH', `/api/v1/connectors/${connector.id}`, { body: { label: `${connector.label}-x` } });
    expect((await describeConnectorSchedule(api.temporal.client, connector.id))!.state.paused).toBe(true);

    const unpaused = await api.call('POST', `/api/v1/connectors/${connector.id}/schedule/unpause`);
    expect(unpaused.status).toBe(200);
    expect(unpaused.body.paused).toBe(false);
    expect((await describeConnectorSchedule(api.temporal.client, connector.id))!.state.paused).toBe(false);
  });

  test('a schedule missing in Temporal is 404 until PUT re-creates it', async () => {
    const connector = await createConnector();
    await api.temporal.client.schedule.getHandle(`connector-${connector.id}-sync`).delete();
    const missing = await api.call('GET', `/api/v1/connectors/${connector.id}/schedule`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('SCHEDULE_NOT_FOUND');
    expect((await api.call('POST', `/api/v1/connectors/${connector.id}/schedule/pause`)).status).toBe(404);
    const recreated = await api.call('PUT', `/api/v1/connectors/${connector.id}/schedule`, { body: { hour: 3, minute: 0, timezone: 'UTC' } });
    expect(recreated.status).toBe(200);
  });
});

describe('checking a connector', () => {
  test('answers ok when the tool accepts the credentials', async () => {
    const connector = await createConnector({ secret: DEFAULT_DT_API_KEY });
    const res = await api.call('POST', `/api/v1/connectors/${connector.id}/check`);
    expect(res.body).toEqual({ ok: true });
    expect(res.status).toBe(200);
  });

  test('answers 422 with the error type when the tool refuses them', async () => {
    const connector = await createConnector({ secret: SECRETS[0] });
    const res = await api.call('POST', `/api/v1/connectors/${connector.id}/check`);
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'AUTH_REJECTED', message: expect.any(String) });
  });

  test('answers 422 CONFIG_INVALID when the stored secret was sealed with another key', async () => {
    const connector = await createConnector({ secret: DEFAULT_DT_API_KEY });
    await withOtherApp({ secrets: new SecretBox(randomBytes(32).toString('base64')) }, async (url) => {
      const res = await fetch(`${url}/api/v1/connectors/${connector.id}/check`, { method: 'POST', headers: { authorization: `Bearer ${api.token}` } });
      expect(res.status).toBe(422);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('CONFIG_INVALID');
    });
  });

  test('gives up on a tool that does not answer', async () => {
    const res = await api.call('POST', '/api/v1/connectors', {
      body: { tool: 'silent_tool', label: 'silent', location: 'http://127.0.0.1:9', secret: 'silent-secret' },
    });
    const check = await api.call('POST', `/api/v1/connectors/${res.body.id}/check`);
    expect(check.status).toBe(422);
    expect(check.body.error.code).toBe('TOOL_UNAVAILABLE');
  });
});

describe("a connector's secret stays with its location", () => {
  let elsewhere: DependencyTrackFake;
  beforeAll(async () => {
    elsewhere = await startDependencyTrackFake();
  });
  afterAll(async () => {
    await elsewhere?.close();
  });

  /** Runs the connector's check and counts the requests each fake received for it. */
  async function checkGoesTo(id: string) {
    dt.state.requests = [];
    elsewhere.state.requests = [];
    const status = (await api.call('POST', `/api/v1/connectors/${id}/check`)).status;
    return { status, oldOrigin: dt.state.requests.length, newOrigin: elsewhere.state.requests.length };
  }

  async function storedRow(id: string) {
    return api.orm.em.fork().findOneOrFail(Connector, { id }, { populate: ['secretEncrypted'] });
  }

  test('moving to another origin without the secret is 400 SECRET_REQUIRED: nothing stored, nothing sent there', async () => {
    const connector = await createConnector({ secret: DEFAULT_DT_API_KEY });
    const before = await storedRow(connector.id);
    elsewhere.state.requests = [];
    for (const location of [elsewhere.url, dt.url.replace('http:', 'https:'), `${dt.url.replace(/:\d+$/, '')}:1`]) {
      const res = await api.call('PATCH', `/api/v1/connectors/${connector.id}`, { body: { location, label: `${connector.label}-moved` } });
      expect({ location, status: res.status }).toEqual({ location, status: 400 });
      expect(res.body).toEqual({ error: { code: 'SECRET_REQUIRED', message: expect.stringContaining('needs its secret'), details: expect.anything() } });
    }
    const after = await storedRow(connector.id);
    expect({ location: after.location, label: after.label, secret: after.secretEncrypted }).toEqual({
      location: before.location,
      label: before.label,
      secret: before.secretEncrypted,
    });
    expect(elsewhere.state.requests).toEqual([]);
    expect(await checkGoesTo(connector.id)).toEqual({ status: 200, oldOrigin: 1, newOrigin: 0 });
  });

  test('moving with the secret in the same request works, and the check then goes to the new origin', async () => {
    const connector = await createConnector({ secret: DEFAULT_DT_API_KEY });
    const res = await api.call('PATCH', `/api/v1/connectors/${connector.id}`, { body: { location: elsewhere.url, secret: DEFAULT_DT_API_KEY } });
    expect(res.status).toBe(200);
    expect(await checkGoesTo(connector.id)).toEqual({ status: 200, oldOrigin: 0, newOrigin: 1 });
  });

  test('a change of path on the same origin keeps the secret', async () => {
    const connector = await createConnector({ secret: DEFAULT_DT_API_KEY });
    const res = await api.call('PATCH', `/api/v1/connectors/${connector.id}`, { body: { location: `${dt.url}/api/v1` } });
    expect(res.status).toBe(200);
    expect(res.body.location).toBe(`${dt.url}/api/v1`);
    expect(await checkGoesTo(connector.id)).toEqual({ status: 200, oldOrigin: 1, newOrigin: 0 });
  });

  test('a sealed secret copied to another connector row does not open: the check answers 422 CONFIG_INVALID', async () => {
    const source = await createConnector({ secret: DEFAULT_DT_API_KEY });
    const target = await createConnector({ secret: SECRETS[1] });
    const em = api.orm.em.fork();
    await em.nativeUpdate(Connector, { id: target.id }, { secretEncrypted: (await storedRow(source.id)).secretEncrypted });
    dt.state.requests = [];
    const res = await api.call('POST', `/api/v1/connectors/${target.id}/check`);
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('does not belong to this connector') });
    expect(dt.state.requests).toEqual([]);
  });

  test('a sealed secret whose origin was changed in the database does not open', async () => {
    const connector = await createConnector({ secret: DEFAULT_DT_API_KEY });
    await api.orm.em.fork().nativeUpdate(Connector, { id: connector.id }, { location: elsewhere.url });
    elsewhere.state.requests = [];
    const res = await api.call('POST', `/api/v1/connectors/${connector.id}/check`);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('CONFIG_INVALID');
    expect(elsewhere.state.requests).toEqual([]);
  });
});

describe('where a connector may point', () => {
  const base = () => ({ tool: 'dependency_track', label: `where-${Math.random().toString(36).slice(2)}`, secret: SECRETS[0] });

  test.each([
    ['user info', 'https://admin:hunter2@dtrack.example.com', 'must not contain user info'],
    ['a user name alone', 'https://admin@dtrack.example.com', 'must not contain user info'],
    ['another scheme', 'ftp://dtrack.example.com', 'http(s) URL'],
    ['a cloud metadata address', 'http://169.254.169.254/latest', '169.254.0.0/16'],
    ['an IPv4-mapped metadata address', 'http://[::ffff:169.254.169.254]/', '169.254.0.0/16'],
  ])('a location with %s is 400 on create and on patch', async (_what, location, message) => {
    const created = await api.call('POST', '/api/v1/connectors', { body: { ...base(), location } });
    expect(created.status).toBe(400);
    expect(created.body.error.details.issues).toEqual([expect.objectContaining({ in: 'body', path: ['location'], message: expect.stringContaining(message) })]);
    expect(created.text).not.toContain('hunter2');

    const connector = await createConnector();
    const patched = await api.call('PATCH', `/api/v1/connectors/${connector.id}`, { body: { location, secret: SECRETS[1] } });
    expect(patched.status).toBe(400);
    expect(patched.text).not.toContain('hunter2');
  });

  test('a secret shorter than the tool accepts is 400 on create and on patch', async () => {
    const short = await api.call('POST', '/api/v1/connectors', { body: { ...base(), location: dt.url, secret: 'odt_short' } });
    expect(short.status).toBe(400);
    expect(short.body.error).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('at least 16 characters') });
    expect(short.body.error.details.issues).toEqual([expect.objectContaining({ in: 'body', path: ['secret'] })]);
    expect(short.text).not.toContain('odt_short');

    const connector = await createConnector();
    expect((await api.call('PATCH', `/api/v1/connectors/${connector.id}`, { body: { secret: 'ghp_x' } })).status).toBe(400);
    const github = await api.call('POST', '/api/v1/connectors', {
      body: { tool: 'github', label: `gh-${connector.id}`, location: 'https://api.github.com', secret: 'ghp_tooShort123', settings: { owner: 'acme' } },
    });
    expect(github.status).toBe(400);
    expect(github.body.error.message).toContain('at least 20 characters for GitHub');

    const tools = await api.call('GET', '/api/v1/tools');
    const minimum = Object.fromEntries(tools.body.items.map((t: { tool: string; minSecretLength: number }) => [t.tool, t.minSecretLength]));
    expect(minimum).toMatchObject({ dependency_track: 16, github: 20, silent_tool: 8 });
  });

  test('with http not allowed, only https locations are accepted', async () => {
    await withOtherApp({ outbound: createOutbound({ allowHttp: false }) }, async (url) => {
      const res = await fetch(`${url}/api/v1/connectors`, {
        method: 'POST',
        headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...base(), location: dt.url }),
      });
      expect(res.status).toBe(400);
      expect(JSON.stringify(await res.json())).toContain('must be an https URL');
    });
  });

  test('a check whose location resolves to a refused network answers 422 CONFIG_INVALID and sends nothing', async () => {
    const connector = await createConnector({ secret: DEFAULT_DT_API_KEY, location: dt.url.replace('127.0.0.1', 'localhost') });
    const denying = createOutbound({ denyNetworks: ['127.0.0.0/8', '::1/128'] });
    await withOtherApp({ outbound: denying }, async (url) => {
      dt.state.requests = [];
      const res = await fetch(`${url}/api/v1/connectors/${connector.id}/check`, { method: 'POST', headers: { authorization: `Bearer ${api.token}` } });
      expect(res.status).toBe(422);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('CONFIG_INVALID');
      expect(body.error.message).toMatch(/does not connect to localhost \((127\.0\.0\.1|::1)\)/);
      expect(dt.state.requests).toEqual([]);
    });
  });
});

describe('starting runs', () => {
  test('discover answers 202 with the operation and the Temporal run', async () => {
    const connector = await createConnector();
    const res = await api.call('POST', `/api/v1/connectors/${connector.id}/discover`);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ operationId: expect.any(String), workflowId: expect.any(String), runId: expect.any(String), temporalUrl: expect.any(String) });
    expect(res.body.temporalUrl).toBe(`${TEMPORAL_UI}/namespaces/default/workflows/${encodeURIComponent(res.body.workflowId)}/${res.body.runId}/history`);
    const op = await api.orm.em.fork().findOneOrFail(Operation, { id: res.body.operationId });
    expect(op).toMatchObject({ type: 'discover', trigger: 'manual', workflowId: res.body.workflowId, runId: res.body.runId });
    const run = await api.temporal.client.workflow.getHandle(res.body.workflowId, res.body.runId).describe();
    expect(run.type).toBe('connectorDiscover');
    expect(run.taskQueue).toBe(api.taskQueue);

    const polled = await api.call('GET', `/api/v1/operations/${res.body.operationId}`);
    expect(polled.status).toBe(200);
    expect(polled.body).toMatchObject({ id: res.body.operationId, status: 'pending', type: 'discover', connectorId: connector.id, temporalUrl: res.body.temporalUrl });
  });

  test('sync answers 202, and a second sync while it runs joins it', async () => {
    const connector = await createConnector();
    const first = await api.call('POST', `/api/v1/connectors/${connector.id}/sync`);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ attached: false, operationId: expect.any(String), runId: expect.any(String) });
    const second = await api.call('POST', `/api/v1/connectors/${connector.id}/sync`);
    expect(second.status).toBe(202);
    expect(second.body).toMatchObject({ attached: true, operationId: first.body.operationId, workflowId: first.body.workflowId });
  });
});

describe('deleting a connector', () => {
  test('removes the connector, its records and its schedule, and keeps its findings', async () => {
    const connector = await createConnector();
    const em = api.orm.em.fork();
    em.create(ToolRecord, { connector: connector.id, externalId: 'p-1', name: 'project one' });
    await em.flush();
    const seeded = await seedFindings(api.orm, { connectorId: connector.id, productName: `kept-${connector.id}`, count: 3 });

    const res = await api.call('DELETE', `/api/v1/connectors/${connector.id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect((await api.call('GET', `/api/v1/connectors/${connector.id}`)).status).toBe(404);
    expect(await describeConnectorSchedule(api.temporal.client, connector.id)).toBeNull();

    const after = api.orm.em.fork();
    expect(await after.count(ToolRecord, { connector: connector.id })).toBe(0);
    expect(await after.count(Finding, { id: { $in: seeded.findingIds } })).toBe(3);
    const test = await after.findOneOrFail(Test, { id: seeded.testId });
    expect(test.connector).toBeNull();
    expect((await api.call('GET', `/api/v1/findings?testId=${seeded.testId}`)).body.items).toHaveLength(3);

    expect((await api.call('DELETE', `/api/v1/connectors/${connector.id}`)).status).toBe(404);
  });
});
