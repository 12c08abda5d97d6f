// Records the histories test/workflows/replay.test.ts replays, from real runs of the code checked out: a single
// record's run that succeeds, one that fails (the tool rejects the key), and a connector sync with its record's
// child. Not part of the suite; when a workflow changes shape behind a new patch, record the new shape with
//   HISTORY_OUT=test/fixtures/histories/<shape> npm test -- --testMatch '**/workflows/record-histories.ts'
// and add <shape> to the replay test. The worker identity (host and pid) is left out of what is written.
import { mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { DEFAULT_DT_API_KEY, dtFinding, dtProject, startDependencyTrackFake } from '../fakes/dependency-track.js';
import { ensureTemporalCli } from '../../src/devstack/temporal-cli.js';
import { endToEnd } from '../support/tool-sync.js';

const OUT = process.env.HISTORY_OUT;
if (!OUT) throw new Error('HISTORY_OUT must name the directory to write the histories to');
const e2e = endToEnd();

async function save(name: string, workflowId: string, runId?: string) {
  const { stack } = e2e;
  const handle = stack.temporal.client.workflow.getHandle(workflowId, runId);
  await handle.result().catch(() => undefined);
  const args = ['workflow', 'show', '--address', process.env.VULNSYNC_TEST_TEMPORAL_ADDRESS!, '--namespace', stack.temporal.client.options.namespace, '-w', workflowId, '-o', 'json'];
  if (runId) args.push('-r', runId);
  const json = execFileSync(await ensureTemporalCli(), args, { encoding: 'utf8' });
  mkdirSync(OUT!, { recursive: true });
  writeFileSync(`${OUT}/${name}.json`, json.replace(/"identity": "[^"]*"/g, '"identity": "fixture-worker"'));
}

it('records the histories', async () => {
  const { stack } = e2e;
  const tool = await startDependencyTrackFake();
  e2e.fakes.push(tool);
  const project = dtProject({ name: 'replayed', version: '1' });
  const lodash = dtFinding(project, { name: 'lodash', version: '4.17.15' }, { vulnId: 'CVE-2021-23337', severity: 'HIGH' });
  const minimist = dtFinding(project, { name: 'minimist', version: '1.2.5' }, { vulnId: 'CVE-2021-44906', severity: 'CRITICAL' });
  tool.state.projects.push(project);
  tool.state.findings[project.uuid] = [lodash, minimist];
  const created = await stack.call('POST', '/api/v1/connectors', { tool: 'dependency_track', label: 'replayed', location: tool.url, secret: DEFAULT_DT_API_KEY, autoMap: true });
  const connectorId = created.body.id as string;
  await stack.waitForOperation((await stack.call('POST', `/api/v1/connectors/${connectorId}/discover`)).body.operationId);
  const [record] = (await stack.call('GET', `/api/v1/records?connectorId=${connectorId}`)).body.items;

  const single = await stack.call('POST', `/api/v1/records/${record.id}/sync`);
  expect(await stack.waitForOperation(single.body.operationId)).toMatchObject({ status: 'succeeded' });
  await save('record-sync-succeeded', single.body.workflowId, single.body.runId);

  const connectorSync = await stack.call('POST', `/api/v1/connectors/${connectorId}/sync`);
  expect(await stack.waitForOperation(connectorSync.body.operationId, 60_000)).toMatchObject({ status: 'succeeded' });
  await save('connector-sync', connectorSync.body.workflowId, connectorSync.body.runId);
  await save('record-sync-child', `sync/${connectorId}/${record.id}`);

  tool.state.apiKey = 'odt_rotatedKey000000000000000000000000';
  const failed = await stack.call('POST', `/api/v1/records/${record.id}/sync`);
  expect(await stack.waitForOperation(failed.body.operationId)).toMatchObject({ status: 'failed' });
  await save('record-sync-failed', failed.body.workflowId, failed.body.runId);
}, 180_000);
