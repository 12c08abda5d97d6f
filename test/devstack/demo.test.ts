import { connectors, type ToolName } from '../../src/connectors/index.js';
import type { DemoContext } from '../../src/devstack/demo-context.js';
import { runDemo, type DemoOutcome } from '../../scripts/demo.js';
import type { AnswerBody } from '../support/answers.js';
import { startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
const abort = new AbortController();

beforeAll(async () => {
  stack = await startTestStack();
}, 60_000);

afterAll(async () => {
  abort.abort();
  await stack?.stop();
});

function demoContext(lines: string[]): DemoContext {
  return {
    apiUrl: stack.api.url,
    temporalAddress: String(stack.env.TEMPORAL_ADDRESS),
    temporalNamespace: 'default',
    temporalUiUrl: undefined,
    databaseUrl: String(stack.env.DATABASE_URL),
    // Free ports: the test must not take the ports a developer's `npm run dev` uses.
    env: { VULNSYNC_DEMO_TOOL_PORT: '0' },
    signal: abort.signal,
    log: (line) => lines.push(line),
  };
}

it('npm run dev\'s demo connects Dependency-Track, GitHub and SonarQube through the API, and each one\'s findings arrive', async () => {
  const lines: string[] = [];
  const outcomes: DemoOutcome[] = await runDemo(demoContext(lines));
  expect(outcomes.map((o) => o.tool)).toEqual(['dependency_track', 'github', 'sonarqube']);

  for (const outcome of outcomes) {
    expect({ tool: outcome.tool, discover: outcome.discover.status, sync: outcome.sync.status, error: outcome.sync.error }).toEqual({
      tool: outcome.tool,
      discover: 'succeeded',
      sync: 'succeeded',
      error: null,
    });
    expect({ tool: outcome.tool, discovered: outcome.discover.summary?.discovered, created: outcome.sync.summary?.created }).toEqual({
      tool: outcome.tool,
      discovered: outcome.seeded.records,
      created: outcome.seeded.findings,
    });
    const records = (await stack.call('GET', `/api/v1/records?connectorId=${outcome.connectorId}&limit=100`)).body.items as AnswerBody[];
    expect(records.map((r) => r.state)).toEqual(Array(outcome.seeded.records).fill('good'));
    const tests = (await stack.call('GET', `/api/v1/tests?connectorId=${outcome.connectorId}&limit=100`)).body.items as AnswerBody[];
    expect(tests.map((t) => `${t.title} / ${t.engagementName}`)).toEqual(Array(outcome.seeded.records).fill(`${connectors[outcome.tool as ToolName].displayName} - demo / Global Connectors`));
    const findings = (await stack.call('GET', `/api/v1/findings?connectorId=${outcome.connectorId}&limit=500`)).body.items as AnswerBody[];
    expect({ tool: outcome.tool, findings: findings.length }).toEqual({ tool: outcome.tool, findings: outcome.seeded.findings });
    // Triage the tools report arrives as such, and every tool has open findings too.
    expect(findings.some((f) => f.falsePositive || f.riskAccepted)).toBe(true);
    expect(findings.some((f) => f.active && !f.falsePositive && !f.riskAccepted)).toBe(true);
    expect(lines.some((line) => line.startsWith(`${outcome.name}: sync succeeded: ${outcome.seeded.records} records`))).toBe(true);
  }
  expect(new Set(outcomes.map((o) => o.seeded.findings)).size).toBeGreaterThan(1);

  // Run again (as after a restart of `npm run dev`): the same connectors are reused and nothing changes.
  const again = await runDemo(demoContext([]));
  expect(again.map((o) => o.connectorId)).toEqual(outcomes.map((o) => o.connectorId));
  for (const outcome of again) {
    expect({ tool: outcome.tool, status: outcome.sync.status, created: outcome.sync.summary?.created, closed: outcome.sync.summary?.closed }).toEqual({
      tool: outcome.tool,
      status: 'succeeded',
      created: 0,
      closed: 0,
    });
  }
}, 180_000);
