import type { NormalizedFinding } from '../src/connectors/types.js';
import { SEVERITIES, type Severity } from '../src/domain.js';

/** Realistic spread of severities in SCA results. */
const SEVERITY_WEIGHTS: [Severity, number][] = [
  ['Critical', 0.05],
  ['High', 0.25],
  ['Medium', 0.45],
  ['Low', 0.2],
  ['Info', 0.05],
];

function severityFor(i: number): Severity {
  const x = ((i * 2654435761) % 1000) / 1000;
  let acc = 0;
  for (const [s, w] of SEVERITY_WEIGHTS) {
    acc += w;
    if (x < acc) return s;
  }
  return 'Info';
}

/** One synthetic SCA finding: component@version × vulnerability, with a realistic description and raw item. */
export function syntheticFinding(i: number, severity: Severity = severityFor(i)): NormalizedFinding {
  const component = `package-${i % 2500}`;
  const version = `${(i % 7) + 1}.${i % 13}.${i % 5}`;
  const cve = `CVE-20${20 + (i % 6)}-${10000 + i}`;
  return {
    title: `${cve} in ${component}@${version}`,
    severity,
    description:
      `A flaw in ${component} before ${version} allows a remote attacker to cause a denial of service or ` +
      `possibly execute arbitrary code via crafted input to the parser (issue ${i}).`,
    mitigation: `Upgrade ${component} to ${(i % 7) + 2}.0.0 or later.`,
    references: `https://nvd.nist.gov/vuln/detail/${cve}`,
    cwes: [[79, 89, 400, 1333, 20][i % 5]!],
    vulnerabilityIds: [cve, `GHSA-${(i * 7919).toString(36).padStart(4, '0')}-xxxx-yyyy`],
    cvssVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    cvssScore: SEVERITIES.indexOf(severity) === 0 ? 9.8 : 7.5 - SEVERITIES.indexOf(severity),
    componentName: component,
    componentVersion: version,
    uniqueIdFromTool: `project:${component}:${cve}`,
    vulnIdFromTool: cve,
    raw: {
      component: { name: component, version, purl: `pkg:npm/${component}@${version}` },
      vulnerability: { vulnId: cve, source: 'NVD', severity: severity.toUpperCase(), cvssV3BaseScore: 7.5 },
      analysis: { isSuppressed: false },
      matrix: `project:${component}:${cve}`,
    },
  };
}

/** `count` findings numbered from `offset`. */
export function syntheticFindings(count: number, offset = 0): NormalizedFinding[] {
  return Array.from({ length: count }, (_, k) => syntheticFinding(offset + k));
}

/**
 * The 10 % churn of the benchmark: 5 % of the findings gone, 5 % new ones, and 2 % with a changed
 * severity, from the same base set.
 */
export function churned(count: number): NormalizedFinding[] {
  const gone = Math.floor(count * 0.05);
  const changed = Math.floor(count * 0.02);
  const kept = syntheticFindings(count).slice(gone);
  for (let k = 0; k < changed; k++) {
    const f = kept[k]!;
    kept[k] = { ...f, severity: f.severity === 'Critical' ? 'High' : 'Critical' };
  }
  return kept.concat(syntheticFindings(gone, count));
}
