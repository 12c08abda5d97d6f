import { startFakeServer, type FakeRequest, type FakeResponse, type FakeServer, type FakeState } from './fake-server.js';

/**
 * A fake AWS for what the Security Hub connector uses, reached through the SDK's endpoint override:
 * Security Hub's REST-JSON `POST /findings` (GetFindings: the filters the connector sends, `MaxResults` ≤ 100,
 * an opaque `NextToken`) and STS's query API on `POST /` (GetCallerIdentity, AssumeRole), answering XML.
 * Every request must carry an `Authorization: AWS4-HMAC-SHA256 Credential=<key id>/<date>/<region>/<service>/…`
 * header (the signature itself is not verified); an unknown key id is AWS's 403 UnrecognizedClientException
 * (InvalidClientTokenId on STS), a key without securityhub:GetFindings is 403 AccessDeniedException, and a
 * region where Security Hub is not enabled is 401 InvalidAccessException, as AWS answers them.
 */

export interface AsffFindingJson {
  Id: string;
  AwsAccountId: string;
  Region: string;
  Title: string;
  RecordState: 'ACTIVE' | 'ARCHIVED';
  Workflow: { Status: 'NEW' | 'NOTIFIED' | 'RESOLVED' | 'SUPPRESSED' };
  Severity: { Label?: string; Normalized?: number };
  [field: string]: unknown;
}

export interface AwsIdentity {
  account: string;
  getFindings: boolean;
  /** Roles this key may assume. */
  mayAssume?: string[];
}

export interface AwsFakeState extends FakeState {
  /** Access key id → secret key and what the key may do. */
  keys: Record<string, AwsIdentity & { secretAccessKey: string }>;
  /** Role ARN → what its temporary credentials may do. */
  roles: Record<string, AwsIdentity>;
  /** `<account>/<region>` pairs where Security Hub is enabled. */
  enabled: string[];
  findings: AsffFindingJson[];
}

export type AwsFake = FakeServer<AwsFakeState>;

export const AWS_ACCOUNT = '123456789012';
export const AWS_ACCESS_KEY_ID = 'AKIAFAKEVULNSYNC0001';
export const AWS_SECRET_ACCESS_KEY = 'fakeSecretAccessKey/vulnsync+0000000000';
export const DEFAULT_AWS_SECRET = `${AWS_ACCESS_KEY_ID}:${AWS_SECRET_ACCESS_KEY}`;

export async function startAwsFake(): Promise<AwsFake> {
  const state: AwsFakeState = { requests: [], faults: [], keys: {}, roles: {}, enabled: [], findings: [] };
  seedAwsDefaults(state);
  return startFakeServer(state, handleAws);
}

/** One account whose key may read findings, with Security Hub enabled in eu-central-1 and us-east-1. */
export function seedAwsDefaults(state: AwsFakeState): void {
  state.keys = { [AWS_ACCESS_KEY_ID]: { account: AWS_ACCOUNT, getFindings: true, secretAccessKey: AWS_SECRET_ACCESS_KEY } };
  state.roles = {};
  state.enabled = [`${AWS_ACCOUNT}/eu-central-1`, `${AWS_ACCOUNT}/us-east-1`];
  state.findings = [];
}

let serial = 0;

