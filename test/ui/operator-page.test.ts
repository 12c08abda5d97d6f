import type { Browser, Locator, Page } from 'playwright-core';
import { createApiToken } from '../../src/api/tokens.js';
import { DEFAULT_DT_API_KEY, dtFinding, dtProject, startDependencyTrackFake, type DependencyTrackFake } from '../fakes/dependency-track.js';
import { launchChromium, screenshot } from '../support/browser.js';
import { startTestStack, type TestStack } from '../support/stack.js';

/**
 * The operator's page in a real browser (the machine's Chromium, driven by playwright-core) against the
 * whole stack: sign in, add a connector to a fake Dependency-Track, discover, map a record, sync, see the
 * findings, mark one false positive, sync again and see it stay so. A read token sees no buttons that
 * change anything. With VULNSYNC_UI_SCREENSHOTS=1 it saves a screenshot of each page to docs/ui/.
 */

/** A project name a hostile tool could send: the page must show it as text, never run it. */
const HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">';

const TEST_TIMEOUT_MS = 120_000;

let stack: TestStack;
let tool: DependencyTrackFake;
let browser: Browser;
let readToken: string;

const checkout = dtProject({ name: 'checkout-service', version: '1.4.0' });
const hostile = dtProject({ name: HOSTILE_NAME, version: '0.1' });

beforeAll(async () => {
  tool = await startDependencyTrackFake();
  tool.state.projects.push(checkout, hostile);
  tool.state.findings[checkout.uuid] = [
    dtFinding(checkout, { name: 'lodash', version: '4.17.15' }, { vulnId: 'CVE-2021-23337', severity: 'HIGH', title: 'Command injection via template' }),
    dtFinding(checkout, { name: 'minimist', version: '1.2.5' }, { vulnId: 'CVE-2021-44906', severity: 'CRITICAL', title: 'Prototype pollution in setKey' }),
    dtFinding(checkout, { name: 'axios', version: '0.21.0' }, { vulnId: 'CVE-2020-28168', severity: 'MEDIUM', title: 'Server-side request forgery through redirects' }),
  ];
  tool.state.findings[hostile.uuid] = [];
  [stack, browser] = await Promise.all([startTestStack(), launchChromium()]);
  readToken = (await createApiToken(stack.orm.em.fork(), { name: 'viewer', scope: 'read' })).token;
}, TEST_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await tool?.close();
});

