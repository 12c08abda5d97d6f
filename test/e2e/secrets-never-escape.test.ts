import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { createApiToken } from '../../src/api/tokens.js';
import { connectors } from '../../src/connectors/index.js';
import { findFreePort, startService, type ServiceProcess } from '../../src/devstack/processes.js';
import { ensureTemporalCli } from '../../src/devstack/temporal-cli.js';
import { DEFAULT_DT_API_KEY, dtFinding, dtProject, startDependencyTrackFake, type DependencyTrackFake } from '../fakes/dependency-track.js';
import { DEFAULT_HARBOR_SECRET, harborArtifact, harborVulnerability, startHarborFake, type HarborFake } from '../fakes/harbor.js';
import { DEFAULT_GITHUB_TOKEN, codeScanningAlert, ghRepo, startGitHubFake, type GitHubFake } from '../fakes/github.js';
import { DEFAULT_BUGCROWD_TOKEN, bugcrowdProgram, bugcrowdSubmission, startBugcrowdFake, type BugcrowdFake } from '../fakes/bugcrowd.js';
import { DEFAULT_AWS_SECRET, asffFinding, startAwsFake, type AwsFake } from '../fakes/aws-security-hub.js';
import { DEFAULT_BLACKDUCK_API_TOKEN, blackDuckProject, blackDuckVulnerability, startBlackDuckFake, type BlackDuckFake } from '../fakes/blackduck.js';
import { DEFAULT_GITLAB_TOKEN, gitlabProject, gitlabVulnerability, startGitLabFake, type GitLabFake } from '../fakes/gitlab.js';
import { DEFAULT_COBALT_SECRET, cobaltAsset, cobaltFinding, startCobaltFake, type CobaltFake } from '../fakes/cobalt.js';
import { DEFAULT_EDGESCAN_TOKEN, edgescanAsset, edgescanVulnerability, startEdgescanFake, type EdgescanFake } from '../fakes/edgescan.js';
import { DEFAULT_SEMGREP_TOKEN, semgrepFinding, semgrepProject, startSemgrepFake, type SemgrepFake } from '../fakes/semgrep.js';
import { DEFAULT_SNYK_ORG, DEFAULT_SNYK_TOKEN, snykIssue, snykProject, startSnykFake, type SnykFake } from '../fakes/snyk.js';
import { DEFAULT_SONARQUBE_TOKEN, sonarHotspot, sonarIssue, sonarProject, startSonarqubeFake, type SonarqubeFake } from '../fakes/sonarqube.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { testTemporalAddress, uniqueTaskQueue } from '../support/temporal.js';

/**
 * Connector secrets never escape (SPEC §8, CONVENTIONS): after a full scenario with every connector — check,
 * discover, sync, a tool echoing the secret in its error answer, a rejected secret — no secret appears in
 * any Temporal history (as `temporal workflow show` prints it), in the worker's or the API's log (real
 * processes, at debug level), or in any API answer, the audit log included.
 */
const execFileAsync = promisify(execFile);
let db: TestDatabase;
let worker: ServiceProcess;
let api: ServiceProcess;
let apiUrl: string;
let token: string;
let temporal: Client;
let dt: DependencyTrackFake;
let gh: GitHubFake;
let sg: SemgrepFake;
let es: EdgescanFake;
let cb: CobaltFake;
let sn: SnykFake;
let bc: BugcrowdFake;
let aws: AwsFake;
let sq: SonarqubeFake;
let hb: HarborFake;
let bd: BlackDuckFake;
let gl: GitLabFake;
const logs: string[] = [];
const answers: string[] = [];
const taskQueue = uniqueTaskQueue('secrets');

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms; logs:\n${logs.slice(-30).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  const port = await findFreePort();
  apiUrl = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    DATABASE_URL: db.url,
    VULNSYNC_SECRET_KEY: randomBytes(32).toString('base64'),
    VULNSYNC_TASK_QUEUE: taskQueue,
    VULNSYNC_API_HOST: '127.0.0.1',
    VULNSYNC_API_PORT: String(port),
    TEMPORAL_ADDRESS: testTemporalAddress(),
    TEMPORAL_NAMESPACE: 'default',
    LOG_LEVEL: 'debug',
    VULNSYNC_WORKER_HEALTH_ADDRESS: '127.0.0.1:0',
    VULNSYNC_WORKER_METRICS_ADDRESS: 'off',
  };
  const onLine = (name: string) => (line: string) => logs.push(`[${name}] ${line}`);
  worker = startService('worker', ['npm', 'run', '-s', 'worker'], { cwd: process.cwd(), env, onLine: onLine('worker') });
  api = startService('api', ['npm', 'run', '-s', 'api'], { cwd: process.cwd(), env, onLine: onLine('api') });
  await waitFor('the API answering', () => fetch(`${apiUrl}/readyz`).then((r) => r.ok, () => false));
  await waitFor('the worker polling', () => logs.some((l) => l.includes('worker started')), 120_000);
  token = (await createApiToken(db.orm.em.fork(), { name: 'secrets-scan', scope: 'admin' })).token;
  temporal = new Client({ connection: await Connection.connect({ address: testTemporalAddress() }), namespace: 'default' });
  dt = await startDependencyTrackFake();
  gh = await startGitHubFake();
  sg = await startSemgrepFake();
  es = await startEdgescanFake();
  cb = await startCobaltFake();
  sn = await startSnykFake();
  bc = await startBugcrowdFake();
  aws = await startAwsFake();
  sq = await startSonarqubeFake();
  hb = await startHarborFake();
  bd = await startBlackDuckFake();
  gl = await startGitLabFake();
}, 180_000);

