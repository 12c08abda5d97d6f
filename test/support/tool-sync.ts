import type { FakeServer, FakeState } from '../fakes/fake-server.js';
import { startTestStack, syncCounts, type TestStack } from './stack.js';

/** One tool's fake, seeded with one record, and the vendor's ways to report a finding, fix it, and triage it. */
export interface ToolUnderTest {
  location: string;
  secret: string;
  settings?: Record<string, unknown>;
  /** Adds an open finding, or one the tool reports as a false positive. */
  add(title: string, falsePositive?: boolean): void;
  setFixed(title: string, fixed: boolean): void;
}

/** A test stack (API, worker, Temporal, PostgreSQL) for one e2e file, and the fakes its tests start, closed at the end. */
export function endToEnd() {
  let stack: TestStack | undefined;
  const fakes: FakeServer<FakeState>[] = [];
  beforeAll(async () => {
    stack = await startTestStack();
  });
  afterAll(async () => {
    for (const fake of fakes) await fake.close();
    await stack?.stop();
  });
  const e2e = {
    /** Fakes closed when the file's tests are done. */
    fakes,
    get stack(): TestStack {
      if (!stack) throw new Error('the test stack has not started');
      return stack;
    },
    /** Syncs a connector through the API and answers the reimport's counts; fails unless the sync succeeded. */
    sync: (connectorId: string) => syncCounts(e2e.stack, connectorId),
  };
  return e2e;
}

export type EndToEnd = ReturnType<typeof endToEnd>;

/** For each tool: create the connector through the API, check it, then first, identical and churned syncs with exact counts. */
export function describeToolSyncs(e2e: EndToEnd, tools: Record<string, () => Promise<ToolUnderTest>>): void {
  describe.each(Object.keys(tools))('the %s connector, end to end through the API', (tool) => {
    it('checks, then syncs first, identical and churned findings with exact counts', async () => {
      const { stack, sync } = e2e;
      const vendor = await tools[tool]!();
      for (const title of ['alpha', 'bravo', 'charlie']) vendor.add(title);
      vendor.add('delta', true);
      vendor.add('echo');
      vendor.setFixed('echo', true);

      const body = { tool, label: `${tool}-e2e`, location: vendor.location, secret: vendor.secret, settings: vendor.settings, autoMap: true };
      const created = await stack.call('POST', '/api/v1/connectors', body);
      expect(created.status).toBe(201);
      expect(created.text).not.toContain(vendor.secret);
      const id = created.body.id as string;
      expect((await stack.call('POST', `/api/v1/connectors/${id}/check`)).body).toEqual({ ok: true });

      // The fixed finding is not current; the false positive arrives triaged.
      expect(await sync(id)).toEqual({ created: 4, closed: 0, untouched: 0, reactivated: 0, updated: 0 });
      const falsePositives = await stack.call('GET', `/api/v1/findings?connectorId=${id}&falsePositive=true`);
      expect(falsePositives.body.items.map((f: { title: string }) => f.title)).toEqual([expect.stringContaining('delta')]);

      expect(await sync(id)).toEqual({ created: 0, closed: 0, untouched: 4, reactivated: 0, updated: 0 });

      vendor.setFixed('bravo', true);
      vendor.add('foxtrot');
      expect(await sync(id)).toEqual({ created: 1, closed: 1, untouched: 3, reactivated: 0, updated: 0 });

      vendor.setFixed('bravo', false);
      expect(await sync(id)).toEqual({ created: 0, closed: 0, untouched: 4, reactivated: 1, updated: 0 });
      const active = await stack.call('GET', `/api/v1/findings?connectorId=${id}&active=true&limit=100`);
      // The false positive stays inactive: the tool's triage, like a person's, is not an open finding.
      expect(active.body.items.map((f: { title: string }) => f.title).sort()).toEqual(['alpha', 'bravo', 'charlie', 'foxtrot']);
    }, 120_000);
  });
}