/** Waits until `locator` matches exactly `count` elements, saying what was expected when it does not. */
async function waitForCount(locator: Locator, count: number, what: string, timeoutMs = 45_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await locator.count();
    if (n === count) return;
    if (Date.now() > deadline) throw new Error(`${what}: expected ${count}, found ${n} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function signIn(page: Page, token: string) {
  await page.goto(`${stack.api.url}/`);
  await page.locator('#token').waitFor();
  expect(page.url()).toBe(`${stack.api.url}/ui/#/signin`);
  await screenshot(page, 'sign-in');
  await page.fill('#token', token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Connectors' }).waitFor();
}

async function pressSyncAndWait(page: Page, succeededBefore: number) {
  await page.click('#sync');
  await waitForCount(page.locator('#operations tr[data-type="sync"][data-status="succeeded"]'), succeededBefore + 1, 'succeeded syncs in the Operations table');
}

test('an operator adds a connector, discovers, maps, syncs, triages, and the triage survives the next sync', async () => {
  const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    // The browser logs every 4xx it is answered; the page's own errors are what counts.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) pageErrors.push(msg.text());
  });

  const served = await page.request.get(`${stack.api.url}/ui/`);
  const csp = served.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-inline');

  await signIn(page, stack.token);
  expect(await page.evaluate(() => sessionStorage.getItem('vulnsync.token'))).toBe(stack.token);
  expect(page.url()).not.toContain(stack.token);

  // Add a connector; the settings form comes from the tool's JSON Schema.
  await page.getByRole('link', { name: 'Add connector' }).click();
  await page.selectOption('#tool', 'dependency_track');
  await page.locator('#setting-includeInactive').waitFor();
  await page.fill('#label', 'dtrack-prod');
  await page.fill('#location', tool.url);
  await page.fill('#secret', DEFAULT_DT_API_KEY);
  await page.fill('#timezone', 'Europe/Berlin');
  await screenshot(page, 'connector-form');
  await page.getByRole('button', { name: 'Create connector' }).click();
  await page.getByRole('heading', { name: /dtrack-prod/ }).waitFor();
  const connectorId = /#\/connectors\/([0-9a-f-]{36})$/.exec(page.url())?.[1];
  expect(connectorId).toBeDefined();
  const stored = await stack.call('GET', `/api/v1/connectors/${connectorId}`);
  expect(stored.body).toMatchObject({ label: 'dtrack-prod', tool: 'dependency_track', schedule: { timezone: 'Europe/Berlin' }, settings: { includeInactive: false } });
  expect(stored.text).not.toContain(DEFAULT_DT_API_KEY);

  // Discover: both projects appear unmapped; the hostile name is text, not markup.
  await page.click('#discover');
  await waitForCount(page.locator('#operations tr[data-type="discover"][data-status="succeeded"]'), 1, 'succeeded discoveries');
  await waitForCount(page.locator('#unmapped-records tbody tr'), 2, 'unmapped records');
  await expect(page.locator('#unmapped-records').textContent()).resolves.toContain(HOSTILE_NAME);
  expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();

  // Map one record to a new product, then sync the mapped records.
  await page.getByLabel('Product for checkout-service 1.4.0').fill('Checkout');
  await page.locator('#unmapped-records tr[data-record="checkout-service 1.4.0"]').getByRole('button', { name: 'Map' }).click();
  await waitForCount(page.locator('#mapped-records tbody tr'), 1, 'mapped records');
  await pressSyncAndWait(page, 0);
  const syncRow = page.locator('#operations tr[data-type="sync"][data-status="succeeded"]').first();
  await expect(syncRow.locator('td.counts').textContent()).resolves.toContain('created 3');
  expect(await syncRow.getByRole('link', { name: 'Temporal' }).getAttribute('href')).toMatch(/\/namespaces\/default\/workflows\//);
  await screenshot(page, 'records-and-operations');

  // The connectors list, with a check of the tool.
  await page.getByRole('link', { name: '← Connectors' }).click();
  await page.locator('#connectors tr[data-connector="dtrack-prod"]').getByRole('button', { name: 'Check' }).click();
  await page.locator('#connectors .check-result .ok').waitFor();
  await screenshot(page, 'connectors');

  // Editing it: a check, and its schedule with the next runs, paused and resumed.
  await page.locator('#connectors tr[data-connector="dtrack-prod"]').getByRole('link', { name: 'Edit' }).click();
  await page.locator('#next-runs li').first().waitFor();
  expect(await page.inputValue('#secret')).toBe('');
  tool.state.apiKey = 'odt_someOtherKey0000000000000000000000';
  await page.getByRole('button', { name: 'Check', exact: true }).click();
  await expect(page.locator('#check-result .error').textContent()).resolves.toMatch(/^AUTH_REJECTED: .*401/);
  tool.state.apiKey = DEFAULT_DT_API_KEY;
  await page.getByRole('button', { name: 'Check', exact: true }).click();
  await page.locator('#check-result .ok').waitFor();
  await screenshot(page, 'connector-edit');
  await page.getByRole('button', { name: 'Pause schedule' }).click();
  await page.getByRole('button', { name: 'Resume schedule' }).waitFor();
  expect((await stack.call('GET', `/api/v1/connectors/${connectorId}/schedule`)).body.paused).toBe(true);
  await page.getByRole('button', { name: 'Resume schedule' }).click();
  await page.getByRole('button', { name: 'Pause schedule' }).waitFor();
  expect((await stack.call('GET', `/api/v1/connectors/${connectorId}/schedule`)).body.paused).toBe(false);
  await page.getByRole('link', { name: 'Connectors', exact: true }).first().click();

  // The findings of the product, filtered; then one finding, its history, and a person's triage.
  await page.getByRole('link', { name: 'dtrack-prod' }).click();
  await page.locator('#mapped-records').getByRole('link', { name: 'Checkout' }).click();
  await waitForCount(page.locator('#findings tbody tr'), 3, 'findings of the product');
  await page.selectOption('#filter-severity', 'Critical');
  await waitForCount(page.locator('#findings tbody tr'), 1, 'critical findings');
  await page.selectOption('#filter-severity', '');
  await waitForCount(page.locator('#findings tbody tr'), 3, 'findings of the product');
  await screenshot(page, 'findings');
  await page.getByRole('link', { name: 'CVE-2021-44906 in minimist@1.2.5' }).click();
  await page.getByRole('heading', { name: /Finding #/ }).waitFor();
  const findingId = /#\/findings\/(\d+)$/.exec(page.url())?.[1];
  await page.check('#triage-falsePositive');
  await page.getByRole('button', { name: 'Save triage' }).click();
  await page.locator('#finding-status', { hasText: 'false positive' }).waitFor();
  expect((await stack.call('GET', `/api/v1/findings/${findingId}`)).body).toMatchObject({ falsePositive: true, active: false, triagedByPerson: true });

  // Sync again: the person's decision stays, in the page and in the API.
  await page.goto(`${stack.api.url}/ui/#/connectors/${connectorId}`);
  await page.locator('#sync').waitFor();
  await pressSyncAndWait(page, 1);
  await expect(page.locator('#operations tr[data-type="sync"]').first().locator('td.counts').textContent()).resolves.toMatch(/untouched 3/);
  await page.goto(`${stack.api.url}/ui/#/findings/${findingId}`);
  await page.locator('#finding-status', { hasText: 'false positive' }).waitFor();
  expect(await page.isChecked('#triage-falsePositive')).toBe(true);
  await waitForCount(page.locator('#history tbody tr'), 3, 'history entries (created, triaged, untouched)');
  expect(await page.locator('#history tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-action')))).toEqual(['created', 'triaged', 'untouched']);
  await expect(page.locator('#history tr[data-action="triaged"]').textContent()).resolves.toContain('falsePositive: false → true');
  await screenshot(page, 'finding-history');
  expect((await stack.call('GET', `/api/v1/findings/${findingId}`)).body).toMatchObject({ falsePositive: true, active: false });
  const falsePositives = await stack.call('GET', `/api/v1/findings?connectorId=${connectorId}&falsePositive=true`);
  expect(falsePositives.body.items.map((f: { id: number }) => String(f.id))).toEqual([findingId]);

  // The settings form of another tool, built from its JSON Schema: a required string, an enum, an array of
  // options and defaults; what it sends is what the connector stores, and editing shows it again.
  await page.goto(`${stack.api.url}/ui/#/connectors/new`);
  await page.selectOption('#tool', 'github');
  expect(await page.getAttribute('#setting-owner', 'required')).not.toBeNull();
  await expect(page.locator('label[for="setting-owner"] .required').textContent()).resolves.toBe('owner');
  expect(await page.locator('#setting-ownerType option').allTextContents()).toEqual(['—', 'org', 'user']);
  expect(await page.inputValue('#setting-ownerType')).toBe('org');
  expect(await page.locator('#setting-alertKinds input:checked').count()).toBe(3);
  expect(await page.inputValue('#location')).toBe('https://api.github.com');
  await page.fill('#label', 'github-acme');
  await page.fill('#secret', 'ghp_uiTestToken000000000000000000000000');
  await page.fill('#setting-owner', 'acme');
  await page.uncheck('#setting-alertKinds input[value="secret_scanning"]');
  await page.getByRole('button', { name: 'Create connector' }).click();
  await page.getByRole('heading', { name: /github-acme/ }).waitFor();
  const github = (await stack.call('GET', '/api/v1/connectors?tool=github')).body.items[0];
  expect(github.settings).toEqual({ owner: 'acme', ownerType: 'org', alertKinds: ['code_scanning', 'dependabot'] });
  await page.goto(`${stack.api.url}/ui/#/connectors/${github.id}/edit`);
  await page.locator('#next-runs li').first().waitFor();
  expect(await page.inputValue('#setting-owner')).toBe('acme');
  expect(await page.isChecked('#setting-alertKinds input[value="secret_scanning"]')).toBe(false);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('#token').waitFor();
  expect(await page.evaluate(() => sessionStorage.getItem('vulnsync.token'))).toBeNull();
  expect(pageErrors).toEqual([]);
  await context.close();
}, TEST_TIMEOUT_MS);

test('a read token sees records, operations and findings but no button that changes anything', async () => {
  const connectors = await stack.call('GET', '/api/v1/connectors');
  const connectorId = connectors.body.items[0]?.id as string;
  expect(connectorId).toBeDefined();
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, readToken);
  await expect(page.locator('#who').textContent()).resolves.toContain('read');
  expect(await page.getByRole('link', { name: 'Add connector' }).count()).toBe(0);
  expect(await page.getByRole('button', { name: 'Check' }).count()).toBe(0);

  await page.goto(`${stack.api.url}/ui/#/connectors/${connectorId}`);
  await waitForCount(page.locator('#mapped-records tbody tr'), 1, 'mapped records');
  await waitForCount(page.locator('#operations tbody tr'), 3, 'operations');
  for (const name of ['Sync', 'Discover', 'Map', 'Unmap', 'Ignore', 'Delete']) {
    expect(`${name}: ${await page.getByRole('button', { name, exact: true }).count()}`).toBe(`${name}: 0`);
  }
  await page.locator('#mapped-records').getByRole('link', { name: 'Checkout' }).click();
  await waitForCount(page.locator('#findings tbody tr'), 3, 'findings');
  await page.locator('#findings tbody tr a').first().click();
  await page.getByRole('heading', { name: /Finding #/ }).waitFor();
  expect(await page.locator('#triage').count()).toBe(0);
  await context.close();
}, TEST_TIMEOUT_MS);