afterAll(async () => {
  await api?.stop();
  await worker?.stop();
  await temporal?.connection.close();
  await dt?.close();
  await gh?.close();
  await sg?.close();
  await es?.close();
  await cb?.close();
  await sn?.close();
  await bc?.close();
  await aws?.close();
  await sq?.close();
  await hb?.close();
  await bd?.close();
  await gl?.close();
  await db?.drop();
});

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  answers.push(`${method} ${path} ${res.status} ${text}`);
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function runAndWait(path: string) {
  const started = await call('POST', path);
  expect(started.status).toBe(202);
  let op: any;
  await waitFor(`${path} to finish`, async () => {
    op = (await call('GET', `/api/v1/operations/${started.body.operationId}`)).body;
    return ['succeeded', 'failed', 'partial'].includes(op.status);
  });
  return op;
}

/**
 * Every scenario step a connector takes; `echoSecret` makes the tool answer an error that repeats the secret,
 * `reject` makes a secret of the tool's shape that the tool refuses.
 */
async function scenario(
  tool: string,
  location: string,
  secret: string,
  settings: Record<string, unknown>,
  echoSecret: (secret: string) => void,
  reject = (s: string) => `${s.slice(0, 4)}Rejected${randomBytes(12).toString('hex')}`,
) {
  const created = await call('POST', '/api/v1/connectors', { tool, label: `scan-${tool}`, location, secret, settings, autoMap: true });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  expect((await call('POST', `/api/v1/connectors/${id}/check`)).status).toBe(200);
  expect((await runAndWait(`/api/v1/connectors/${id}/sync`)).status).toBe('succeeded');
  echoSecret(secret);
  const echoed = await runAndWait(`/api/v1/connectors/${id}/sync`);
  expect(echoed.status).not.toBe('succeeded');
  const wrong = reject(secret);
  expect((await call('PATCH', `/api/v1/connectors/${id}`, { secret: wrong })).status).toBe(200);
  expect((await call('POST', `/api/v1/connectors/${id}/check`)).status).toBe(422);
  expect((await runAndWait(`/api/v1/connectors/${id}/sync`)).error.type).toBe('AUTH_REJECTED');
  for (const path of ['/api/v1/connectors', `/api/v1/connectors/${id}`, `/api/v1/connectors/${id}/schedule`, '/api/v1/records', '/api/v1/operations', '/api/v1/findings?limit=500', '/api/v1/tools', '/api/v1/audit?limit=200']) {
    expect((await call('GET', path)).status).toBe(200);
  }
  return [secret, wrong];
}

