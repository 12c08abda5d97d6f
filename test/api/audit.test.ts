import { apiRoutes } from '../../src/api/app.js';
import { auditSummary } from '../../src/audit/audit-log.js';
import { createApiToken } from '../../src/api/tokens.js';
import { ToolRecord } from '../../src/db/entities.js';
import { seedFindings, startTestApi, type TestApi } from './api-harness.js';
import type { AnswerBody } from '../support/answers.js';

let api: TestApi;
let operator: { id: string; token: string };

const SECRET = 'audit-secret-9f2c4e7a1b3d5f60';
const NEW_SECRET = 'audit-secret-rotated-0a1b2c3d4e5f';

beforeAll(async () => {
  api = await startTestApi();
  operator = await createApiToken(api.orm.em.fork(), { name: 'operator', scope: 'operate' });
});

afterAll(async () => {
  await api?.close();
});

const unknownUuid = '00000000-0000-4000-8000-000000000000';

async function auditEvents(query = '') {
  const res = await api.call('GET', `/api/v1/audit${query}`);
  expect(res.status).toBe(200);
  return res.body.items as AnswerBody[];
}

describe('audit log', () => {
  test('every route that is not a GET declares the audit action it writes', () => {
    const unaudited = apiRoutes(api.deps)
      .filter((route) => route.method !== 'get' && !route.audit)
      .map((route) => `${route.method.toUpperCase()} ${route.path}`);
    expect(unaudited).toEqual([]);
  });

  test('each audited route writes an event for a failed attempt, naming the actor, action, target and status', async () => {
    for (const route of apiRoutes(api.deps).filter((r) => r.audit)) {
      const id = route.params && !route.params.safeParse({ id: unknownUuid }).success ? '987654321' : unknownUuid;
      const res = await api.call(route.method.toUpperCase(), route.path.replace(':id', id), route.body ? { body: {} } : {});
      expect(res.status).toBeGreaterThanOrEqual(400);
      const [latest] = await auditEvents('?limit=1');
      expect({ route: `${route.method} ${route.path}`, event: latest }).toEqual({
        route: `${route.method} ${route.path}`,
        event: expect.objectContaining({
          actor: { tokenId: expect.any(String), name: 'api-test' },
          action: route.audit!.action,
          target: { type: route.audit!.target, id: route.path.includes(':id') ? id : null },
          outcome: 'failed',
          status: res.status,
          details: expect.objectContaining({ error: res.body.error.code }),
        }),
      });
    }
  });

  test('a scenario of changes is written newest first, with outcomes, and no secret anywhere', async () => {
    const created = await api.call('POST', '/api/v1/connectors', {
      body: { tool: 'dependency_track', label: 'audited', location: 'http://127.0.0.1:9', secret: SECRET },
    });
    expect(created.status).toBe(201);
    const connectorId = created.body.id as string;
    expect((await api.call('PATCH', `/api/v1/connectors/${connectorId}`, { body: { label: 'audited 2', secret: NEW_SECRET } })).status).toBe(200);
    expect((await api.call('PUT', `/api/v1/connectors/${connectorId}/schedule`, { body: { hour: 4, minute: 30, timezone: 'UTC' } })).status).toBe(200);
    expect((await api.call('POST', `/api/v1/connectors/${connectorId}/schedule/pause`, { body: { note: 'holiday' } })).status).toBe(200);
    expect((await api.call('PATCH', `/api/v1/connectors/${connectorId}`, { body: { enabled: false }, token: operator.token })).status).toBe(403);
    const record = api.orm.em.fork();
    const row = record.create(ToolRecord, { connector: connectorId, externalId: 'ext-1', name: 'payments' });
    await record.flush();
    expect((await api.call('POST', `/api/v1/records/${row.id}/map`, { body: { productName: 'Payments' }, token: operator.token })).status).toBe(200);
    const { findingIds } = await seedFindings(api.orm, { connectorId, productName: 'audit-findings', count: 1 });
    expect((await api.call('PATCH', `/api/v1/findings/${findingIds[0]}`, { body: { falsePositive: true }, token: operator.token })).status).toBe(200);
    const token = await api.call('POST', '/api/v1/tokens', { body: { name: 'short-lived', scope: 'read' } });
    expect((await api.call('DELETE', `/api/v1/tokens/${token.body.id}`)).status).toBe(204);

    const events = (await auditEvents('?limit=9')).reverse();
    expect(events.map((e) => [e.action, e.actor.name, e.outcome, e.status, e.target.type, e.target.id])).toEqual([
      ['connector.create', 'api-test', 'succeeded', 201, 'connector', connectorId],
      ['connector.update', 'api-test', 'succeeded', 200, 'connector', connectorId],
      ['schedule.update', 'api-test', 'succeeded', 200, 'schedule', connectorId],
      ['schedule.pause', 'api-test', 'succeeded', 200, 'schedule', connectorId],
      ['connector.update', 'operator', 'failed', 403, 'connector', connectorId],
      ['record.map', 'operator', 'succeeded', 200, 'record', row.id],
      ['finding.triage', 'operator', 'succeeded', 200, 'finding', String(findingIds[0])],
      ['token.create', 'api-test', 'succeeded', 201, 'token', token.body.id],
      ['token.revoke', 'api-test', 'succeeded', 204, 'token', token.body.id],
    ]);
    expect(events[0].details.request).toEqual({ tool: 'dependency_track', label: 'audited', location: 'http://127.0.0.1:9', secret: '[set]' });
    expect(events[1].details.request).toEqual({ label: 'audited 2', secret: '[set]' });
    expect(events[4].details).toEqual({ error: 'FORBIDDEN' });
    expect(events[6].details.request).toEqual({ falsePositive: true });
    expect(events[7].details.request).toEqual({ name: 'short-lived', scope: 'read' });
    expect(events[4].actor.tokenId).toBe(operator.id);
    for (const event of events) expect(Date.parse(event.at)).not.toBeNaN();

    const stored = JSON.stringify(await api.orm.em.fork().getConnection().execute('select * from audit_event'));
    for (const secret of [SECRET, NEW_SECRET, token.body.token]) {
      expect(stored).not.toContain(secret);
      expect(JSON.stringify(events)).not.toContain(secret);
    }
  });

  test('a manual run writes its operation id', async () => {
    const created = await api.call('POST', '/api/v1/connectors', {
      body: { tool: 'dependency_track', label: 'audited run', location: 'http://127.0.0.1:9', secret: SECRET },
    });
    const started = await api.call('POST', `/api/v1/connectors/${created.body.id}/discover`, { token: operator.token });
    expect(started.status).toBe(202);
    const [latest] = await auditEvents('?action=connector.discover&limit=1');
    expect(latest).toMatchObject({ actor: { name: 'operator' }, outcome: 'succeeded', status: 202, details: { operationId: started.body.operationId } });
  });

  test('filters by actor (name or token id), action and since, and pages without repeating or skipping', async () => {
    for (let i = 0; i < 4; i++) {
      expect((await api.call('POST', `/api/v1/records/${unknownUuid}/ignore`, { token: operator.token })).status).toBe(404);
      expect((await api.call('POST', '/api/v1/tokens', { body: { name: `filtered ${i}`, scope: 'read' } })).status).toBe(201);
    }
    const byName = await auditEvents('?actor=operator&limit=500');
    expect(byName.length).toBeGreaterThan(0);
    expect(byName.every((e) => e.actor.name === 'operator')).toBe(true);
    expect(await auditEvents(`?actor=${operator.id}&limit=500`)).toEqual(byName);
    const ignores = await auditEvents('?action=record.ignore&limit=500');
    expect(ignores.length).toBeGreaterThanOrEqual(4);
    expect(new Set(ignores.map((e) => e.action))).toEqual(new Set(['record.ignore']));

    const all = await auditEvents('?limit=500');
    expect(all.map((e) => e.at)).toEqual([...all.map((e) => e.at)].sort().reverse());
    const since = all[2].at as string;
    expect((await auditEvents(`?since=${since}&limit=500`)).every((e) => e.at >= since)).toBe(true);

    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: { id: string }[]; nextCursor: string | null } } = await api.call('GET', `/api/v1/audit?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      paged.push(...res.body.items.map((e) => e.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(paged).toEqual(all.map((e) => e.id));

    expect((await api.call('GET', '/api/v1/audit?since=2024-99-99T99:99:99Z')).status).toBe(400);
    expect((await api.call('GET', '/api/v1/audit?action=connector.explode')).status).toBe(400);
  });

  test('a summary keeps what was asked for and never a secret-like value', () => {
    expect(
      auditSummary({
        label: 'x',
        secret: 'hunter2',
        settings: { apiKey: 'k', token: 't', nested: { password: 'p', deeper: { deepest: { value: 1 } } } },
        description: 'y'.repeat(500),
        tags: Array.from({ length: 25 }, (_, i) => i),
      }),
    ).toEqual({
      label: 'x',
      secret: '[set]',
      settings: { apiKey: '[set]', token: '[set]', nested: { password: '[set]', deeper: '[object]' } },
      description: '[500 characters]',
      tags: [...Array.from({ length: 20 }, (_, i) => i), '[5 more]'],
    });
  });
});
