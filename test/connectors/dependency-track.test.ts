import { RESTART_FETCH, isRestartCursor } from '../../src/connectors/types.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createDependencyTrackConnector, dependencyTrack } from '../../src/connectors/dependency-track/index.js';
import type { ConnectorConfig, FindingPage, NormalizedFinding } from '../../src/connectors/types.js';
import type { DependencyTrackSettings } from '../../src/connectors/dependency-track/index.js';
import {
  DEFAULT_DT_API_KEY,
  dtFinding,
  dtProject,
  seedDemoData,
  startDependencyTrackFake,
  type DependencyTrackFake,
  type DtProjectJson,
} from '../fakes/dependency-track.js';
import { MALFORMED_JSON } from '../fakes/fake-server.js';
import { FAST_RETRIES, collect, connectorErrorOf, testContext, unreachableUrl } from './connector-context.js';

const connector = createDependencyTrackConnector({ ...FAST_RETRIES, projectPageSize: 2, findingsPageSize: 3 });

let fake: DependencyTrackFake;
let config: ConnectorConfig<DependencyTrackSettings>;
let shop: DtProjectJson;

beforeAll(async () => {
  fake = await startDependencyTrackFake();
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.state.requests = [];
  fake.state.faults = [];
  fake.state.permissions = ['VIEW_PORTFOLIO', 'VIEW_VULNERABILITY'];
  shop = dtProject({ name: 'shop', version: '1.0.0' });
  fake.state.projects = [
    shop,
    dtProject({ name: 'billing' }),
    dtProject({ name: 'catalog', version: '3.2' }),
    dtProject({ name: 'legacy-portal', version: '0.9', active: false }),
    dtProject({ name: 'search', version: '2.0.0' }),
    dtProject({ name: 'warehouse', version: '7' }),
  ];
  fake.state.findings = {
    [shop.uuid]: [
      dtFinding(shop, { group: 'org.apache.logging.log4j', name: 'log4j-core', version: '2.14.1' }, {
        vulnId: 'CVE-2021-44228',
        severity: 'CRITICAL',
        cvssV3BaseScore: 10,
        cvssV3Vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
        cwes: [502, 917],
        aliases: [{ cveId: 'CVE-2021-44228', ghsaId: 'GHSA-jfh8-c2jp-5v3q' }],
        description: 'JNDI lookups in log messages allow remote code execution.',
        recommendation: 'Upgrade to 2.17.1',
      }),
      dtFinding(shop, { name: 'lodash', version: '4.17.15' }, { vulnId: 'CVE-2020-8203', severity: 'HIGH' }),
      dtFinding(shop, { name: 'axios', version: '0.21.0' }, { vulnId: 'CVE-2020-28168', severity: 'MEDIUM' }, { state: 'FALSE_POSITIVE' }),
      dtFinding(shop, { name: 'guava', version: '30.1' }, { vulnId: 'CVE-2020-8908', severity: 'LOW' }, { state: 'EXPLOITABLE', isSuppressed: true }),
      dtFinding(shop, { name: 'debug', version: '2.6.8' }, { vulnId: 'GHSA-gxpj-cx7g-858c', source: 'GITHUB', severity: 'UNASSIGNED' }),
      dtFinding(shop, { name: 'ws', version: '7.4.5' }, { vulnId: 'CVE-2021-32640', severity: 'INFO' }, { state: 'NOT_AFFECTED' }),
      dtFinding(shop, { name: 'semver', version: '5.7.1' }, { vulnId: 'CVE-2022-25883', severity: 'MEDIUM' }),
    ],
  };
  config = { location: fake.url, secret: DEFAULT_DT_API_KEY, settings: { includeInactive: false } };
});

