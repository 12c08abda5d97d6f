import type { Severity } from '../../domain.js';
import type { DiscoveredRecord, NormalizedFinding } from '../types.js';
import type { DtFinding, DtProject } from './api.js';

const SEVERITY: Record<string, Severity> = {
  CRITICAL: 'Critical',
  HIGH: 'High',
  MEDIUM: 'Medium',
  LOW: 'Low',
  INFO: 'Info',
  UNASSIGNED: 'Info',
};

/** Analysis states in which a person decided the component is not affected: the finding is a false positive. */
const NOT_AFFECTED_STATES = new Set(['FALSE_POSITIVE', 'NOT_AFFECTED']);

/** The analysis state in which a person confirmed the vulnerability is exploitable here: a verified finding. */
const VERIFIED_STATE = 'EXPLOITABLE';

/** A project is a VEP; its uuid is stable across renames and new versions of the same project row. */
export function projectToRecord(project: DtProject): DiscoveredRecord {
  const version = project.version?.trim() || null;
  return {
    externalId: project.uuid,
    name: version ? `${project.name} ${version}` : project.name,
    metadata: {
      projectName: project.name,
      version,
      active: project.active ?? (project.inactiveSince === null || project.inactiveSince === undefined),
      classifier: project.classifier ?? null,
      description: project.description ?? null,
      tags: (project.tags ?? []).map((tag) => tag.name),
      parentUuid: project.parent?.uuid ?? null,
      lastBomImport: toIsoDate(project.lastBomImport),
    },
  };
}

/**
 * Maps one Dependency-Track finding. Identity is the `matrix` (project:component:vulnerability uuids);
 * an analysis of FALSE_POSITIVE / NOT_AFFECTED is a false positive, and a suppressed finding otherwise
 * is an accepted risk (suppression hides it in Dependency-Track without calling it wrong). EXPLOITABLE
 * makes it verified. Dependency-Track gives a finding no URL of its own, so `endpoint` stays empty.
 */
export function findingFromDependencyTrack(
  item: DtFinding,
  raw: unknown,
  projectUuid: string,
): NormalizedFinding & { uniqueIdFromTool: string } {
  const { component, vulnerability } = item;
  const state = item.analysis?.state ?? 'NOT_SET';
  const falseP = NOT_AFFECTED_STATES.has(state);
  const componentLabel = `${component.group ? `${component.group}/` : ''}${component.name}${component.version ? `@${component.version}` : ''}`;
  const cvss = chooseCvss(vulnerability);
  return {
    title: `${vulnerability.vulnId} in ${componentLabel}`,
    severity: SEVERITY[(vulnerability.severity ?? '').toUpperCase()] ?? 'Info',
    description: vulnerability.description ?? vulnerability.title ?? vulnerability.subtitle ?? null,
    mitigation: vulnerability.recommendation ?? null,
    references: vulnerability.references ?? item.attribution?.referenceUrl ?? null,
    cwes: cwesOf(vulnerability),
    vulnerabilityIds: vulnerabilityIdsOf(vulnerability),
    cvssVector: cvss.vector,
    cvssScore: cvss.score,
    componentName: component.name,
    componentVersion: component.version ?? null,
    uniqueIdFromTool: item.matrix ?? `${component.project ?? projectUuid}:${component.uuid}:${vulnerability.uuid}`,
    vulnIdFromTool: vulnerability.vulnId,
    verified: state === VERIFIED_STATE,
    falseP,
    riskAccepted: !falseP && item.analysis?.isSuppressed === true,
    raw,
  };
}

function cwesOf(vulnerability: DtFinding['vulnerability']): number[] | null {
  const ids = new Set<number>();
  for (const cwe of vulnerability.cwes ?? []) ids.add(cwe.cweId);
  if (typeof vulnerability.cweId === 'number') ids.add(vulnerability.cweId);
  return ids.size > 0 ? [...ids].sort((a, b) => a - b) : null;
}

/** The vulnerability's own id first, then every alias Dependency-Track correlated (CVE, GHSA, OSV, Snyk, …). */
function vulnerabilityIdsOf(vulnerability: DtFinding['vulnerability']): string[] {
  const ids = [vulnerability.vulnId];
  for (const alias of vulnerability.aliases ?? []) {
    for (const value of Object.values(alias)) {
      if (typeof value === 'string' && value.trim() && !ids.includes(value.trim())) ids.push(value.trim());
    }
  }
  return ids;
}

/** CVSS v3 when scored, else v4, else v2; vector and score always from the same version. */
function chooseCvss(v: DtFinding['vulnerability']): { vector: string | null; score: number | null } {
  const candidates = [
    { vector: v.cvssV3Vector, score: v.cvssV3BaseScore },
    { vector: v.cvssV4Vector, score: v.cvssV4Score },
    { vector: v.cvssV2Vector, score: v.cvssV2BaseScore },
  ];
  const chosen = candidates.find((c) => c.vector || typeof c.score === 'number');
  return { vector: chosen?.vector ?? null, score: chosen?.score ?? null };
}

function toIsoDate(value: number | string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
