import type { Severity } from '../../domain.js';
import type { DiscoveredRecord, NormalizedFinding } from '../types.js';
import type { GhCodeScanningAlert, GhDependabotAlert, GhRepository, GhSecretScanningAlert } from './api.js';

/** A repository is a VEP. Its numeric id is the external id: it survives renames and transfers, the full name does not. */
export function repositoryToRecord(repo: GhRepository): DiscoveredRecord {
  return {
    externalId: String(repo.id),
    name: repo.full_name,
    metadata: {
      fullName: repo.full_name,
      defaultBranch: repo.default_branch ?? null,
      archived: repo.archived ?? false,
      visibility: repo.visibility ?? (repo.private ? 'private' : 'public'),
      fork: repo.fork ?? false,
      htmlUrl: repo.html_url ?? null,
    },
  };
}

const ADVISORY_SEVERITY: Record<string, Severity> = {
  critical: 'Critical',
  high: 'High',
  medium: 'Medium',
  moderate: 'Medium',
  low: 'Low',
};

/** SARIF levels for rules without a security severity (code quality queries). */
const RULE_SEVERITY: Record<string, Severity> = { error: 'High', warning: 'Medium', note: 'Low', none: 'Info' };

/** Code scanning `dismissed_reason`: "false positive" is wrong; "won't fix" and "used in tests" are accepted. */
const CODE_SCANNING_DISMISSAL: Record<string, 'falseP' | 'riskAccepted'> = {
  'false positive': 'falseP',
  "won't fix": 'riskAccepted',
  'used in tests': 'riskAccepted',
};

/**
 * Dependabot `dismissed_reason`: "inaccurate" is wrong; "tolerable_risk", "no_bandwidth", "not_used" are
 * accepted. "fix_started" is not a triage decision — the vulnerability is still there until the fix lands —
 * so such an alert stays an open, untriaged finding.
 */
const DEPENDABOT_DISMISSAL: Record<string, 'falseP' | 'riskAccepted' | 'open'> = {
  inaccurate: 'falseP',
  tolerable_risk: 'riskAccepted',
  no_bandwidth: 'riskAccepted',
  not_used: 'riskAccepted',
  fix_started: 'open',
};

/** Secret scanning `resolution`: "false_positive" is wrong; "wont_fix" and "used_in_tests" are accepted. "revoked" (and pattern changes) end it. */
const SECRET_RESOLUTION: Record<string, 'falseP' | 'riskAccepted'> = {
  false_positive: 'falseP',
  wont_fix: 'riskAccepted',
  used_in_tests: 'riskAccepted',
};

function triage(decision: 'falseP' | 'riskAccepted' | 'open' | undefined): Pick<NormalizedFinding, 'falseP' | 'riskAccepted'> {
  return { falseP: decision === 'falseP', riskAccepted: decision === 'riskAccepted' };
}

/** A current code scanning alert (open or dismissed), or null for fixed/closed ones, which are no longer current. */
export function findingFromCodeScanningAlert(alert: GhCodeScanningAlert, raw: unknown): NormalizedFinding | null {
  if (alert.state !== 'open' && alert.state !== 'dismissed') return null;
  const decision = alert.state === 'dismissed' ? (CODE_SCANNING_DISMISSAL[alert.dismissed_reason ?? ''] ?? 'riskAccepted') : undefined;
  const { rule } = alert;
  const instance = alert.most_recent_instance;
  const severity =
    ADVISORY_SEVERITY[(rule.security_severity_level ?? '').toLowerCase()] ?? RULE_SEVERITY[(rule.severity ?? '').toLowerCase()] ?? 'Info';
  const tool = alert.tool?.name ? `${alert.tool.name}${alert.tool.version ? ` ${alert.tool.version}` : ''}` : null;
  return {
    title: rule.description || rule.name || rule.id || `Code scanning alert ${alert.number}`,
    severity,
    description: paragraphs([
      instance?.message?.text,
      rule.full_description,
      rule.id ? `Rule: ${rule.id}${tool ? ` (${tool})` : ''}` : null,
      alert.dismissed_comment ? `Dismissal comment: ${alert.dismissed_comment}` : null,
    ]),
    mitigation: rule.help ?? null,
    references: alert.html_url ?? null,
    cwes: cwesFromTags(rule.tags ?? []),
    filePath: instance?.location?.path ?? null,
    line: instance?.location?.start_line ?? null,
    endpoint: alert.html_url ?? null,
    uniqueIdFromTool: `code_scanning:${alert.number}`,
    vulnIdFromTool: rule.id ?? null,
    ...triage(decision),
    raw,
  };
}