/** An Inspector-style package vulnerability finding in ASFF. */
export function asffFinding(title: string, fields: Partial<AsffFindingJson> = {}, region = 'eu-central-1', account = AWS_ACCOUNT): AsffFindingJson {
  const n = ++serial;
  const id = `arn:aws:inspector2:${region}:${account}:finding/${n.toString(16).padStart(32, '0')}`;
  return {
    SchemaVersion: '2018-10-08',
    Id: id,
    ProductArn: `arn:aws:securityhub:${region}::product/aws/inspector`,
    GeneratorId: 'AWSInspector',
    AwsAccountId: account,
    Region: region,
    Title: title,
    Description: `${title} in a package of the instance.`,
    RecordState: 'ACTIVE',
    Workflow: { Status: 'NEW' },
    Severity: { Label: 'HIGH' },
    Remediation: { Recommendation: { Text: 'Update the package.', Url: 'https://example.com/advisory' } },
    Resources: [{ Type: 'AwsEc2Instance', Id: `arn:aws:ec2:${region}:${account}:instance/i-${n.toString(16).padStart(17, '0')}` }],
    Vulnerabilities: [{ Id: `CVE-2026-${1000 + n}`, Cvss: [{ Version: '3.1', BaseScore: 7.5, BaseVector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N' }], VulnerablePackages: [{ Name: 'openssl', Version: '3.0.1' }] }],
    ...fields,
  };
}

const jsonError = (status: number, code: string, message: string): FakeResponse => ({
  status,
  headers: { 'x-amzn-ErrorType': `${code}:http://internal.amazon.com/coral/com.amazonaws.securityhub/`, 'Content-Type': 'application/json' },
  body: { Code: code, Message: message },
});

const xmlError = (status: number, code: string, message: string): FakeResponse => ({
  status,
  headers: { 'Content-Type': 'text/xml' },
  rawBody: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>fake</RequestId></ErrorResponse>`,
});

const xmlResult = (action: string, inner: string): FakeResponse => ({
  status: 200,
  headers: { 'Content-Type': 'text/xml' },
  rawBody: `<${action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><${action}Result>${inner}</${action}Result><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></${action}Response>`,
});

/** The field each GetFindings string filter compares. */
const FILTERED: Record<string, (f: AsffFindingJson) => string> = {
  AwsAccountId: (f) => f.AwsAccountId,
  Region: (f) => f.Region,
  RecordState: (f) => f.RecordState,
  WorkflowStatus: (f) => f.Workflow.Status,
};

function handleAws(request: FakeRequest, state: AwsFakeState): FakeResponse {
  const scope = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/.exec(String(request.headers.authorization ?? ''));
  const sts = request.url.pathname === '/' && request.method === 'POST';
  if (!scope) return sts ? xmlError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token') : jsonError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  const [, keyId, region, service] = scope as unknown as [string, string, string, string];
  const identity = state.keys[keyId];
  if (sts && service === 'sts') {
    if (!identity) return xmlError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.');
    const form = new URLSearchParams(request.body);
    if (form.get('Action') === 'GetCallerIdentity') return xmlResult('GetCallerIdentity', `<Arn>arn:aws:iam::${identity.account}:user/vulnsync</Arn><UserId>AIDAFAKE</UserId><Account>${identity.account}</Account>`);
    if (form.get('Action') === 'AssumeRole') {
      const roleArn = form.get('RoleArn') ?? '';
      const role = state.roles[roleArn];
      if (!role || !identity.mayAssume?.includes(roleArn)) return xmlError(403, 'AccessDenied', `User is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
      const temp = `ASIAFAKE${String(++serial).padStart(12, '0')}`;
      state.keys[temp] = { ...role, secretAccessKey: `tempSecret${temp}` };
      return xmlResult('AssumeRole', `<Credentials><AccessKeyId>${temp}</AccessKeyId><SecretAccessKey>tempSecret${temp}</SecretAccessKey><SessionToken>tempSession${temp}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><Arn>${roleArn}/vulnsync</Arn><AssumedRoleId>AROAFAKE:vulnsync</AssumedRoleId></AssumedRoleUser>`);
    }
    return xmlError(400, 'InvalidAction', 'Could not find operation');
  }
  if (request.url.pathname !== '/findings' || request.method !== 'POST' || service !== 'securityhub') return { status: 404, body: { message: 'Not Found' } };
  if (!identity) return jsonError(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
  if (!identity.getFindings) return jsonError(403, 'AccessDeniedException', `User: arn:aws:iam::${identity.account}:user/vulnsync is not authorized to perform: securityhub:GetFindings`);
  if (!state.enabled.includes(`${identity.account}/${region}`)) return jsonError(401, 'InvalidAccessException', `Account ${identity.account} is not subscribed to AWS Security Hub`);

  const input = JSON.parse(request.body || '{}') as { Filters?: Record<string, { Value: string; Comparison: string }[]>; MaxResults?: number; NextToken?: string };
  const max = input.MaxResults ?? 100;
  if (max < 1 || max > 100) return jsonError(400, 'InvalidInputException', 'MaxResults must be between 1 and 100');
  let items = state.findings;
  for (const [name, conditions] of Object.entries(input.Filters ?? {})) {
    const field = FILTERED[name];
    if (!field) return jsonError(400, 'InvalidInputException', `The fake does not filter on ${name}`);
    for (const { Value, Comparison } of conditions) items = items.filter((f) => (Comparison === 'EQUALS' ? field(f) === Value : field(f) !== Value));
  }
  const offset = input.NextToken ? Number(Buffer.from(input.NextToken, 'base64').toString().replace('offset:', '')) : 0;
  if (!Number.isInteger(offset)) return jsonError(400, 'InvalidInputException', 'Invalid NextToken');
  const next = offset + max < items.length ? Buffer.from(`offset:${offset + max}`).toString('base64') : undefined;
  return { status: 200, body: { Findings: items.slice(offset, offset + max), ...(next ? { NextToken: next } : {}) } };
}
