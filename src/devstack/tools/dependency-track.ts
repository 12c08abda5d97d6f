import { createHash } from 'node:crypto';
import { pageOf, type ToolRequest, type ToolResponse, type ToolServerState } from '../tool-server.js';

/**
 * A stand-in Dependency-Track API server (v1 endpoints the connector uses), faithful where the connector
 * depends on it: `X-Api-Key` auth (401 with an empty body for a wrong key, 403 for a key whose team lacks a
 * permission), `GET /api/v1/project` with `pageNumber`/`pageSize`/`excludeInactive` and `X-Total-Count`,
 * `GET /api/v1/finding/project/{uuid}` (unpaginated; suppressed findings only with `?suppressed=true`;
 * 404 "The project could not be found."), and the unauthenticated `GET /api/version`.
 * A demo tool of `npm run dev` (seeded by `seedDemoData`) and, with faults, the tests' fake.
 */

export interface DtProjectJson {
  uuid: string;
  name: string;
  version?: string;
  description?: string;
  classifier: string;
  active: boolean;
  tags: { name: string }[];
  lastBomImport?: number;
  [field: string]: unknown;
}

export interface DtFindingJson {
  component: { uuid: string; name: string; group?: string; version?: string; purl?: string; project: string; [field: string]: unknown };
  vulnerability: {
    uuid: string;
    vulnId: string;
    source: string;
    severity: string;
    severityRank: number;
    aliases: Record<string, string>[];
    cwes?: { cweId: number; name: string }[];
    [field: string]: unknown;
  };
  analysis: { state?: string; isSuppressed: boolean };
  attribution: { analyzerIdentity: string; attributedOn: number; referenceUrl?: string };
  matrix: string;
}

export interface DependencyTrackState extends ToolServerState {
  apiKey: string;
  /** Permissions of the key's team. The connector needs VIEW_PORTFOLIO and VIEW_VULNERABILITY. */
  permissions: string[];
  projects: DtProjectJson[];
  /** Findings by project uuid, suppressed ones included. */
  findings: Record<string, DtFindingJson[]>;
}

export const DEFAULT_DT_API_KEY = 'odt_fakeDependencyTrackKey0000000000';

