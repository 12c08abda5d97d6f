import { DEFAULT_GITHUB_TOKEN, codeScanningAlert, dependabotAlert, ghRepo, secretScanningAlert, startGitHubFake, type GitHubFake } from '../fakes/github.js';
import { startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
let tool: GitHubFake;

beforeAll(async () => {
  stack = await startTestStack();
  tool = await startGitHubFake();
});
afterAll(async () => {
  await tool?.close();
  await stack?.stop();
});

const LEAKED_SECRET = 'AKIAIOSFODNN7EXAMPLE';

describe('a GitHub Advanced Security connector, end to end', () => {
  it('resumes a failed fetch from its cursor, and keeps findings and secrets out of Temporal', async () => {
    tool.state.orgs.push('acme');
    const repo = ghRepo('acme', 'web');
    tool.state.repos.push(repo);
    tool.state.alerts[repo.id] = {
      codeScanning: Array.from({ length: 150 }, (_, i) =>
        codeScanningAlert(repo, i + 1, { ruleId: `js/rule-${i}`, description: `Unique rule description ${i}`, securitySeverity: 'high' }),
      ),
      dependabot: [dependabotAlert(repo, 1), dependabotAlert(repo, 2, { state: 'dismissed', dismissedReason: 'tolerable_risk', packageName: 'minimist' })],
      secretScanning: [secretScanningAlert(repo, 1, { secret: LEAKED_SECRET })],
    };
    // Page 2 of the open code-scanning alerts fails more often than the HTTP client retries in-process,
    // so the activity fails and Temporal retries it: the retry must resume at page 2, not start over.
    const codeScanning = `/repos/acme/web/code-scanning/alerts`;
    tool.state.faults.push({ match: codeScanning, query: { state: 'open', page: '2' }, times: 3, respond: { status: 502, body: { message: 'Bad Gateway' } } });

    const created = await stack.call('POST', '/api/v1/connectors', {
      tool: 'github',
      label: 'acme',
      location: tool.url,
      secret: DEFAULT_GITHUB_TOKEN,
      settings: { owner: 'acme' },
      autoMap: true,
    });
    expect(created.status).toBe(201);
    const started = await stack.call('POST', `/api/v1/connectors/${created.body.id}/sync`);
    const op = await stack.waitForOperation(started.body.operationId, 60_000);
    expect(op.status).toBe('succeeded');
    // 150 code-scanning alerts, 2 Dependabot alerts (one dismissed as tolerable risk), 1 secret.
    expect(op.summary).toMatchObject({ records: 1, created: 153 });

    const openPages = tool.state.requests.filter((r) => r.path === codeScanning && r.query.state === 'open');
    expect(openPages.filter((r) => (r.query.page ?? '1') === '1')).toHaveLength(1);
    expect(openPages.filter((r) => r.query.page === '2')).toHaveLength(4);

    const riskAccepted = await stack.call('GET', `/api/v1/findings?connectorId=${created.body.id}&riskAccepted=true`);
    expect(riskAccepted.body.items).toHaveLength(1);
    const all = await stack.call('GET', `/api/v1/findings?connectorId=${created.body.id}&limit=500`);
    expect(all.text).not.toContain(LEAKED_SECRET);
    // Each finding links to its alert on GitHub; only the secret GitHub found still active is verified.
    const byToolId = new Map((all.body.items as { uniqueIdFromTool: string; endpoint: string | null; verified: boolean }[]).map((f) => [f.uniqueIdFromTool, f]));
    expect(byToolId.get('code_scanning:7')).toMatchObject({ endpoint: 'https://github.com/acme/web/security/code-scanning/7', verified: false });
    expect(byToolId.get('dependabot:2')).toMatchObject({ endpoint: 'https://github.com/acme/web/security/dependabot/2', verified: false });
    expect(byToolId.get('secret_scanning:1')).toMatchObject({ endpoint: 'https://github.com/acme/web/security/secret-scanning/1', verified: true });
    expect([...byToolId.values()].filter((f) => f.verified)).toHaveLength(1);

    const record = (await stack.call('GET', `/api/v1/records?connectorId=${created.body.id}`)).body.items[0];
    const histories = [];
    const recordHistory = await stack.temporal.client.workflow.getHandle(`sync/${created.body.id}/${record.id}`).fetchHistory();
    for (const history of [await stack.temporal.client.workflow.getHandle(started.body.workflowId).fetchHistory(), recordHistory]) {
      histories.push(JSON.stringify(history));
    }
    // The fetch's local attempt took no in-process wait: it failed typed at the first 502, and the regular
    // activity went on from the staged page 1.
    const events = recordHistory.events ?? [];
    const localFetch = events.find((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity');
    expect(localFetch?.markerRecordedEventAttributes?.failure?.cause?.applicationFailureInfo?.type ?? localFetch?.markerRecordedEventAttributes?.failure?.applicationFailureInfo?.type).toBe('TOOL_UNAVAILABLE');
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'fetchFindings')).toHaveLength(1);
    const everything = histories.join('\n');
    expect(everything).toContain(record.id);
    for (const forbidden of [DEFAULT_GITHUB_TOKEN, LEAKED_SECRET, 'Unique rule description', 'js/rule-1']) {
      expect(everything).not.toContain(forbidden);
    }
    // The fetch retried as an activity attempt (visible to operators), not as a second run.
    expect(everything).toContain('TOOL_UNAVAILABLE');
  });
});
