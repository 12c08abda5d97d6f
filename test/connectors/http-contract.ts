import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { FindingPage, RecordRef, StoredConfig, ToolConnector } from '../../src/connectors/types.js';
import { MALFORMED_JSON, type FakeServer, type FakeState } from '../fakes/fake-server.js';
import { collect, connectorErrorOf, testContext, unreachableUrl } from './connector-context.js';

/** A connector under the shared contract: its fake, seeded data, and the vendor's ways of failing. */
export interface ContractSubject<State extends FakeState> {
  connector: ToolConnector;
  start(): Promise<FakeServer<State>>;
  /** Seeds the fake afresh; the record's findings must span at least two findings requests when paginated. */
  seed(fake: FakeServer<State>): { config: StoredConfig; record: RecordRef; findings: number; records: number };
  /** The path of the record's findings listing (faults are injected there). */
  findingsPath: string;
  /** The query that marks the second findings page; absent for an unpaginated export. */
  secondPage?: Record<string, string>;
  /** Takes away the permission the findings need, so the tool answers 403. */
  denyPermission(fake: FakeServer<State>): void;
  /** Requests check makes (default 1, its one cheap call; a token exchange adds one). */
  checkRequests?: number;
  /** Whether check's one call needs that permission too (false where the tool offers no cheap call that does). */
  checkSeesPermission: boolean;
  removeRecord(fake: FakeServer<State>): void;
  /** A secret of the right shape the tool rejects (default: the seeded one with its end changed). */
  wrongSecret?: (secret: string) => string;
  /** How the vendor says when to come back after a 429. */
  rateLimitHeaders: Record<string, string>;
}

const allFindings = (pages: FindingPage[]) => pages.flatMap((p) => p.findings);

/** A fake for one describe block, started once, seeded afresh with empty request log and faults before each test. */
export function seededFake<State extends FakeState, Seeded>(
  start: () => Promise<FakeServer<State>>,
  seed: (fake: FakeServer<State>) => Seeded,
): { fake: FakeServer<State>; seeded: Seeded } {
  const env = {} as { fake: FakeServer<State>; seeded: Seeded };
  beforeAll(async () => {
    env.fake = await start();
  });
  afterAll(async () => {
    await env.fake?.close();
  });
  beforeEach(() => {
    env.seeded = seed(env.fake);
    env.fake.state.requests = [];
    env.fake.state.faults = [];
  });
  return env;
}

/**
 * The behaviour every HTTP connector owes the worker, whatever the tool: check's three clear errors,
 * every page of findings, resuming after a failed page, rate limits and outages retried, broken answers
 * classified, a vanished record reported as RECORD_MISSING.
 */
