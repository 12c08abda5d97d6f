import { z } from 'zod';
import type { Severity } from '../../domain.js';
import { parseToolItem } from '../settings.js';
import type { NormalizedFinding } from '../types.js';

/** The parts of an ASFF finding (AWS Security Finding Format) this connector reads. */
const finding = z.looseObject({
  Id: z.string().min(1),
  Title: z.string().min(1),
  Description: z.string().nullish(),
  GeneratorId: z.string().nullish(),
  Severity: z.looseObject({ Label: z.string().nullish(), Normalized: z.number().nullish() }).nullish(),
  Workflow: z.looseObject({ Status: z.string().nullish() }).nullish(),
  VerificationState: z.string().nullish(),
  Compliance: z.looseObject({ Status: z.string().nullish() }).nullish(),
  Remediation: z.looseObject({ Recommendation: z.looseObject({ Text: z.string().nullish(), Url: z.string().nullish() }).nullish() }).nullish(),
  Resources: z.array(z.looseObject({ Id: z.string().nullish() })).nullish(),
  Vulnerabilities: z
    .array(
      z.looseObject({
        Id: z.string().nullish(),
        Cvss: z.array(z.looseObject({ BaseScore: z.number().nullish(), BaseVector: z.string().nullish() })).nullish(),
        VulnerablePackages: z.array(z.looseObject({ Name: z.string().nullish(), Version: z.string().nullish() })).nullish(),
      }),
    )
    .nullish(),
});
export type AwsFinding = z.infer<typeof finding>;

export const awsFinding = (item: unknown): AwsFinding => parseToolItem(finding, item, 'AWS Security Hub', 'a finding');

const SEVERITIES: Record<string, Severity> = { CRITICAL: 'Critical', HIGH: 'High', MEDIUM: 'Medium', LOW: 'Low', INFORMATIONAL: 'Info' };

/** `Label`, or for older findings without it the `Normalized` score by ASFF's own ranges (90+, 70+, 40+, 1+). */
function severityOf(severity: AwsFinding['Severity']): Severity {
  const label = SEVERITIES[severity?.Label ?? ''];
  if (label) return label;
  const score = severity?.Normalized ?? 0;
  return score >= 90 ? 'Critical' : score >= 70 ? 'High' : score >= 40 ? 'Medium' : score >= 1 ? 'Low' : 'Info';
}

/**
 * An ASFF finding as a vulnsync finding, or null when it is not current: its workflow is RESOLVED or its
 * compliance check PASSED. `VerificationState` is the triage a person sets (FALSE_POSITIVE → falseP,
 * BENIGN_POSITIVE → accepted risk, TRUE_POSITIVE → verified); a SUPPRESSED workflow is an accepted risk.
 */
export function mapAwsFinding(f: AwsFinding): NormalizedFinding | null {
  const workflow = f.Workflow?.Status ?? 'NEW';
  if (workflow === 'RESOLVED' || f.Compliance?.Status === 'PASSED') return null;
  const vulnerability = f.Vulnerabilities?.[0];
  const cvss = vulnerability?.Cvss?.[0];
  const pkg = vulnerability?.VulnerablePackages?.[0];
  const vulnerabilityIds = (f.Vulnerabilities ?? []).map((v) => v.Id).filter((id): id is string => !!id);
  const falseP = f.VerificationState === 'FALSE_POSITIVE';
  return {
    title: f.Title,
    severity: severityOf(f.Severity),
    description: f.Description ?? null,
    mitigation: f.Remediation?.Recommendation?.Text ?? null,
    references: f.Remediation?.Recommendation?.Url ?? null,
    vulnerabilityIds: vulnerabilityIds.length ? vulnerabilityIds : null,
    cvssScore: cvss?.BaseScore ?? null,
    cvssVector: cvss?.BaseVector ?? null,
    componentName: pkg?.Name ?? null,
    componentVersion: pkg?.Version ?? null,
    endpoint: f.Resources?.[0]?.Id ?? null,
    uniqueIdFromTool: f.Id,
    vulnIdFromTool: vulnerability?.Id ?? f.GeneratorId ?? null,
    verified: f.VerificationState === 'TRUE_POSITIVE',
    falseP,
    riskAccepted: !falseP && (workflow === 'SUPPRESSED' || f.VerificationState === 'BENIGN_POSITIVE'),
    outOfScope: false,
    raw: f,
  };
}
