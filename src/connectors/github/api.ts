import { z } from 'zod';

/**
 * The parts of GitHub REST answers (API version 2022-11-28) this connector reads. Loose objects: GitHub
 * adds fields freely, and the whole alert is kept as `raw` (minus any secret value).
 */
export const ghRepository = z.looseObject({
  id: z.number(),
  name: z.string(),
  full_name: z.string().regex(/^[^/]+\/[^/]+$/),
  owner: z.looseObject({ login: z.string() }),
  private: z.boolean().nullish(),
  visibility: z.string().nullish(),
  archived: z.boolean().nullish(),
  disabled: z.boolean().nullish(),
  fork: z.boolean().nullish(),
  default_branch: z.string().nullish(),
  html_url: z.string().nullish(),
});
export type GhRepository = z.infer<typeof ghRepository>;

export const ghCodeScanningAlert = z.looseObject({
  number: z.number(),
  state: z.string(),
  html_url: z.string().nullish(),
  dismissed_reason: z.string().nullish(),
  dismissed_comment: z.string().nullish(),
  rule: z.looseObject({
    id: z.string().nullish(),
    name: z.string().nullish(),
    severity: z.string().nullish(),
    security_severity_level: z.string().nullish(),
    description: z.string().nullish(),
    full_description: z.string().nullish(),
    help: z.string().nullish(),
    tags: z.array(z.string()).nullish(),
  }),
  tool: z.looseObject({ name: z.string().nullish(), version: z.string().nullish() }).nullish(),
  most_recent_instance: z
    .looseObject({
      ref: z.string().nullish(),
      message: z.looseObject({ text: z.string().nullish() }).nullish(),
      location: z.looseObject({ path: z.string().nullish(), start_line: z.number().nullish() }).nullish(),
    })
    .nullish(),
});
export type GhCodeScanningAlert = z.infer<typeof ghCodeScanningAlert>;

const ghCvss = z.looseObject({ vector_string: z.string().nullish(), score: z.number().nullish() }).nullish();

export const ghDependabotAlert = z.looseObject({
  number: z.number(),
  state: z.string(),
  html_url: z.string().nullish(),
  dismissed_reason: z.string().nullish(),
  dependency: z.looseObject({
    package: z.looseObject({ ecosystem: z.string().nullish(), name: z.string() }),
    manifest_path: z.string().nullish(),
    scope: z.string().nullish(),
  }),
  security_advisory: z.looseObject({
    ghsa_id: z.string(),
    cve_id: z.string().nullish(),
    summary: z.string().nullish(),
    description: z.string().nullish(),
    severity: z.string().nullish(),
    identifiers: z.array(z.looseObject({ type: z.string().nullish(), value: z.string() })).nullish(),
    references: z.array(z.looseObject({ url: z.string() })).nullish(),
    cvss: ghCvss,
    cvss_severities: z.looseObject({ cvss_v3: ghCvss, cvss_v4: ghCvss }).nullish(),
    cwes: z.array(z.looseObject({ cwe_id: z.string() })).nullish(),
  }),
  security_vulnerability: z
    .looseObject({
      severity: z.string().nullish(),
      vulnerable_version_range: z.string().nullish(),
      first_patched_version: z.looseObject({ identifier: z.string() }).nullish(),
    })
    .nullish(),
});
export type GhDependabotAlert = z.infer<typeof ghDependabotAlert>;

export const ghSecretScanningAlert = z.looseObject({
  number: z.number(),
  state: z.string(),
  resolution: z.string().nullish(),
  html_url: z.string().nullish(),
  secret_type: z.string().nullish(),
  secret_type_display_name: z.string().nullish(),
  validity: z.string().nullish(),
  publicly_leaked: z.boolean().nullish(),
  push_protection_bypassed: z.boolean().nullish(),
  first_location_detected: z.looseObject({ path: z.string().nullish(), start_line: z.number().nullish() }).nullish(),
});
export type GhSecretScanningAlert = z.infer<typeof ghSecretScanningAlert>;
