import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import { bundleInChildProcess } from '../../src/bundle-workflows.js';
import { historyFromCliJson } from '../support/histories.js';

/**
 * Histories recorded from real runs of each shape a record's sync has had (test/fixtures/histories), replayed on
 * today's workflow code. A deploy must not break a run in flight, and a reset from the Temporal UI replays a run
 * up to the reset point: each must replay without a determinism error.
 * - `steps`: before `folded-record-steps` (prepare, fetch, apply and the outcome as four activities);
 * - `folded`: before `local-record-steps` (the fetch and the apply as two activities);
 * - `local`: today's shape (the fetch and the apply tried as local activities first).
 * Each holds a single record's run that succeeded, one that failed (a rejected API key), and a connector sync
 * with its record's child run.
 */
const FIXTURES = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));
const SHAPES = ['steps', 'folded', 'local'] as const;

let bundle: { codePath: string; cleanUp(): Promise<void> };

beforeAll(async () => {
  // Bundled in a child process, as the worker does: webpack inside Jest's module sandbox is slow.
  bundle = await bundleInChildProcess();
}, 120_000);
afterAll(async () => {
  await bundle?.cleanUp();
});

async function fixtures(shape: string): Promise<{ name: string; workflowId: string; history: ReturnType<typeof historyFromCliJson> }[]> {
  const dir = join(FIXTURES, shape);
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  return Promise.all(
    names.map(async (name) => {
      const history = historyFromCliJson(JSON.parse(await readFile(join(dir, name), 'utf8')));
      return { name, workflowId: `replay/${shape}/${name}`, history };
    }),
  );
}

describe.each(SHAPES)('histories of the %s shape', (shape) => {
  it('replay on today’s workflow code', async () => {
    const histories = await fixtures(shape);
    expect(histories.map((h) => h.name)).toEqual(['connector-sync.json', 'record-sync-child.json', 'record-sync-failed.json', 'record-sync-succeeded.json']);
    for (const { workflowId, history } of histories) {
      await expect(Worker.runReplayHistory({ workflowBundle: { codePath: bundle.codePath } }, history, workflowId)).resolves.toBeUndefined();
    }
  }, 120_000);
});

it('a history that does not match the code fails its replay (the check above can fail)', async () => {
  const [succeeded] = (await fixtures('local')).filter((h) => h.name === 'record-sync-succeeded.json');
  const history = structuredClone(succeeded!.history);
  // The run's first activity recorded as another type: today's code schedules startOperation there.
  const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes)!.activityTaskScheduledEventAttributes!;
  expect(scheduled.activityType?.name).toBe('startOperation');
  scheduled.activityType = { name: 'finishOperation' };
  await expect(Worker.runReplayHistory({ workflowBundle: { codePath: bundle.codePath } }, history, 'replay/tampered')).rejects.toMatchObject({ name: 'DeterminismViolationError' });
}, 120_000);
