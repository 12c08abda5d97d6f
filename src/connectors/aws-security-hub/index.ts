import type { AwsSecurityFindingFilters } from '@aws-sdk/client-securityhub';
import { z } from 'zod';
import { ConnectorError } from '../../errors.js';
import { AWS_PUBLIC_ENDPOINTS, awsClientOptions, connectorErrorOfAws } from '../http/aws-sdk.js';
import type { HttpTuning } from '../http/index.js';
import { defineConnector, type ConnectorConfig, type ConnectorContext, type RecordRef, type ToolConnector } from '../types.js';
import { awsFinding, mapAwsFinding } from './mapping.js';

const NAME = 'AWS Security Hub';
const PAGE_SIZE = 100; // GetFindings' maximum MaxResults
const PERMISSION_HINT = 'the IAM identity needs securityhub:GetFindings (and sts:AssumeRole on the role, when one is set)';

export const awsSecurityHubSettings = z.object({
  regions: z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-central-1')).min(1).default(['us-east-1']),
  accountId: z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id').optional(),
  roleArn: z.string().regex(/^arn:aws[\w-]*:iam::\d{12}:role\/.+$/, 'an IAM role ARN').optional(),
  externalId: z.string().min(2).optional(),
});
type Settings = z.infer<typeof awsSecurityHubSettings>;

/** Where a fetch resumes: GetFindings' NextToken. Discovery is one short list (account × regions) and never resumes. */
const fetchCursor = z.strictObject({ next: z.string().min(1) });

/**
 * The secret is `<access key id>:<secret access key>`: one string like every other tool's secret, and
 * neither part can hold a colon. Temporary credentials come from `roleArn` (sts:AssumeRole), not the secret.
 */
function accessKeyOf(secret: string) {
  const at = secret.indexOf(':');
  const [accessKeyId, secretAccessKey] = at < 0 ? ['', ''] : [secret.slice(0, at).trim(), secret.slice(at + 1).trim()];
  if (!accessKeyId || !secretAccessKey) throw new ConnectorError('CONFIG_INVALID', `The ${NAME} secret must be "<access key id>:<secret access key>"`);
  return { accessKeyId, secretAccessKey };
}

type AwsSdk = { hub: typeof import('@aws-sdk/client-securityhub'); sts: typeof import('@aws-sdk/client-sts') };
let sdkLoading: Promise<AwsSdk> | undefined;
/** The AWS SDK loads at the first AWS call: a worker or API without an AWS connector never holds its code (about 5 MB of heap). */
function awsSdk(): Promise<AwsSdk> {
  sdkLoading ??= Promise.all([import('@aws-sdk/client-securityhub'), import('@aws-sdk/client-sts')]).then(
    ([hub, sts]) => ({ hub, sts }),
    (err: unknown) => {
      sdkLoading = undefined;
      throw err;
    },
  );
  return sdkLoading;
}

/** The SDK clients for one call, signed with the secret's key or the assumed role's temporary credentials. */
async function clientsFor(config: ConnectorConfig<Settings>, region: string, ctx: ConnectorContext, tuning: HttpTuning) {
  const { settings } = config;
  const key = accessKeyOf(config.secret);
  const sdk = await awsSdk();
  const { STSClient, AssumeRoleCommand } = sdk.sts;
  const secrets = [key.accessKeyId, key.secretAccessKey];
  const options = () => ({ region, ...awsClientOptions(NAME, config.location, ctx, tuning) });
  const fail = (error: unknown) => connectorErrorOfAws(NAME, error, { permissionHint: PERMISSION_HINT, secrets });
  let sts = new STSClient({ ...options(), credentials: key });
  let credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = key;
  if (settings.roleArn) {
    const assumed = await sts
      .send(new AssumeRoleCommand({ RoleArn: settings.roleArn, RoleSessionName: 'vulnsync', ExternalId: settings.externalId }), { abortSignal: ctx.signal })
      .catch((error: unknown) => Promise.reject(fail(error)));
    const c = assumed.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new ConnectorError('BAD_TOOL_DATA', `${NAME}: sts:AssumeRole answered without credentials`);
    credentials = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken };
    secrets.push(c.AccessKeyId, c.SecretAccessKey, c.SessionToken ?? '');
    sts = new STSClient({ ...options(), credentials });
  }
  const hub = new sdk.hub.SecurityHubClient({ ...options(), credentials });
  return { settings, hub, sts, fail, sdk };
}