/** The tool's state before anything is seeded. */
export function newDependencyTrackState(options: { apiKey?: string } = {}): DependencyTrackState {
  return {
    requests: [],
    apiKey: options.apiKey ?? DEFAULT_DT_API_KEY,
    permissions: ['VIEW_PORTFOLIO', 'VIEW_VULNERABILITY'],
    projects: [],
    findings: {},
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function handleDependencyTrack(request: ToolRequest, state: DependencyTrackState): ToolResponse {
  const path = request.url.pathname;
  const query = request.url.searchParams;
  if (request.method !== 'GET') return { status: 405, rawBody: '' };
  if (path === '/api/version') {
    return {
      status: 200,
      body: { version: '4.12.7', timestamp: '2026-09-01T10:00:00Z', uuid: '6a9b1f9e-0000-4000-8000-00000000f4e1', systemUuid: '6a9b1f9e-0000-4000-8000-00000000f4e2', application: 'Dependency-Track' },
    };
  }
  if (!path.startsWith('/api/')) return { status: 404, rawBody: '' };
  if (request.headers['x-api-key'] !== state.apiKey) return { status: 401, rawBody: '' };

  if (path === '/api/v1/project') {
    if (!state.permissions.includes('VIEW_PORTFOLIO')) return { status: 403, rawBody: '' };
    const listed = state.projects
      .filter((p) => query.get('excludeInactive') !== 'true' || p.active)
      .sort((a, b) => a.name.localeCompare(b.name) || (a.version ?? '').localeCompare(b.version ?? ''));
    const pageNumber = Number(query.get('pageNumber') ?? '0');
    const pageSize = Number(query.get('pageSize') ?? '0');
    const items = pageNumber > 0 && pageSize > 0 ? pageOf(listed, pageNumber, pageSize).items : listed;
    return { status: 200, headers: { 'X-Total-Count': String(listed.length) }, body: items };
  }

  const findingsMatch = /^\/api\/v1\/finding\/project\/([^/]+)$/.exec(path);
  if (findingsMatch) {
    if (!state.permissions.includes('VIEW_VULNERABILITY')) return { status: 403, rawBody: '' };
    const uuid = decodeURIComponent(findingsMatch[1]!);
    if (!UUID.test(uuid)) {
      return { status: 400, body: [{ message: 'Invalid UUID', messageTemplate: '{org.dependencytrack.model.validation.ValidUuid.message}', path: 'uuid', invalidValue: uuid }] };
    }
    if (!state.projects.some((p) => p.uuid === uuid)) return { status: 404, headers: { 'Content-Type': 'text/plain' }, rawBody: 'The project could not be found.' };
    const all = state.findings[uuid] ?? [];
    const listed = query.get('suppressed') === 'true' ? all : all.filter((f) => !f.analysis.isSuppressed);
    return { status: 200, headers: { 'X-Total-Count': String(listed.length) }, body: listed };
  }
  return { status: 404, rawBody: '' };
}

/** A stable UUID derived from a name, so demo data and test fixtures are the same on every run. */
export function uuidFrom(name: string): string {
  const hex = createHash('sha1').update(name).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function dtProject(fields: { name: string; version?: string } & Partial<DtProjectJson>): DtProjectJson {
  return {
    uuid: uuidFrom(`project:${fields.name}:${fields.version ?? ''}`),
    classifier: 'APPLICATION',
    active: true,
    tags: [],
    lastBomImport: Date.parse('2026-09-01T08:00:00Z'),
    ...fields,
  };
}

const SEVERITY_RANK: Record<string, number> = { CRITICAL: 0, HIGH: 1, MEDIUM: 2, LOW: 3, INFO: 4, UNASSIGNED: 5 };

export interface DtVulnerabilitySeed {
  vulnId: string;
  severity: 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'INFO' | 'UNASSIGNED';
  source?: string;
  title?: string;
  description?: string;
  recommendation?: string;
  cvssV3BaseScore?: number;
  cvssV3Vector?: string;
  cwes?: number[];
  aliases?: Record<string, string>[];
}

export interface DtComponentSeed {
  name: string;
  version?: string;
  group?: string;
  purl?: string;
}

/** A finding as `GET /api/v1/finding/project/{uuid}` returns it (Dependency-Track 4.x shape). */
export function dtFinding(
  project: Pick<DtProjectJson, 'uuid' | 'name' | 'version'>,
  component: DtComponentSeed,
  vulnerability: DtVulnerabilitySeed,
  analysis: { state?: string; isSuppressed?: boolean } = {},
): DtFindingJson {
  const componentUuid = uuidFrom(`component:${project.uuid}:${component.group ?? ''}:${component.name}:${component.version ?? ''}`);
  const vulnUuid = uuidFrom(`vulnerability:${vulnerability.source ?? 'NVD'}:${vulnerability.vulnId}`);
  return {
    component: {
      uuid: componentUuid,
      name: component.name,
      ...(component.group ? { group: component.group } : {}),
      ...(component.version ? { version: component.version } : {}),
      ...(component.purl ? { purl: component.purl } : {}),
      project: project.uuid,
      projectName: project.name,
      ...(project.version ? { projectVersion: project.version } : {}),
    },
    vulnerability: {
      uuid: vulnUuid,
      source: vulnerability.source ?? 'NVD',
      vulnId: vulnerability.vulnId,
      ...(vulnerability.title ? { title: vulnerability.title } : {}),
      ...(vulnerability.description ? { description: vulnerability.description } : {}),
      ...(vulnerability.recommendation ? { recommendation: vulnerability.recommendation } : {}),
      severity: vulnerability.severity,
      severityRank: SEVERITY_RANK[vulnerability.severity] ?? 5,
      ...(vulnerability.cvssV3BaseScore !== undefined ? { cvssV3BaseScore: vulnerability.cvssV3BaseScore } : {}),
      ...(vulnerability.cvssV3Vector ? { cvssV3Vector: vulnerability.cvssV3Vector } : {}),
      ...(vulnerability.cwes ? { cwes: vulnerability.cwes.map((cweId) => ({ cweId, name: CWE_NAMES[cweId] ?? `CWE-${cweId}` })) } : {}),
      aliases: vulnerability.aliases ?? [],
      published: Date.parse('2024-01-01T00:00:00Z'),
    },
    analysis: { ...(analysis.state ? { state: analysis.state } : {}), isSuppressed: analysis.isSuppressed ?? false },
    attribution: {
      analyzerIdentity: 'INTERNAL_ANALYZER',
      attributedOn: Date.parse('2026-09-01T08:05:00Z'),
      ...(vulnerability.vulnId.startsWith('CVE-') ? { referenceUrl: `https://nvd.nist.gov/vuln/detail/${vulnerability.vulnId}` } : {}),
    },
    matrix: `${project.uuid}:${componentUuid}:${vulnUuid}`,
  };
}

const CWE_NAMES: Record<number, string> = {
  20: 'Improper Input Validation',
  22: "Improper Limitation of a Pathname to a Restricted Directory ('Path Traversal')",
  79: "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')",
  89: "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')",
  120: "Buffer Copy without Checking Size of Input ('Classic Buffer Overflow')",
  94: "Improper Control of Generation of Code ('Code Injection')",
  200: 'Exposure of Sensitive Information to an Unauthorized Actor',
  295: 'Improper Certificate Validation',
  345: 'Insufficient Verification of Data Authenticity',
  400: 'Uncontrolled Resource Consumption',
  476: 'NULL Pointer Dereference',
  502: 'Deserialization of Untrusted Data',
  601: "URL Redirection to Untrusted Site ('Open Redirect')",
  770: 'Allocation of Resources Without Limits or Throttling',
  787: 'Out-of-bounds Write',
  843: "Access of Resource Using Incompatible Type ('Type Confusion')",
  917: "Improper Neutralization of Special Elements used in an Expression Language Statement ('Expression Language Injection')",
  1321: "Improperly Controlled Modification of Object Prototype Attributes ('Prototype Pollution')",
  1333: 'Inefficient Regular Expression Complexity',
};

const VECTOR: Record<string, string> = {
  '10': 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H',
  '9.8': 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
  '9': 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:H/I:H/A:H',
  '8.8': 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H',
  '8.1': 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H',
  '7.5': 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H',
  '7.4': 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N',
  '7.2': 'CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H',
  '7.1': 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N',
  '6.6': 'CVSS:3.1/AV:N/AC:H/PR:H/UI:N/S:U/C:H/I:H/A:H',
  '6.5': 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:N/A:N',
  '6.1': 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N',
  '5.9': 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H',
  '5.3': 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L',
  '4.2': 'CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:H/I:N/A:N',
  '3.3': 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N',
};

type DemoRow = [group: string | undefined, name: string, version: string, vulnId: string, severity: DtVulnerabilitySeed['severity'], score: number | null, cwe: number, title: string, ghsa?: string];

const JAVA: DemoRow[] = [
  ['org.apache.logging.log4j', 'log4j-core', '2.14.1', 'CVE-2021-44228', 'CRITICAL', 10, 917, 'Remote code execution via JNDI lookups in log messages (Log4Shell)', 'GHSA-jfh8-c2jp-5v3q'],
  ['org.apache.logging.log4j', 'log4j-core', '2.14.1', 'CVE-2021-45046', 'CRITICAL', 9, 917, 'Incomplete fix for CVE-2021-44228 in certain non-default configurations', 'GHSA-7rjr-3q55-vv33'],
  ['org.apache.logging.log4j', 'log4j-core', '2.14.1', 'CVE-2021-45105', 'MEDIUM', 5.9, 400, 'Uncontrolled recursion from self-referential lookups', 'GHSA-p6xc-xr62-6r2g'],
  ['org.apache.logging.log4j', 'log4j-core', '2.14.1', 'CVE-2021-44832', 'MEDIUM', 6.6, 20, 'Remote code execution via a JDBC Appender with an attacker-controlled configuration', 'GHSA-8489-44mv-ggj8'],
  ['com.fasterxml.jackson.core', 'jackson-databind', '2.9.8', 'CVE-2019-14379', 'CRITICAL', 9.8, 502, 'Polymorphic typing deserialization gadget in ehcache', 'GHSA-6fpp-rgj9-8rwc'],
  ['com.fasterxml.jackson.core', 'jackson-databind', '2.9.8', 'CVE-2020-36518', 'HIGH', 7.5, 787, 'Deeply nested JSON causes a stack overflow', 'GHSA-57j2-w4cx-62h2'],
  ['org.springframework', 'spring-beans', '5.3.17', 'CVE-2022-22965', 'CRITICAL', 9.8, 94, 'Remote code execution via data binding on JDK 9+ (Spring4Shell)', 'GHSA-36p3-wjmg-h94x'],
  ['org.yaml', 'snakeyaml', '1.30', 'CVE-2022-1471', 'HIGH', 8.1, 502, 'Constructor deserialization allows remote code execution', 'GHSA-mjmj-j48q-9wg2'],
  ['org.yaml', 'snakeyaml', '1.30', 'CVE-2022-25857', 'HIGH', 7.5, 400, 'Denial of service through nested collections', 'GHSA-3mc7-4q67-w48m'],
  ['org.apache.commons', 'commons-text', '1.9', 'CVE-2022-42889', 'CRITICAL', 9.8, 94, 'Arbitrary code execution through variable interpolation (Text4Shell)', 'GHSA-599f-7c49-w659'],
  ['com.google.guava', 'guava', '30.1-jre', 'CVE-2020-8908', 'LOW', 3.3, 200, 'Temporary directory created with insecure permissions', 'GHSA-5mg8-w23w-74h3'],
  ['com.google.guava', 'guava', '30.1-jre', 'CVE-2023-2976', 'HIGH', 7.1, 200, 'FileBackedOutputStream uses a world-readable temporary directory', 'GHSA-7g45-4rm6-3mm3'],
  ['ch.qos.logback', 'logback-classic', '1.2.9', 'CVE-2023-6378', 'HIGH', 7.5, 502, 'Serialization vulnerability in the logback receiver', 'GHSA-vmq6-5m68-f53m'],
  ['com.h2database', 'h2', '1.4.200', 'CVE-2021-42392', 'CRITICAL', 9.8, 502, 'Remote code execution through the H2 console JNDI lookup', 'GHSA-h376-j262-vhq6'],
  ['org.apache.tomcat.embed', 'tomcat-embed-core', '9.0.58', 'CVE-2023-44487', 'HIGH', 7.5, 400, 'HTTP/2 rapid reset denial of service', 'GHSA-qppj-fm5r-hxr3'],
];

const NODE: DemoRow[] = [
  [undefined, 'lodash', '4.17.15', 'CVE-2020-8203', 'HIGH', 7.4, 1321, 'Prototype pollution in zipObjectDeep', 'GHSA-p6mc-m468-83gw'],
  [undefined, 'lodash', '4.17.15', 'CVE-2021-23337', 'HIGH', 7.2, 94, 'Command injection via template', 'GHSA-35jh-r3h4-6jhm'],
  [undefined, 'lodash', '4.17.15', 'CVE-2020-28500', 'MEDIUM', 5.3, 1333, 'Regular expression denial of service in toNumber and trim', 'GHSA-29mw-wpgm-hmr9'],
  [undefined, 'minimist', '1.2.5', 'CVE-2021-44906', 'CRITICAL', 9.8, 1321, 'Prototype pollution in setKey', 'GHSA-xvch-5gv4-984h'],
  [undefined, 'axios', '0.21.0', 'CVE-2020-28168', 'MEDIUM', 5.9, 20, 'Server-side request forgery through redirects to a proxy', 'GHSA-4w2v-q235-vp99'],
  [undefined, 'axios', '0.21.0', 'CVE-2021-3749', 'HIGH', 7.5, 1333, 'Inefficient regular expression in trim', 'GHSA-cph5-m8f7-6c5x'],
  [undefined, 'axios', '0.21.0', 'CVE-2023-45857', 'MEDIUM', 6.5, 200, 'XSRF-TOKEN leaked to third-party hosts', 'GHSA-wf5p-g6vw-rhxx'],
  [undefined, 'jsonwebtoken', '8.5.1', 'CVE-2022-23539', 'HIGH', 8.1, 345, 'Insecure key types accepted for signature verification', 'GHSA-8cf7-32gw-wr33'],
  [undefined, 'jsonwebtoken', '8.5.1', 'CVE-2022-23540', 'MEDIUM', 6.5, 345, 'Signature validation bypass through an insecure default algorithm', 'GHSA-qwph-4952-7xr6'],
  [undefined, 'jsonwebtoken', '8.5.1', 'CVE-2022-23541', 'MEDIUM', 5.3, 345, 'Forgeable public/private tokens from RSA to HMAC', 'GHSA-hjrf-2m68-5959'],
  [undefined, 'node-fetch', '2.6.0', 'CVE-2022-0235', 'HIGH', 8.8, 200, 'Cookie and authorization headers exposed to third parties on redirect', 'GHSA-r683-j2x4-v87g'],
  [undefined, 'ws', '7.4.5', 'CVE-2021-32640', 'MEDIUM', 5.3, 1333, 'ReDoS in Sec-Websocket-Protocol header', 'GHSA-6fc8-4gx4-v693'],
  [undefined, 'ws', '7.4.5', 'CVE-2024-37890', 'HIGH', 7.5, 476, 'Denial of service when handling a request with many HTTP headers', 'GHSA-3h5v-q93c-6h6q'],
  [undefined, 'semver', '5.7.1', 'CVE-2022-25883', 'MEDIUM', 5.3, 1333, 'Regular expression denial of service in new Range', 'GHSA-c2qf-rxjj-qqgw'],
  [undefined, 'json5', '1.0.1', 'CVE-2022-46175', 'HIGH', 7.1, 1321, 'Prototype pollution in JSON5 parse', 'GHSA-9c47-m6qq-7p4h'],
  [undefined, 'qs', '6.5.2', 'CVE-2022-24999', 'HIGH', 7.5, 1321, 'Prototype pollution through __proto__ keys', 'GHSA-hrpp-h998-j3pp'],
  [undefined, 'express', '4.17.1', 'CVE-2024-29041', 'MEDIUM', 6.1, 601, 'Open redirect in malformed URLs', 'GHSA-rv95-896h-c2vc'],
  [undefined, 'moment', '2.29.1', 'CVE-2022-24785', 'HIGH', 7.5, 22, 'Path traversal in moment.locale', 'GHSA-8hfj-j24r-96c4'],
  [undefined, 'moment', '2.29.1', 'CVE-2022-31129', 'HIGH', 7.5, 1333, 'Inefficient parsing algorithm (ReDoS) in RFC 2822 dates', 'GHSA-wc69-rhjr-hc9g'],
  [undefined, 'tough-cookie', '2.5.0', 'CVE-2023-26136', 'MEDIUM', 6.5, 1321, 'Prototype pollution in CookieJar with rejectPublicSuffixes=false', 'GHSA-72xf-g2v4-qvf3'],
  [undefined, 'word-wrap', '1.2.3', 'CVE-2023-26115', 'MEDIUM', 5.3, 1333, 'Regular expression denial of service', 'GHSA-j8xg-fqg3-53r7'],
  [undefined, 'braces', '3.0.2', 'CVE-2024-4068', 'HIGH', 7.5, 770, 'Uncontrolled resource consumption on imbalanced braces', 'GHSA-grv7-fg5c-xmjg'],
  [undefined, 'ansi-regex', '5.0.0', 'CVE-2021-3807', 'HIGH', 7.5, 1333, 'Inefficient regular expression complexity', 'GHSA-93q8-gq69-wqmw'],
  [undefined, 'debug', '2.6.8', 'GHSA-gxpj-cx7g-858c', 'UNASSIGNED', null, 1333, 'Regular expression denial of service in debug'],
];

const PYTHON: DemoRow[] = [
  [undefined, 'django', '3.2.12', 'CVE-2022-28346', 'CRITICAL', 9.8, 89, 'SQL injection in QuerySet.annotate(), aggregate() and extra()', 'GHSA-2gwj-7jmv-h26r'],
  [undefined, 'django', '3.2.12', 'CVE-2022-34265', 'CRITICAL', 9.8, 89, 'SQL injection via Trunc() and Extract() kind arguments', 'GHSA-p64x-8rxx-wf6q'],
  [undefined, 'django', '3.2.12', 'CVE-2023-36053', 'HIGH', 7.5, 1333, 'ReDoS in EmailValidator and URLValidator', 'GHSA-jh3w-4vvf-mjgr'],
  [undefined, 'requests', '2.25.1', 'CVE-2023-32681', 'MEDIUM', 6.1, 200, 'Proxy-Authorization header leaked to destination servers', 'GHSA-j8r2-6x86-q33q'],
  [undefined, 'urllib3', '1.26.4', 'CVE-2021-33503', 'HIGH', 7.5, 400, 'Catastrophic backtracking in URL authority parsing', 'GHSA-q2q7-5pp4-w6pg'],
  [undefined, 'urllib3', '1.26.4', 'CVE-2023-43804', 'HIGH', 8.1, 200, 'Cookie header not stripped on cross-origin redirects', 'GHSA-v845-jxx5-vc9f'],
  [undefined, 'urllib3', '1.26.4', 'CVE-2023-45803', 'MEDIUM', 4.2, 200, 'Request body not stripped after a 303 redirect', 'GHSA-g4mx-q9vg-27p4'],
  [undefined, 'pyyaml', '5.3.1', 'CVE-2020-14343', 'CRITICAL', 9.8, 20, 'Arbitrary code execution through full_load', 'GHSA-8q59-q68h-6hv4'],
  [undefined, 'jinja2', '2.11.2', 'CVE-2020-28493', 'MEDIUM', 5.3, 400, 'ReDoS in the urlize filter', 'GHSA-g3rq-g295-4j3m'],
  [undefined, 'jinja2', '2.11.2', 'CVE-2024-22195', 'MEDIUM', 6.1, 79, 'HTML attribute injection through the xmlattr filter', 'GHSA-h5c8-rqwp-cp95'],
  [undefined, 'cryptography', '3.3.1', 'CVE-2023-0286', 'HIGH', 7.4, 843, 'Type confusion in X.400 address processing (bundled OpenSSL)', 'GHSA-x4qr-2fvf-3mr5'],
  [undefined, 'pillow', '8.1.0', 'CVE-2021-25289', 'CRITICAL', 9.8, 787, 'Heap overflow in TiffDecode', 'GHSA-57h3-9rgr-c24m'],
  [undefined, 'pillow', '8.1.0', 'CVE-2021-34552', 'CRITICAL', 9.8, 120, 'Buffer overflow in Convert.c', 'GHSA-7534-mm45-c74v'],
  [undefined, 'werkzeug', '1.0.1', 'CVE-2023-25577', 'HIGH', 7.5, 770, 'High resource usage when parsing multipart form data', 'GHSA-xg9f-g7g7-2323'],
  [undefined, 'setuptools', '57.4.0', 'CVE-2022-40897', 'MEDIUM', 5.9, 1333, 'ReDoS in package_index', 'GHSA-r9hx-vwmv-q579'],
  [undefined, 'certifi', '2021.5.30', 'CVE-2022-23491', 'HIGH', 7.5, 345, 'Removal of e-Tugra root certificate', 'GHSA-43fp-rhv2-5gv8'],
  [undefined, 'py', '1.10.0', 'CVE-2022-42969', 'MEDIUM', 5.3, 1333, 'ReDoS in Subversion info parsing (disputed)', 'GHSA-w596-4wvx-j9j6'],
];

function purlOf(type: 'maven' | 'npm' | 'pypi', row: DemoRow): string {
  const [group, name, version] = row;
  return type === 'maven' ? `pkg:maven/${group}/${name}@${version}` : `pkg:${type}/${name}@${version}`;
}

function demoFindings(project: DtProjectJson, type: 'maven' | 'npm' | 'pypi', rows: DemoRow[], triage: Record<string, { state?: string; isSuppressed?: boolean }>) {
  return rows.map((row) => {
    const [group, name, version, vulnId, severity, score, cwe, title, ghsa] = row;
    const aliases = ghsa && vulnId.startsWith('CVE-') ? [{ cveId: vulnId, ghsaId: ghsa }] : [];
    return dtFinding(
      project,
      { group, name, version, purl: purlOf(type, row) },
      {
        vulnId,
        source: vulnId.startsWith('GHSA-') ? 'GITHUB' : 'NVD',
        severity,
        title,
        description: `${title}. Affects ${group ? `${group}:` : ''}${name} ${version}.`,
        recommendation: `Upgrade ${name} to a release that fixes ${vulnId}.`,
        ...(score !== null ? { cvssV3BaseScore: score, cvssV3Vector: VECTOR[String(score)] } : {}),
        cwes: [cwe],
        aliases,
      },
      triage[vulnId] ?? { state: 'NOT_SET', isSuppressed: false },
    );
  });
}

/**
 * Replaces the fake's data with a realistic portfolio for demos: three projects (Java, Node.js, Python)
 * with 15–24 findings each across every severity, real CVEs on real component versions, one suppressed
 * finding (accepted risk), one false positive and one not-affected analysis. Deterministic: the same uuids
 * on every run, so a restarted demo keeps its records.
 */
export function seedDemoData(state: DependencyTrackState): { projects: number; findings: number } {
  const payments = dtProject({ name: 'payments-api', version: '2.4.1', description: 'Card payments and refunds (Spring Boot)', tags: [{ name: 'team-payments' }, { name: 'java' }] });
  const storefront = dtProject({ name: 'storefront-web', version: '5.12.0', description: 'Customer-facing web shop (Node.js)', tags: [{ name: 'team-web' }, { name: 'nodejs' }] });
  const pipeline = dtProject({ name: 'data-pipeline', version: '1.8.3', description: 'Nightly ETL jobs (Python)', tags: [{ name: 'team-data' }, { name: 'python' }] });
  state.projects = [payments, storefront, pipeline];
  state.findings = {
    [payments.uuid]: demoFindings(payments, 'maven', JAVA, {
      'CVE-2021-44832': { state: 'NOT_AFFECTED', isSuppressed: false },
      'CVE-2020-8908': { state: 'EXPLOITABLE', isSuppressed: true },
      'CVE-2021-44228': { state: 'EXPLOITABLE', isSuppressed: false },
    }),
    [storefront.uuid]: demoFindings(storefront, 'npm', NODE, { 'CVE-2021-44906': { state: 'IN_TRIAGE', isSuppressed: false } }),
    [pipeline.uuid]: demoFindings(pipeline, 'pypi', PYTHON, { 'CVE-2022-42969': { state: 'FALSE_POSITIVE', isSuppressed: true } }),
  };
  return { projects: state.projects.length, findings: Object.values(state.findings).reduce((n, list) => n + list.length, 0) };
}
