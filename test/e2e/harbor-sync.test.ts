import { DEFAULT_HARBOR_SECRET, harborArtifact, harborVulnerability, startHarborFake, type HarborFake, type HarborVulnerabilityJson } from '../fakes/harbor.js';
import { startTestStack, syncCounts, type TestStack } from '../support/stack.js';

let stack: TestStack;
let tool: HarborFake;

beforeAll(async () => {
  stack = await startTestStack();
  tool = await startHarborFake();
});
afterAll(async () => {
  await tool?.close();
  await stack?.stop();
});

describe('the Harbor connector, end to end through the API', () => {
  it('syncs the latest image of a repository first, identical and churned, with exact counts', async () => {
    tool.state.projects.push({ project_id: 1, name: 'library', cve_allowlist: { items: [{ cve_id: 'CVE-2026-0004' }] } });
    const vulnerabilities: HarborVulnerabilityJson[] = ['alpha', 'bravo', 'charlie', 'delta'].map((pkg, i) => harborVulnerability(`CVE-2026-000${i + 1}`, pkg, '1.0.0'));
    const image = harborArtifact('v1', '2026-11-01T00:00:00.000Z', vulnerabilities);
    tool.state.repositories['library/web/shop'] = [image];

    const created = await stack.call('POST', '/api/v1/connectors', { tool: 'harbor', label: 'harbor', location: tool.url, secret: DEFAULT_HARBOR_SECRET, autoMap: true });
    expect(created.status).toBe(201);
    expect(created.text).not.toContain(DEFAULT_HARBOR_SECRET.split(':')[1]);
    const id = created.body.id as string;
    expect((await stack.call('POST', `/api/v1/connectors/${id}/check`)).body).toEqual({ ok: true });
    const sync = () => syncCounts(stack, id);

    expect(await sync()).toEqual({ created: 4, closed: 0, untouched: 0, reactivated: 0, updated: 0 });
    // The allowlisted CVE arrives as an accepted risk.
    const accepted = await stack.call('GET', `/api/v1/findings?connectorId=${id}&riskAccepted=true`);
    expect(accepted.body.items.map((f: { componentName: string }) => f.componentName)).toEqual(['delta']);

    expect(await sync()).toEqual({ created: 0, closed: 0, untouched: 4, reactivated: 0, updated: 0 });

    // bravo upgraded (gone from the report), echo new, in the same image's next scan.
    image.vulnerabilities = [...vulnerabilities.filter((v) => v.package !== 'bravo'), harborVulnerability('CVE-2026-0005', 'echo', '2.0.0')];
    expect(await sync()).toEqual({ created: 1, closed: 1, untouched: 3, reactivated: 0, updated: 0 });

    image.vulnerabilities = [...image.vulnerabilities, vulnerabilities[1]!];
    expect(await sync()).toEqual({ created: 0, closed: 0, untouched: 4, reactivated: 1, updated: 0 });

    // A new image is a new build: its findings are its own, those of the old digest close.
    tool.state.repositories['library/web/shop']!.push(harborArtifact('v2', '2026-11-02T00:00:00.000Z', [harborVulnerability('CVE-2026-0001', 'alpha', '1.0.0')]));
    expect(await sync()).toEqual({ created: 1, closed: 5, untouched: 0, reactivated: 0, updated: 0 });
  }, 180_000);
});
