/**
 * `npm run chaos`: the fault suite (issue 7). Starts vulnsync in real processes, runs every scenario,
 * prints one row each and writes docs/reliability.md. `-- --only '<text>[|<text>…]'` runs the scenarios whose
 * name contains one of the texts (and writes no file). Exits non-zero when any row fails.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { ensurePostgresUp } from './postgres.js';
import { machineLine, reliabilityDoc, TABLE_HEADER, tableRow } from './report.js';
import { allScenarios, type Scenario, type ScenarioResult } from './scenarios.js';
import { ChaosStack } from './stack.js';

const DOC = new URL('../docs/reliability.md', import.meta.url);
/** Hand-written analysis below the generated table survives a re-run. */
const ANALYSIS_MARKER = '## What the suite found';

function selected(): Scenario[] {
  const at = process.argv.indexOf('--only');
  const filters = at >= 0 ? (process.argv[at + 1] ?? '').toLowerCase().split('|') : undefined;
  return filters ? allScenarios.filter((s) => filters.some((f) => s.name.toLowerCase().includes(f))) : allScenarios;
}

async function runOne(stack: ChaosStack, scenario: Scenario): Promise<ScenarioResult> {
  const started = Date.now();
  let result: ScenarioResult;
  try {
    result = await scenario.run(stack);
  } catch (error) {
    result = { scenario: scenario.name, passed: false, measurement: null, recoverMs: null, problems: [(error as Error).message], notes: [] };
  }
  console.log(tableRow(result));
  if (!result.passed) console.error(`  ${scenario.name} failed after ${Math.round((Date.now() - started) / 1000)} s; last output:\n${stack.tail()}`);
  // A scenario that killed the worker and failed before starting another must not leave the next without one.
  if (!stack.worker) await stack.startWorker();
  return result;
}

async function main(): Promise<number> {
  const scenarios = selected();
  const began = Date.now();
  const stack = await ChaosStack.start({ keepLogs: true, log: (line) => console.error(`[chaos] ${line}`) });
  // Ctrl-C must not leave the worker, the API, the Temporal server or a stopped PostgreSQL behind.
  const interrupted = (signal: NodeJS.Signals) => {
    console.error(`chaos: ${signal}, stopping the stack`);
    void ensurePostgresUp()
      .catch(() => undefined)
      .then(() => stack.stop())
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const results = new Map<Scenario, ScenarioResult>();
  try {
    console.log(TABLE_HEADER);
    // Scenarios that only disturb their own tool run side by side; those that kill or restart a shared process run alone.
    const shared = scenarios.filter((s) => !s.exclusive);
    await Promise.all(shared.map(async (s) => results.set(s, await runOne(stack, s))));
    for (const s of scenarios.filter((s) => s.exclusive)) results.set(s, await runOne(stack, s));
  } finally {
    await ensurePostgresUp();
    await stack.stop();
  }
  const ordered = scenarios.map((s) => results.get(s)!).filter(Boolean);
  const totalMs = Date.now() - began;
  if (scenarios === allScenarios) {
    let analysis = '';
    try {
      const old = readFileSync(DOC, 'utf8');
      const at = old.indexOf(ANALYSIS_MARKER);
      if (at >= 0) analysis = `\n${old.slice(at)}`;
    } catch {
      // First run: nothing to keep.
    }
    writeFileSync(DOC, reliabilityDoc(ordered, machineLine(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'), totalMs) + analysis);
    console.log('wrote docs/reliability.md');
  }
  const failed = ordered.filter((r) => !r.passed).length;
  console.log(`${ordered.length - failed} of ${ordered.length} scenarios passed in ${Math.round(totalMs / 1000)} s; worker and API output in ${stack.logDir}`);
  return failed === 0 ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`chaos: ${(error as Error).stack ?? String(error)}`);
  await ensurePostgresUp().catch(() => undefined);
  process.exitCode = 1;
}