export function describeConnectorContract<State extends FakeState>(title: string, subject: ContractSubject<State>): void {
  describe(`${title}: the connector contract`, () => {
    const env = seededFake(subject.start, subject.seed);
    const { connector } = subject;
    const fetchAll = (cursor: FindingPage['cursor'] = null, ctx = testContext()) => collect(connector.open(env.seeded.config).fetchFindings(env.seeded.record, cursor, ctx));

    it('check passes with the seeded credentials', async () => {
      await expect(connector.open(env.seeded.config).check(testContext())).resolves.toBeUndefined();
      expect(env.fake.state.requests).toHaveLength(subject.checkRequests ?? 1);
    });

    it('check: a location where nothing listens is TOOL_UNAVAILABLE, a location that is not the API is CONFIG_INVALID', async () => {
      const unreachable = await connectorErrorOf(async () => connector.open({ ...env.seeded.config, location: await unreachableUrl() }).check(testContext()));
      expect(unreachable.type).toBe('TOOL_UNAVAILABLE');
      const elsewhere = await connectorErrorOf(() => connector.open({ ...env.seeded.config, location: `${env.fake.url}/not-the-api` }).check(testContext()));
      expect(elsewhere.type).toBe('CONFIG_INVALID');
      expect(elsewhere.message).toContain('check the location');
    });

    it('check: a wrong secret is AUTH_REJECTED (401) and never appears in the message', async () => {
      const wrong = subject.wrongSecret?.(env.seeded.config.secret) ?? `${env.seeded.config.secret.slice(0, -6)}WRONG0`;
      const error = await connectorErrorOf(() => connector.open({ ...env.seeded.config, secret: wrong }).check(testContext()));
      expect(error.type).toBe('AUTH_REJECTED');
      expect(error.details.status).toBe(401);
      expect(error.message).not.toContain(wrong);
    });

    it('a missing permission is AUTH_REJECTED (403) naming what the secret needs, at check where it can tell', async () => {
      subject.denyPermission(env.fake);
      const error = await connectorErrorOf(fetchAll());
      expect(error.type).toBe('AUTH_REJECTED');
      expect(error.details.status).toBe(403);
      expect(error.message).toContain('needs');
      const checked = connector.open(env.seeded.config).check(testContext());
      if (subject.checkSeesPermission) expect(await connectorErrorOf(checked)).toMatchObject({ type: 'AUTH_REJECTED', details: { status: 403 } });
      else await expect(checked).resolves.toBeUndefined();
    });

    it('discover lists every record across pages', async () => {
      const records = await collect(connector.open(env.seeded.config).discover(testContext()));
      expect(records).toHaveLength(env.seeded.records);
      expect(records.map((r) => r.externalId)).toContain(env.seeded.record.externalId);
    });

    it('fetchFindings yields every current finding, the last page with a null cursor', async () => {
      const pages = await fetchAll();
      expect(allFindings(pages)).toHaveLength(env.seeded.findings);
      expect(pages.at(-1)!.cursor).toBeNull();
    });

    it('fetchFindings refuses a stored cursor it did not write: CURSOR_INVALID, not retryable, before any request', async () => {
      const foreign = { writtenBy: 'another version', page: -1 };
      expect(connector.acceptsFetchCursor(foreign)).toBe(false);
      const error = await connectorErrorOf(() => fetchAll(foreign));
      expect(error).toMatchObject({ type: 'CURSOR_INVALID', retryable: false });
      expect(error.message).toContain('cannot resume');
      expect(env.fake.state.requests).toEqual([]);
    });

    if (subject.secondPage) {
      it('resumes after the last stored page when a later page failed', async () => {
        env.fake.inject({ match: subject.findingsPath, query: subject.secondPage, times: 3, respond: { status: 502, body: { message: 'Bad Gateway' } } });
        const stored: FindingPage[] = [];
        const error = await connectorErrorOf(
          (async () => {
            for await (const page of connector.open(env.seeded.config).fetchFindings(env.seeded.record, null, testContext())) stored.push(page);
          })(),
        );
        expect(error.type).toBe('TOOL_UNAVAILABLE');
        expect(stored).toHaveLength(1);
        expect(connector.acceptsFetchCursor(stored[0]!.cursor)).toBe(true);
        env.fake.state.requests = [];
        const rest = await fetchAll(stored[0]!.cursor);
        const ids = [...allFindings(stored), ...allFindings(rest)].map((f) => f.uniqueIdFromTool);
        expect(new Set(ids).size).toBe(env.seeded.findings);
        expect(ids).toHaveLength(env.seeded.findings);
        const listed = env.fake.state.requests.filter((r) => r.path === subject.findingsPath);
        expect(listed[0]!.query).toMatchObject(subject.secondPage!);
      });
    }

    it('waits for the rate-limit reset after a 429, then succeeds', async () => {
      env.fake.inject({ match: subject.findingsPath, respond: { status: 429, headers: subject.rateLimitHeaders, body: { message: 'Too many requests' } } });
      const ctx = testContext();
      expect(allFindings(await fetchAll(null, ctx))).toHaveLength(env.seeded.findings);
      expect(ctx.waits).toEqual([{ ms: 1000, reason: expect.stringContaining('429') }]);
    });

    it('retries a 5xx and succeeds; gives up as TOOL_UNAVAILABLE when it persists', async () => {
      env.fake.inject({ match: subject.findingsPath, times: 2, respond: { status: 503, body: { message: 'maintenance' } } });
      expect(allFindings(await fetchAll())).toHaveLength(env.seeded.findings);
      env.fake.inject({ match: subject.findingsPath, times: 3, respond: { status: 500, rawBody: 'oops' } });
      const error = await connectorErrorOf(fetchAll());
      expect(error.type).toBe('TOOL_UNAVAILABLE');
      expect(error.retryable).toBe(true);
    });

    it('a malformed body is BAD_TOOL_DATA; a body broken off mid-way is TOOL_UNAVAILABLE, never a short list', async () => {
      env.fake.inject({ match: subject.findingsPath, respond: MALFORMED_JSON });
      expect((await connectorErrorOf(fetchAll())).type).toBe('BAD_TOOL_DATA');
      env.fake.inject({ match: subject.findingsPath, respond: { ...MALFORMED_JSON, rawBody: '{"unexpected": true}' } });
      expect((await connectorErrorOf(fetchAll())).type).toBe('BAD_TOOL_DATA');
      env.fake.inject({ match: subject.findingsPath, times: 3, respond: { cutAfterBytes: 30 } });
      const cut = await connectorErrorOf(fetchAll());
      expect(cut.type).toBe('TOOL_UNAVAILABLE');
    });

    it('a record the tool no longer has is RECORD_MISSING', async () => {
      subject.removeRecord(env.fake);
      const error = await connectorErrorOf(fetchAll());
      expect(error.type).toBe('RECORD_MISSING');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain(env.seeded.record.name);
    });
  });
}
