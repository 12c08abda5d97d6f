import { manualAndScheduled, toolScenarios, workerKillMidApply, workerKillMidFetch, type Scenario } from '../../chaos/scenarios.js';
import { ChaosStack } from '../../chaos/stack.js';
import { testTemporalAddress } from '../support/temporal.js';

/**
 * The cheap rows of `npm run chaos` (none restarts PostgreSQL or Temporal, which other test files share), with the same scenario code, on the run's Temporal server: the worker
 * and the API are real child processes, so the SIGKILL is a real one.
 */
let stack: ChaosStack;

beforeAll(async () => {
  stack = await ChaosStack.start({ temporalAddress: testTemporalAddress() });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const scenario = (name: string): Scenario => {
  const found = toolScenarios.find((s) => s.name.startsWith(name));
  if (!found) throw new Error(`no scenario ${name}`);
  return found;
};

async function expectPasses(s: Scenario): Promise<void> {
  const result = await s.run(stack);
  // The problems say what went wrong (lost, duplicated or wrongly closed findings, an untruthful Operation).
  expect(result.problems).toEqual([]);
  expect(result.measurement).toMatchObject({ lost: 0, extra: 0, duplicates: 0, wronglyClosed: 0 });
}

describe('the fault suite, cheap rows', () => {
  it('the tool answers 503 four times, then 200: the record retries and syncs exactly', () => expectPasses(scenario('tool answers 503')), 60_000);
  it('a truncated body is fetched again, and nothing is closed on the way', () => expectPasses(scenario('truncated body')), 60_000);
  it('garbage from the tool fails the record and closes nothing', () => expectPasses(scenario('garbage body')), 60_000);
  // The row also holds the promise that a dead worker's work resumes within 30 s of a new worker being up.
  it('a worker killed mid-apply of 20,000 findings: a new worker applies them once', () => expectPasses(workerKillMidApply), 180_000);
  it('a worker killed mid-fetch: a new worker resumes the fetch within 30 s', () => expectPasses(workerKillMidFetch), 180_000);
  it('a manual and a scheduled sync at once make one sync', () => expectPasses(manualAndScheduled), 60_000);
});