const shopRecord = () => ({ externalId: shop.uuid, name: 'shop 1.0.0', metadata: null });
const allFindings = (pages: FindingPage[]): NormalizedFinding[] => pages.flatMap((p) => p.findings);
const byVuln = (findings: NormalizedFinding[], vulnId: string) => {
  const found = findings.find((f) => f.vulnIdFromTool === vulnId);
  if (!found) throw new Error(`no finding for ${vulnId} among ${findings.map((f) => f.vulnIdFromTool).join(', ')}`);
  return found;
};

describe('Dependency-Track connector: identity', () => {
  it('is the shipped connector, with hash_code matching on component and vulnerability ids', () => {
    expect(dependencyTrack.tool).toBe('dependency_track');
    expect(dependencyTrack.displayName).toBe('Dependency-Track');
    expect(dependencyTrack.matching).toBe('hash_code');
    expect(dependencyTrack.hashFields).toEqual(['componentName', 'componentVersion', 'vulnerabilityIds']);
  });
});

describe('check', () => {
  it('succeeds with a valid key, in one authenticated call', async () => {
    await connector.open(config).check(testContext());
    expect(fake.state.requests).toHaveLength(1);
    expect(fake.state.requests[0]).toMatchObject({ path: '/api/v1/project', query: { pageNumber: '1', pageSize: '1' } });
    expect(fake.state.requests[0]!.headers['x-api-key']).toBe('[redacted]');
  });

  it('accepts the location with /api appended', async () => {
    await connector.open({ ...config, location: `${fake.url}/api/` }).check(testContext());
    expect(fake.state.requests[0]!.path).toBe('/api/v1/project');
  });

  it('reports a wrong key as AUTH_REJECTED without revealing it', async () => {
    const error = await connectorErrorOf(() => connector.open({ ...config, secret: 'odt_wrongKey123456789' }).check(testContext()));
    expect(error.type).toBe('AUTH_REJECTED');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('Dependency-Track rejected the API key (401) at GET /api/v1/project');
    expect(error.message).not.toContain('odt_wrongKey123456789');
    expect(JSON.stringify(error.details)).not.toContain('odt_wrongKey123456789');
  });

  it('names the missing permissions when the key is valid but not allowed', async () => {
    fake.state.permissions = ['VIEW_VULNERABILITY'];
    const error = await connectorErrorOf(() => connector.open(config).check(testContext()));
    expect(error.type).toBe('AUTH_REJECTED');
    expect(error.message).toContain('(403)');
    expect(error.message).toContain('VIEW_PORTFOLIO');
  });

  it('reports a location without the API as CONFIG_INVALID', async () => {
    const error = await connectorErrorOf(() => connector.open({ ...config, location: `${fake.url}/dtrack` }).check(testContext()));
    expect(error.type).toBe('CONFIG_INVALID');
    expect(error.message).toContain('API not found');
  });

  it('reports a location serving a web page (the frontend) as CONFIG_INVALID', async () => {
    fake.inject({ respond: { status: 200, headers: { 'Content-Type': 'text/html' }, rawBody: '<!doctype html><title>Dependency-Track</title>' } });
    const error = await connectorErrorOf(() => connector.open(config).check(testContext()));
    expect(error.type).toBe('CONFIG_INVALID');
    expect(error.message).toContain('not the frontend');
  });

  it('reports a location that is not a URL as CONFIG_INVALID', async () => {
    const error = await connectorErrorOf(() => connector.open({ ...config, location: 'dtrack.example.com' }).check(testContext()));
    expect(error.type).toBe('CONFIG_INVALID');
  });

  it('reports an unreachable server as TOOL_UNAVAILABLE (retryable)', async () => {
    const error = await connectorErrorOf(async () => connector.open({ ...config, location: await unreachableUrl() }).check(testContext()));
    expect(error.type).toBe('TOOL_UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('could not be reached');
  });
});

describe('discover', () => {
  it('lists every active project across pages, named "<name> <version>"', async () => {
    const records = await collect(connector.open(config).discover(testContext()));
    expect(records.map((r) => r.name)).toEqual(['billing', 'catalog 3.2', 'search 2.0.0', 'shop 1.0.0', 'warehouse 7']);
    expect(records.find((r) => r.name === 'shop 1.0.0')).toEqual({
      externalId: shop.uuid,
      name: 'shop 1.0.0',
      metadata: expect.objectContaining({ projectName: 'shop', version: '1.0.0', active: true, classifier: 'APPLICATION' }),
    });
    const pageRequests = fake.state.requests.filter((r) => r.path === '/api/v1/project');
    expect(pageRequests.map((r) => r.query)).toEqual([1, 2, 3].map((n) => ({ pageNumber: String(n), pageSize: '2', excludeInactive: 'true' })));
  });

  it('includes inactive projects when the settings say so', async () => {
    const records = await collect(connector.open({ ...config, settings: { includeInactive: true } }).discover(testContext()));
    expect(records).toHaveLength(6);
    expect(records.find((r) => r.name === 'legacy-portal 0.9')?.metadata).toMatchObject({ active: false });
  });

  it('rejects invalid settings as CONFIG_INVALID', async () => {
    const bad = { ...config, settings: { includeInactive: 'yes' } };
    const error = await connectorErrorOf(() => collect(connector.open(bad).discover(testContext())));
    expect(error.type).toBe('CONFIG_INVALID');
    expect(error.message).toContain('includeInactive');
  });
});

describe('fetchFindings', () => {
  it('asks for suppressed findings too and maps each one', async () => {
    const pages = await collect(connector.open(config).fetchFindings(shopRecord(), null, testContext()));
    expect(fake.state.requests.map((r) => [r.path, r.query])).toEqual([[`/api/v1/finding/project/${shop.uuid}`, { suppressed: 'true' }]]);
    const findings = allFindings(pages);
    expect(findings).toHaveLength(7);

    const log4shell = byVuln(findings, 'CVE-2021-44228');
    const item = fake.state.findings[shop.uuid]![0]!;
    expect(log4shell).toEqual({
      title: 'CVE-2021-44228 in org.apache.logging.log4j/log4j-core@2.14.1',
      severity: 'Critical',
      description: 'JNDI lookups in log messages allow remote code execution.',
      mitigation: 'Upgrade to 2.17.1',
      references: 'https://nvd.nist.gov/vuln/detail/CVE-2021-44228',
      cwes: [502, 917],
      vulnerabilityIds: ['CVE-2021-44228', 'GHSA-jfh8-c2jp-5v3q'],
      cvssVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
      cvssScore: 10,
      componentName: 'log4j-core',
      componentVersion: '2.14.1',
      uniqueIdFromTool: item.matrix,
      vulnIdFromTool: 'CVE-2021-44228',
      verified: false,
      falseP: false,
      riskAccepted: false,
      raw: item,
    });
    expect(log4shell.uniqueIdFromTool).toBe(`${shop.uuid}:${item.component.uuid}:${item.vulnerability.uuid}`);
  });

  it('maps severities, with UNASSIGNED as Info', async () => {
    const findings = allFindings(await collect(connector.open(config).fetchFindings(shopRecord(), null, testContext())));
    expect(Object.fromEntries(findings.map((f) => [f.vulnIdFromTool, f.severity]))).toEqual({
      'CVE-2021-44228': 'Critical',
      'CVE-2020-8203': 'High',
      'CVE-2020-28168': 'Medium',
      'CVE-2020-8908': 'Low',
      'CVE-2021-32640': 'Info',
      'GHSA-gxpj-cx7g-858c': 'Info',
      'CVE-2022-25883': 'Medium',
    });
  });

  it('maps triage: false positive and not affected → false_p, suppressed → risk accepted, others open', async () => {
    const findings = allFindings(await collect(connector.open(config).fetchFindings(shopRecord(), null, testContext())));
    const triage = (id: string) => ({ falseP: byVuln(findings, id).falseP, riskAccepted: byVuln(findings, id).riskAccepted });
    expect(triage('CVE-2020-28168')).toEqual({ falseP: true, riskAccepted: false });
    expect(triage('CVE-2021-32640')).toEqual({ falseP: true, riskAccepted: false });
    expect(triage('CVE-2020-8908')).toEqual({ falseP: false, riskAccepted: true });
    expect(triage('CVE-2020-8203')).toEqual({ falseP: false, riskAccepted: false });
  });

  it('maps an EXPLOITABLE analysis as verified, and no other state; gives no endpoint (the tool has no URL per finding)', async () => {
    fake.state.findings[shop.uuid]!.push(
      dtFinding(shop, { name: 'minimist', version: '1.2.5' }, { vulnId: 'CVE-2021-44906', severity: 'CRITICAL' }, { state: 'IN_TRIAGE' }),
    );
    const findings = allFindings(await collect(connector.open(config).fetchFindings(shopRecord(), null, testContext())));
    const verified = findings.filter((f) => f.verified).map((f) => f.vulnIdFromTool);
    expect(verified).toEqual(['CVE-2020-8908']);
    expect(byVuln(findings, 'CVE-2021-44906').verified).toBe(false);
    expect(findings.every((f) => f.endpoint === undefined || f.endpoint === null)).toBe(true);
  });

  it('fills every hash field of every finding', async () => {
    const findings = allFindings(await collect(connector.open(config).fetchFindings(shopRecord(), null, testContext())));
    for (const finding of findings) {
      for (const field of connector.hashFields) expect(finding[field]).toBeTruthy();
    }
  });

  it('cuts the unpaginated answer into bounded pages whose last cursor is null', async () => {
    const pages = await collect(connector.open(config).fetchFindings(shopRecord(), null, testContext()));
    expect(pages.map((p) => p.findings.length)).toEqual([3, 3, 1]);
    expect(pages[0]!.cursor).toEqual(RESTART_FETCH);
    expect(pages[1]!.cursor).toEqual(RESTART_FETCH);
    expect(pages[2]!.cursor).toBeNull();
  });

  it('cannot resume inside the one answer: its pages ask a retried fetch to start over, and starting over yields everything', async () => {
    const first = await collect(connector.open(config).fetchFindings(shopRecord(), null, testContext()));
    expect(isRestartCursor(first[0]!.cursor)).toBe(true);
    const again = await collect(connector.open(config).fetchFindings(shopRecord(), first[0]!.cursor, testContext()));
    expect(allFindings(again).map((f) => f.uniqueIdFromTool)).toEqual(allFindings(first).map((f) => f.uniqueIdFromTool));
  });

  it('a connection broken off mid-answer is retryable (TOOL_UNAVAILABLE), never a short list', async () => {
    fake.state.faults.push({ match: `/api/v1/finding/project/${shop.uuid}`, times: 3, respond: { cutAfterBytes: 40 } });
    const error = await connectorErrorOf(() => collect(connector.open(config).fetchFindings(shopRecord(), null, testContext())));
    expect(error.type).toBe('TOOL_UNAVAILABLE');
    expect(error.retryable).toBe(true);
  });

  it('yields one empty, final page for a project without findings', async () => {
    fake.state.findings[shop.uuid] = [];
    const pages = await collect(connector.open(config).fetchFindings(shopRecord(), null, testContext()));
    expect(pages).toEqual([{ findings: [], cursor: null }]);
  });

  it('reports a deleted project as RECORD_MISSING', async () => {
    fake.state.projects = fake.state.projects.filter((p) => p.uuid !== shop.uuid);
    const error = await connectorErrorOf(() => collect(connector.open(config).fetchFindings(shopRecord(), null, testContext())));
    expect(error.type).toBe('RECORD_MISSING');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('shop 1.0.0');
  });

  it.each([
    ['truncated', MALFORMED_JSON],
    ['with a trailing comma', { ...MALFORMED_JSON, rawBody: '[{"component": {"uuid": "c", "name": "x"}, "vulnerability": {"uuid": "v", "vulnId": "CVE-1"}},]' }],
    ['not an array', { ...MALFORMED_JSON, rawBody: '{"findings": []}' }],
    ['garbage', { ...MALFORMED_JSON, rawBody: '<html>Bad gateway</html>' }],
  ])('reports a malformed body (%s) as BAD_TOOL_DATA, not retryable', async (_name, respond) => {
    fake.inject({ match: '/api/v1/finding', respond });
    const error = await connectorErrorOf(() => collect(connector.open(config).fetchFindings(shopRecord(), null, testContext())));
    expect(error.type).toBe('BAD_TOOL_DATA');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('not valid JSON');
  });

  it('stops an endless findings answer at the tool’s streamed ceiling with BAD_TOOL_DATA, closing the connection', async () => {
    const capped = createDependencyTrackConnector({ ...FAST_RETRIES, limits: { maxStreamedBytes: 1024 * 1024 } });
    expect(capped.limits).toMatchObject({ maxStreamedBytes: 1024 * 1024 });
    // One element that never ends (arrays nested for ever): the array parser would hold it whole, so only the ceiling stops it.
    fake.inject({ match: '/api/v1/finding', respond: { status: 200, stream: { chunk: '['.repeat(8192) } } });
    fake.state.streams = [];
    const error = await connectorErrorOf(collect(capped.open(config).fetchFindings(shopRecord(), null, testContext())));
    expect(error.type).toBe('BAD_TOOL_DATA');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('larger than 1 MB');
    expect(await fake.state.streams[0]!.closed).toBe(true);
  });

  it('reports a finding without a vulnerability as BAD_TOOL_DATA', async () => {
    fake.inject({ match: '/api/v1/finding', respond: { status: 200, body: [{ component: { uuid: 'c', name: 'x' }, matrix: 'a:b:c' }] } });
    const error = await connectorErrorOf(() => collect(connector.open(config).fetchFindings(shopRecord(), null, testContext())));
    expect(error.type).toBe('BAD_TOOL_DATA');
    expect(error.message).toContain('vulnerability');
  });
});

describe('rate limits, outages and timeouts', () => {
  it('waits for Retry-After on 429, then succeeds', async () => {
    fake.inject({ match: '/api/v1/finding', times: 1, respond: { status: 429, headers: { 'Retry-After': '1' }, body: '' } });
    const ctx = testContext();
    const pages = await collect(connector.open(config).fetchFindings(shopRecord(), null, ctx));
    expect(allFindings(pages)).toHaveLength(7);
    const [limited, retried] = fake.state.requests;
    expect(fake.state.requests).toHaveLength(2);
    expect(retried!.at - limited!.at).toBeGreaterThanOrEqual(950);
    expect(ctx.waits).toEqual([{ ms: 1000, reason: expect.stringContaining('429') }]);
  });

  it('honours an HTTP-date Retry-After', async () => {
    const when = new Date(Date.now() + 1500).toUTCString();
    fake.inject({ match: '/api/v1/project', respond: { status: 503, headers: { 'Retry-After': when } } });
    const ctx = testContext();
    await connector.open(config).check(ctx);
    expect(fake.state.requests).toHaveLength(2);
    expect(ctx.waits[0]!.ms).toBeGreaterThan(0);
    expect(ctx.waits[0]!.ms).toBeLessThanOrEqual(1500);
    expect(fake.state.requests[1]!.at - fake.state.requests[0]!.at).toBeGreaterThanOrEqual(ctx.waits[0]!.ms - 50);
  });

  it('hands a long Retry-After to Temporal as RATE_LIMITED with the delay, without waiting', async () => {
    fake.inject({ respond: { status: 429, headers: { 'Retry-After': '120' } } });
    const ctx = testContext();
    const error = await connectorErrorOf(() => connector.open(config).check(ctx));
    expect(error.type).toBe('RATE_LIMITED');
    expect(error.retryable).toBe(true);
    expect(error.details.retryAfterMs).toBe(120_000);
    expect(fake.state.requests).toHaveLength(1);
    expect(ctx.waits).toEqual([]);
  });

  it('gives up on 429s after the attempts and says RATE_LIMITED', async () => {
    fake.inject({ times: 5, respond: { status: 429, headers: { 'Retry-After': '0' } } });
    const error = await connectorErrorOf(() => connector.open(config).check(testContext()));
    expect(error.type).toBe('RATE_LIMITED');
    expect(fake.state.requests).toHaveLength(3);
  });

  it('retries a 5xx with backoff and succeeds', async () => {
    fake.inject({ match: '/api/v1/finding', times: 2, respond: { status: 502, rawBody: 'Bad Gateway' } });
    const ctx = testContext();
    const pages = await collect(connector.open(config).fetchFindings(shopRecord(), null, ctx));
    expect(allFindings(pages)).toHaveLength(7);
    expect(fake.state.requests).toHaveLength(3);
    expect(ctx.waits).toHaveLength(2);
    expect(ctx.waits[1]!.ms).toBeGreaterThanOrEqual(20);
  });

  it('reports TOOL_UNAVAILABLE with a retry delay once 5xx retries are exhausted', async () => {
    fake.inject({ times: 10, respond: { status: 503, body: { message: 'maintenance' } } });
    const error = await connectorErrorOf(() => collect(connector.open(config).fetchFindings(shopRecord(), null, testContext())));
    expect(error.type).toBe('TOOL_UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('503');
    expect(error.message).toContain('after 3 attempts');
    expect(error.details.retryAfterMs).toEqual(expect.any(Number));
    expect(fake.state.requests).toHaveLength(3);
  });

  it('times out a slow answer and reports TOOL_UNAVAILABLE', async () => {
    fake.inject({ times: 3, respond: { delayMs: 2_000 } });
    const started = Date.now();
    const error = await connectorErrorOf(() => connector.open(config).check(testContext()));
    expect(error.type).toBe('TOOL_UNAVAILABLE');
    expect(error.message).toContain('did not answer GET /api/v1/project within 1 s after 3 attempts');
    // Three 1 s timeouts, not three slow answers waited out (6 s).
    expect(Date.now() - started).toBeLessThan(3 * 2_000);
  });

  it('recovers when only the first answer is slow', async () => {
    fake.inject({ respond: { delayMs: 2_000 } });
    await connector.open(config).check(testContext());
    expect(fake.state.requests).toHaveLength(2);
  });

  it('stops waiting when the caller cancels', async () => {
    fake.inject({ respond: { status: 429, headers: { 'Retry-After': '2' } } });
    const controller = new AbortController();
    const ctx = testContext(controller.signal);
    ctx.onWait = () => controller.abort(new Error('activity cancelled'));
    await expect(connector.open(config).check(ctx)).rejects.toThrow('activity cancelled');
    expect(fake.state.requests).toHaveLength(1);
  });
});

describe('demo data', () => {
  it('seeds three projects with 10–40 findings each, one suppressed and one false positive', async () => {
    const summary = seedDemoData(fake.state);
    expect(summary.projects).toBe(3);
    const records = await collect(dependencyTrack.open(config).discover(testContext()));
    expect(records).toHaveLength(3);
    let riskAccepted = 0;
    let falsePositives = 0;
    for (const record of records) {
      const findings = allFindings(await collect(dependencyTrack.open(config).fetchFindings(record, null, testContext())));
      expect(findings.length).toBeGreaterThanOrEqual(10);
      expect(findings.length).toBeLessThanOrEqual(40);
      riskAccepted += findings.filter((f) => f.riskAccepted).length;
      falsePositives += findings.filter((f) => f.falseP).length;
    }
    expect(riskAccepted).toBe(1);
    expect(falsePositives).toBeGreaterThanOrEqual(1);
  });
});