async function accountOf(clients: Awaited<ReturnType<typeof clientsFor>>, ctx: ConnectorContext): Promise<string> {
  if (clients.settings.accountId) return clients.settings.accountId;
  const identity = await clients.sts.send(new clients.sdk.sts.GetCallerIdentityCommand({}), { abortSignal: ctx.signal }).catch((error: unknown) => Promise.reject(clients.fail(error)));
  if (!identity.Account) throw new ConnectorError('BAD_TOOL_DATA', `${NAME}: sts:GetCallerIdentity answered without an account`);
  return identity.Account;
}

/** Active findings of one account in one region (the aggregation region also lists other regions' findings). */
function filtersFor(accountId: string | undefined, region: string): AwsSecurityFindingFilters {
  return {
    ...(accountId ? { AwsAccountId: [{ Value: accountId, Comparison: 'EQUALS' }] } : {}),
    Region: [{ Value: region, Comparison: 'EQUALS' }],
    RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }],
    WorkflowStatus: [{ Value: 'RESOLVED', Comparison: 'NOT_EQUALS' }],
  };
}

const recordOf = (record: RecordRef) => {
  const [accountId, region] = record.externalId.split('/');
  if (!accountId || !region) throw new ConnectorError('CONFIG_INVALID', `${NAME}: record "${record.name}" is not an account/region pair`);
  return { accountId, region };
};

export function createAwsSecurityHubConnector(tuning: HttpTuning = {}): ToolConnector {
  return defineConnector({
    tool: 'aws_security_hub',
    displayName: NAME,
    spec: {
      settings: awsSecurityHubSettings,
      secretDescription: 'An IAM access key as "<access key id>:<secret access key>" (with roleArn set, the key that may assume the role)',
      locationDescription: `${AWS_PUBLIC_ENDPOINTS} for the AWS endpoint of each region; otherwise the endpoint URL of Security Hub and STS (a VPC endpoint)`,
      defaultLocation: AWS_PUBLIC_ENDPOINTS,
    },
    matching: 'unique_id_from_tool',
    hashFields: ['title', 'endpoint', 'vulnIdFromTool'],
    minSecretLength: 20,
    cursors: { fetch: fetchCursor, discovery: z.never() },

    async check(config, ctx) {
      const region = config.settings.regions[0]!;
      const clients = await clientsFor(config, region, ctx, tuning);
      await clients.hub.send(new clients.sdk.hub.GetFindingsCommand({ MaxResults: 1, Filters: filtersFor(clients.settings.accountId, region) }), { abortSignal: ctx.signal }).catch((error: unknown) => Promise.reject(clients.fail(error)));
    },

    async *discover(config, ctx) {
      const { regions } = config.settings;
      const accountId = await accountOf(await clientsFor(config, regions[0]!, ctx, tuning), ctx);
      for (const region of regions) yield { externalId: `${accountId}/${region}`, name: `AWS ${accountId} ${region}`, metadata: { accountId, region } };
    },

    async *fetchFindings(config, record, cursor, ctx) {
      const { accountId, region } = recordOf(record);
      const clients = await clientsFor(config, region, ctx, tuning);
      const startingToken = cursor?.next;
      const pages = clients.sdk.hub.paginateGetFindings({ client: clients.hub, pageSize: PAGE_SIZE, startingToken }, { Filters: filtersFor(accountId, region) }, { abortSignal: ctx.signal });
      try {
        for await (const page of pages) {
          if (!Array.isArray(page.Findings)) throw new ConnectorError('BAD_TOOL_DATA', `${NAME} sent a GetFindings answer without Findings`);
          const findings = page.Findings.map((item) => mapAwsFinding(awsFinding(item))).filter((f) => f !== null);
          yield { findings, cursor: page.NextToken ? { next: page.NextToken } : null };
        }
      } catch (error) {
        // Security Hub answers a region where it is not enabled (or was disabled) with InvalidAccessException.
        if ((error as { name?: string }).name === 'InvalidAccessException') {
          throw new ConnectorError('RECORD_MISSING', `${NAME} is not enabled for ${record.name} any more (${accountId}, ${region})`);
        }
        throw clients.fail(error);
      }
    },
  });
}

/** The connector as vulnsync ships it. */
export const awsSecurityHub = createAwsSecurityHubConnector();
