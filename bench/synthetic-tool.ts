import type { ChaosStack } from '../chaos/stack.js';
import { Workload } from '../chaos/workload.js';
import { dtFinding, type DtFindingJson, type DtProjectJson } from '../test/fakes/dependency-track.js';

/** Findings per synthetic project. */
export const FINDINGS = Number(process.env.BENCH_FANOUT_FINDINGS ?? 100);

/** The findings of a project, made when the tool is asked (N × M findings would not fit in memory at once). */
export function lazyFindings(projects: DtProjectJson[]): Record<string, DtFindingJson[]> {
  const byUuid = new Map(projects.map((p, i) => [p.uuid, { project: p, index: i }]));
  return new Proxy({} as Record<string, DtFindingJson[]>, {
    get(_, uuid) {
      const known = typeof uuid === 'string' ? byUuid.get(uuid) : undefined;
      if (!known) return undefined;
      return Array.from({ length: FINDINGS }, (_, k) => {
        const n = known.index * FINDINGS + k;
        return dtFinding(
          known.project,
          { name: `package-${n % 2500}`, version: `${(n % 7) + 1}.${n % 13}.${n % 5}` },
          { vulnId: `CVE-20${20 + (n % 6)}-${100000 + n}`, severity: (['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const)[n % 4]!, cvssV3BaseScore: 7.5, description: `Synthetic finding ${n}: a flaw that lets a remote attacker cause a denial of service.` },
        );
      });
    },
  });
}

/** A connector of its own on a synthetic tool of `records` projects, created through the API with auto-map. */
export async function syntheticConnector(stack: ChaosStack, label: string, records: number): Promise<Workload> {
  const workload = await Workload.create(stack, label, { projects: records, findings: 0 });
  workload.tool.state.findings = lazyFindings(workload.projects);
  return workload;
}

