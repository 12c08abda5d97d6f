import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import type { ScenarioResult } from './scenarios.js';

export const TABLE_HEADER = '| scenario | outcome | findings expected/actual | duplicates | wrongly closed | time to recover | details |\n|---|---|---:|---:|---:|---:|---|';

function seconds(ms: number | null): string {
  return ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`;
}

/** One table row; a failed row leads its details with what went wrong. */
export function tableRow(r: ScenarioResult): string {
  const m = r.measurement;
  const details = [...r.problems, ...r.notes].join('; ').replaceAll('|', '/').replaceAll('\n', ' ');
  return `| ${r.scenario} | ${r.passed ? 'passed' : '**FAILED**'} | ${m ? `${m.expected}/${m.actual}` : '—'} | ${m?.duplicates ?? '—'} | ${m?.wronglyClosed ?? '—'} | ${seconds(r.recoverMs)} | ${details} |`;
}

export function machineLine(databaseUrl: string): string {
  const cpu = cpus();
  let pgVersion = 'unknown';
  try {
    pgVersion = execFileSync('psql', ['-At', databaseUrl, '-c', 'show server_version'], { encoding: 'utf8' }).trim();
  } catch {
    // The table matters more than the version line.
  }
  return `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node.js ${process.version}, PostgreSQL ${pgVersion} (local), Temporal dev server (SQLite file)`;
}

export function reliabilityDoc(results: ScenarioResult[], machine: string, totalMs: number): string {
  const failed = results.filter((r) => !r.passed);
  return `# Reliability

Produced by \`npm run chaos\` (chaos/run.ts) on ${new Date().toISOString().slice(0, 10)} in ${Math.round(totalMs / 60_000)} min; re-run it to
refresh this file. Machine: ${machine}.

Every row drives real processes: \`npm run worker\` and \`npm run api\` as child processes (a SIGKILL is a real
one), the Temporal dev server on its SQLite file, the machine's PostgreSQL (\`pg_ctlcluster\`), and a fake
Dependency-Track per scenario with faults injected into its answers. Each scenario first syncs its connector
cleanly, so there are open findings a fault could wrongly close; where the fault is transient the tool
also fixes one finding and reports a new one before the faulted sync.

The columns are computed from the database after the run ends, against what the tool reports at that moment:
*findings expected/actual* is the tool's findings against the connector's active findings; *duplicates*
counts active findings beyond the first with the same Record and tool id; *wrongly closed* counts closed
findings the tool still reports. A row passes only with nothing lost, created, duplicated or wrongly closed,
and an Operation whose final status is the one the fault calls for (\`partial\` naming the failed record's
error type for a lasting fault, \`succeeded\` for a transient one). *Time to recover* runs from the fault to
the Operation's final status; a run not final within its limit fails the row.

${TABLE_HEADER}
${results.map(tableRow).join('\n')}

${failed.length === 0 ? 'All rows passed.' : `${failed.length} of ${results.length} rows failed; see "What the suite found" below.`}
`;
}