/** A current Dependabot alert (open or dismissed), or null for fixed / auto-dismissed ones. */
export function findingFromDependabotAlert(alert: GhDependabotAlert, raw: unknown): NormalizedFinding | null {
  if (alert.state !== 'open' && alert.state !== 'dismissed') return null;
  const decision = alert.state === 'dismissed' ? (DEPENDABOT_DISMISSAL[alert.dismissed_reason ?? ''] ?? 'riskAccepted') : undefined;
  const advisory = alert.security_advisory;
  const vulnerability = alert.security_vulnerability;
  const pkg = alert.dependency.package;
  const patched = vulnerability?.first_patched_version?.identifier ?? null;
  const ids = [advisory.ghsa_id, advisory.cve_id, ...(advisory.identifiers ?? []).map((i) => i.value)].filter(
    (id, index, all): id is string => typeof id === 'string' && id !== '' && all.indexOf(id) === index,
  );
  const cvss = [advisory.cvss_severities?.cvss_v3, advisory.cvss_severities?.cvss_v4, advisory.cvss].find(
    (c) => c && (c.vector_string || (typeof c.score === 'number' && c.score > 0)),
  );
  return {
    title: advisory.summary || `${advisory.ghsa_id} in ${pkg.name}`,
    severity: ADVISORY_SEVERITY[(vulnerability?.severity ?? advisory.severity ?? '').toLowerCase()] ?? 'Info',
    description: paragraphs([
      advisory.description,
      `Package: ${pkg.name}${pkg.ecosystem ? ` (${pkg.ecosystem})` : ''}`,
      vulnerability?.vulnerable_version_range ? `Vulnerable versions: ${vulnerability.vulnerable_version_range}` : null,
      alert.dependency.scope ? `Scope: ${alert.dependency.scope}` : null,
    ]),
    mitigation: patched ? `Upgrade ${pkg.name} to ${patched} or later.` : `No patched version of ${pkg.name} is available yet.`,
    references: [alert.html_url, ...(advisory.references ?? []).map((r) => r.url)].filter(Boolean).join('\n') || null,
    cwes: cweNumbers((advisory.cwes ?? []).map((c) => c.cwe_id)),
    vulnerabilityIds: ids,
    cvssVector: cvss?.vector_string ?? null,
    cvssScore: cvss?.score ?? null,
    componentName: pkg.name,
    filePath: alert.dependency.manifest_path ?? null,
    endpoint: alert.html_url ?? null,
    uniqueIdFromTool: `dependabot:${alert.number}`,
    vulnIdFromTool: advisory.ghsa_id,
    ...triage(decision),
    raw,
  };
}

/**
 * A current secret scanning alert (open, or resolved as false positive / won't fix / used in tests), or
 * null for revoked ones: a revoked secret is no longer a risk. `raw` must already be free of the secret.
 * Verified when GitHub's validity check found the secret active.
 */
export function findingFromSecretScanningAlert(alert: GhSecretScanningAlert, raw: unknown): NormalizedFinding | null {
  const decision = alert.state === 'open' ? undefined : SECRET_RESOLUTION[alert.resolution ?? ''];
  if (alert.state !== 'open' && decision === undefined) return null;
  const kind = alert.secret_type_display_name || alert.secret_type || 'secret';
  const location = alert.first_location_detected;
  return {
    title: `Exposed secret: ${kind}`,
    severity: 'High',
    description: paragraphs([
      `GitHub secret scanning found a ${kind} committed to this repository.`,
      alert.validity ? `Validity: ${alert.validity}` : null,
      alert.publicly_leaked ? 'The secret has also leaked publicly.' : null,
      alert.push_protection_bypassed ? 'Push protection was bypassed for this secret.' : null,
    ]),
    mitigation: 'Revoke the secret at its provider, rotate it, and remove it from the repository history.',
    references: alert.html_url ?? null,
    cwes: [798],
    filePath: location?.path ?? null,
    line: location?.start_line ?? null,
    endpoint: alert.html_url ?? null,
    uniqueIdFromTool: `secret_scanning:${alert.number}`,
    vulnIdFromTool: alert.secret_type ?? null,
    // GitHub tried the secret at its provider and it works: a confirmed leak, not a pattern match.
    verified: alert.validity === 'active',
    ...triage(decision),
    raw,
  };
}

/**
 * The alert without its secret literal: the `secret` field is dropped and any other occurrence of the
 * value is masked, so neither the finding nor its stored raw item can leak it.
 */
export function withoutSecretValue(alert: Record<string, unknown>): Record<string, unknown> {
  const { secret, ...rest } = alert;
  if (typeof secret !== 'string' || secret.length < 4) return rest;
  const escaped = JSON.stringify(secret).slice(1, -1);
  return JSON.parse(JSON.stringify(rest).split(escaped).join('[redacted]')) as Record<string, unknown>;
}

function cwesFromTags(tags: readonly string[]): number[] | null {
  return cweNumbers(tags.map((tag) => /^external\/cwe\/cwe-(\d+)$/i.exec(tag)?.[1]));
}

function cweNumbers(values: readonly (string | undefined)[]): number[] | null {
  const numbers = new Set<number>();
  for (const value of values) {
    // Only the tail is matched: `(\d+)$` rescans from every digit of a long run, so a tool's string never reaches it whole.
    const digits = value ? /(\d+)$/.exec(value.slice(-16))?.[1] : undefined;
    if (digits) numbers.add(Number(digits));
  }
  return numbers.size > 0 ? [...numbers].sort((a, b) => a - b) : null;
}

function paragraphs(parts: readonly (string | null | undefined)[]): string | null {
  const text = parts.filter((p): p is string => typeof p === 'string' && p.trim() !== '').join('\n\n');
  return text || null;
}