it('no connector secret reaches a Temporal history, a log line or an API answer', async () => {
  // Every connector vulnsync ships takes part; a new one must be added here.
  expect(Object.keys(connectors).sort()).toEqual(['aws_security_hub', 'blackduck', 'bugcrowd', 'cobalt', 'dependency_track', 'edgescan', 'github', 'gitlab', 'harbor', 'semgrep', 'snyk', 'sonarqube']);

  const project = dtProject({ name: 'scanned', version: '1' });
  dt.state.projects.push(project);
  dt.state.findings[project.uuid] = [dtFinding(project, { name: 'lodash', version: '4.17.15' }, { vulnId: 'CVE-2021-23337', severity: 'HIGH' })];
  const dtSecrets = await scenario('dependency_track', dt.url, DEFAULT_DT_API_KEY, {}, (secret) =>
    dt.inject({ match: '/api/v1/finding', times: 20, respond: { status: 400, body: { message: `invalid request with key ${secret}` } } }),
  );

  gh.state.orgs.push('scan');
  const repo = ghRepo('scan', 'app');
  gh.state.repos.push(repo);
  gh.state.alerts[repo.id] = { codeScanning: [codeScanningAlert(repo, 1)], dependabot: [], secretScanning: [] };
  const ghSecrets = await scenario('github', gh.url, DEFAULT_GITHUB_TOKEN, { owner: 'scan' }, (secret) =>
    gh.inject({ match: '/repos/scan/app/code-scanning', times: 20, respond: { status: 400, body: { message: `Bad credentials: token ${secret} is malformed` } } }),
  );

  sg.state.deployments.push({ id: 1, slug: 'scan', name: 'Scan' });
  sg.state.projects.scan = [semgrepProject('scan/app')];
  sg.state.findings['scan/app'] = [semgrepFinding('scan/app', 'js.xss', 'src/app.js')];
  const sgSecrets = await scenario('semgrep', sg.url, DEFAULT_SEMGREP_TOKEN, {}, (secret) =>
    sg.inject({ match: '/api/v1/deployments/scan/findings', times: 20, respond: { status: 400, body: { error: `token ${secret} is malformed` } } }),
  );

  const asset = edgescanAsset('scanned');
  es.state.assets.push(asset);
  es.state.vulnerabilities.push(edgescanVulnerability(asset, 'Reflected XSS'));
  const esSecrets = await scenario('edgescan', es.url, DEFAULT_EDGESCAN_TOKEN, {}, (secret) =>
    es.inject({ match: '/api/v1/vulnerabilities', times: 20, respond: { status: 400, body: { message: `token ${secret} is malformed` } } }),
  );

  const target = cobaltAsset('scanned');
  cb.state.assets.push(target);
  cb.state.findings.push(cobaltFinding(target, 'IDOR'));
  const [apiToken, orgToken] = DEFAULT_COBALT_SECRET.split(':') as [string, string];
  const cbSecrets = await scenario(
    'cobalt',
    cb.url,
    DEFAULT_COBALT_SECRET,
    {},
    // Only the record's listing echoes: check's `/findings?limit=1` must meet the rejected token, not this echo of the old one.
    () => cb.inject({ match: '/findings', query: { asset: target.resource.id }, times: 20, respond: { status: 400, body: { message: `token ${apiToken} is malformed for org ${orgToken}` } } }),
    (s) => `Rejected${randomBytes(12).toString('hex')}:${s.split(':')[1]}`,
  );

  const snykProjectJson = snykProject('scan/app:package.json');
  sn.state.projects[DEFAULT_SNYK_ORG]!.push(snykProjectJson);
  sn.state.issues[DEFAULT_SNYK_ORG]!.push(snykIssue(snykProjectJson, 'Prototype Pollution'));
  const snSecrets = await scenario('snyk', sn.url, DEFAULT_SNYK_TOKEN, { orgId: DEFAULT_SNYK_ORG }, (secret) =>
    // Only the project's listing echoes: check's unfiltered issues request must meet the rejected token.
    sn.inject({ match: `/rest/orgs/${DEFAULT_SNYK_ORG}/issues`, query: { 'scan_item.id': snykProjectJson.id }, times: 20, respond: { status: 400, body: { errors: [{ detail: `token ${secret} is malformed` }] } } }),
  );

  const program = bugcrowdProgram('Scanned');
  bc.state.programs.push(program);
  bc.state.submissions.push(bugcrowdSubmission(program, 'Stored XSS'));
  const bcPassword = DEFAULT_BUGCROWD_TOKEN.split(':')[1]!;
  const bcSecrets = await scenario(
    'bugcrowd',
    bc.url,
    DEFAULT_BUGCROWD_TOKEN,
    {},
    // Only the program's listing echoes, the password alone: check's unfiltered request must meet the rejected token.
    () => bc.inject({ match: '/submissions', query: { 'filter[program]': program.id }, times: 20, respond: { status: 400, body: { errors: [{ detail: `token ${bcPassword} is malformed` }] } } }),
    (s) => `${s.split(':')[0]}:Rejected${randomBytes(12).toString('hex')}`,
  );

  aws.state.findings.push(asffFinding('CVE-2026-0002 - openssl'));
  const [accessKeyId, secretAccessKey] = DEFAULT_AWS_SECRET.split(':') as [string, string];
  const awsSecrets = await scenario(
    'aws_security_hub',
    aws.url,
    DEFAULT_AWS_SECRET,
    { regions: ['eu-central-1'] },
    // STS (discover's GetCallerIdentity, on POST /) echoes once: the sync fails there, and it is spent before check meets the rejected key.
    () =>
      aws.inject({
        match: /^\/$/,
        respond: { status: 400, headers: { 'Content-Type': 'text/xml' }, rawBody: `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>key ${accessKeyId} with secret ${secretAccessKey} is malformed</Message></Error></ErrorResponse>` },
      }),
    (s) => `AKIAREJECTED${randomBytes(6).toString('hex').toUpperCase()}:${s.split(':')[1]}`,
  );

  sq.state.projects.push(sonarProject('scanned'));
  sq.state.issues.push(sonarIssue('scanned', 'SQL injection'));
  sq.state.hotspots.push(sonarHotspot('scanned', 'Weak hash'));
  const sqSecrets = await scenario('sonarqube', sq.url, DEFAULT_SONARQUBE_TOKEN, {}, (secret) =>
    sq.inject({ match: '/api/issues/search', times: 20, respond: { status: 400, body: { errors: [{ msg: `token ${secret} is malformed` }] } } }),
  );

  hb.state.projects.push({ project_id: 1, name: 'scan', cve_allowlist: { items: [] } });
  hb.state.repositories['scan/app/web'] = [harborArtifact('v1', '2026-11-01T00:00:00.000Z', [harborVulnerability('CVE-2021-44228', 'log4j-core', '2.14.1')])];
  const robotSecret = DEFAULT_HARBOR_SECRET.split(':')[1]!;
  const hbSecrets = await scenario(
    'harbor',
    hb.url,
    DEFAULT_HARBOR_SECRET,
    {},
    () => hb.inject({ match: '/api/v2.0/projects/scan/repositories/app%252Fweb/artifacts', times: 20, respond: { status: 400, body: { errors: [{ code: 'BAD_REQUEST', message: `token ${robotSecret} is malformed` }] } } }),
    (s) => `${s.split(':')[0]}:Rejected${randomBytes(12).toString('hex')}`,
  );

  const bdProject = blackDuckProject('scanned', ['1.0']);
  bd.state.projects.push(bdProject);
  bd.state.bom[bdProject.versions[0]!.id] = [blackDuckVulnerability('lodash', '4.17.15', 'CVE-2021-23337')];
  // The API token only goes to the token exchange; a tool echoing it elsewhere must still not leak it.
  const bdSecrets = await scenario('blackduck', bd.url, DEFAULT_BLACKDUCK_API_TOKEN, {}, (secret) =>
    bd.inject({ match: '/api/projects/', times: 20, respond: { status: 400, body: { errorMessage: `token ${secret} is malformed` } } }),
  );

  const glProject = gitlabProject('scan/app');
  gl.state.projects.push(glProject);
  gl.state.vulnerabilities['scan/app'] = [gitlabVulnerability(glProject, 'Hardcoded secret')];
  const glSecrets = await scenario('gitlab', gl.url, DEFAULT_GITLAB_TOKEN, {}, (secret) =>
    gl.inject({ match: '/api/graphql', times: 20, respond: { status: 400, body: { message: `token ${secret} is malformed` } } }),
  );

  const cli = await ensureTemporalCli();
  const histories: string[] = [];
  for await (const run of temporal.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) {
    const { stdout } = await execFileAsync(cli, ['workflow', 'show', '--workflow-id', run.workflowId, '--run-id', run.runId, '--output', 'json', '--address', testTemporalAddress()], {
      maxBuffer: 64 * 1024 * 1024,
    });
    histories.push(stdout);
  }
  expect(histories.length).toBeGreaterThanOrEqual(8);

  const everywhere = { histories: histories.join('\n'), logs: logs.join('\n'), answers: answers.join('\n') };
  // The scan sees what it should: the runs, their logs and the answers are all there.
  expect(everywhere.histories).toContain('AUTH_REJECTED');
  expect(everywhere.logs).toContain('request');
  // The tools' echoes of the secrets did reach the operations, redacted.
  expect(everywhere.answers).toMatch(/key \[redacted\]/);
  expect(everywhere.answers).toMatch(/token \[redacted\] is malformed/);
  // Two-part credentials (Cobalt's tokens, AWS's key id and secret key, Bugcrowd's and Harbor's passwords) are each a secret of their own.
  const parts = [bcPassword, apiToken, orgToken, accessKeyId, secretAccessKey, robotSecret];
  const all = [...dtSecrets, ...ghSecrets, ...sgSecrets, ...esSecrets, ...cbSecrets, ...snSecrets, ...bcSecrets, ...awsSecrets, ...sqSecrets, ...hbSecrets, ...bdSecrets, ...glSecrets];
  for (const secret of [...all, ...parts]) {
    for (const [where, text] of Object.entries(everywhere)) expect({ where, leaked: text.includes(secret) }).toEqual({ where, leaked: false });
  }
}, 240_000);
