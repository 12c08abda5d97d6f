import type { z } from 'zod';
import type { Logger } from 'pino';
import type { MatchingAlgorithm, Severity } from '../domain.js';
import { MIN_REDACTED_LENGTH } from './http/auth.js';
import type { ResponseLimits } from './http/client.js';
import type { Outbound } from './http/outbound.js';

/**
 * A finding as a connector yields it: normalised to vulnsync's Finding fields. The reimport computes
 * `hash_code` from it (per the tool's `hashFields`); a connector never sets it.
 */
export interface NormalizedFinding {
  title: string;
  severity: Severity;
  description?: string | null;
  mitigation?: string | null;
  references?: string | null;
  cwes?: number[] | null;
  vulnerabilityIds?: string[] | null;
  cvssVector?: string | null;
  cvssScore?: number | null;
  componentName?: string | null;
  componentVersion?: string | null;
  filePath?: string | null;
  line?: number | null;
  endpoint?: string | null;
  /** The tool's stable id of this finding within the record (used by `unique_id_from_tool` matching). */
  uniqueIdFromTool?: string | null;
  /** The tool's id of the vulnerability (rule id, CVE, advisory). */
  vulnIdFromTool?: string | null;
  /**
   * The tool confirms the finding is real, beyond a scanner's match: a person's analysis in the tool, or a
   * check of the tool's own (docs/connectors/<tool>.md says which). Refreshed by every sync.
   */
  verified?: boolean;
  /** The tool reports it as triaged: dismissed as false positive, or accepted / won't fix. */
  falseP?: boolean;
  riskAccepted?: boolean;
  outOfScope?: boolean;
  /** The tool's raw item, kept (jsonb) for audit. */
  raw: unknown;
}

/** Fields a hash can be computed from (SPEC §4). */
export type HashField = Exclude<keyof NormalizedFinding, 'raw' | 'verified' | 'falseP' | 'riskAccepted' | 'outOfScope'>;

/** A vendor-equivalent product as the tool lists it. */
export interface DiscoveredRecord {
  externalId: string;
  name: string;
  metadata: Record<string, unknown>;
}

/** One page of a tool's VEPs and the cursor to resume after it (null on the last page). */
export interface RecordPage {
  records: DiscoveredRecord[];
  cursor: FetchCursor | null;
}

/** Every VEP of a paged listing, one after the other (a connector's `discover` from its `discoverPages`). */
export async function* recordsOfPages(pages: AsyncIterable<RecordPage>): AsyncIterable<DiscoveredRecord> {
  for await (const page of pages) yield* page.records;
}

/** What fetchFindings needs to know of a Record. */
export interface RecordRef {
  externalId: string;
  name: string;
  metadata: Record<string, unknown> | null;
}

/** Opaque, JSON-serialisable position in a fetch: given back, the fetch resumes after the last stored page. */
export type FetchCursor = Record<string, unknown>;

/**
 * The cursor of a page whose source cannot resume mid-way (one unpaginated answer streamed in pages): a
 * fetch retried after such a page discards what it staged and starts over.
 */
export const RESTART_FETCH: FetchCursor = Object.freeze({ restart: true });

export function isRestartCursor(cursor: unknown): boolean {
  return typeof cursor === 'object' && cursor !== null && (cursor as FetchCursor).restart === true;
}

/**
 * One page of a record's current findings and the cursor to resume *after* it (null when the connector
 * knows this is the last page). A connector yields each page as soon as it has it — never holding one back
 * to learn whether another follows — so a failure on a later page loses nothing already fetched. The
 * fetch is complete when the iteration ends.
 */
export interface FindingPage {
  findings: NormalizedFinding[];
  cursor: FetchCursor | null;
}

/** The configuration of one connector instance, with its secret decrypted (only ever held in memory). */
export interface ConnectorConfig<Settings> {
  location: string;
  secret: string;
  settings: Settings;
}

/** Per-call context: logging (never of secrets), cancellation, and a hook called before waiting on a rate limit. */
export interface ConnectorContext {
  logger: Logger;
  signal?: AbortSignal;
  /** Called while waiting (e.g. honouring Retry-After) so a long wait keeps the activity heartbeating. */
  onWait?: (ms: number, reason: string) => void;
  /** Where requests may go (the server's VULNSYNC_DENY_NETWORKS, …); the defaults when left out. */
  outbound?: Outbound;
}

/** The shortest secret a tool accepts: its own minimum, never below what redaction can find in messages. */
export function minSecretLengthOf(tool: Pick<ToolConnector<any>, 'minSecretLength'>): number {
  return Math.max(tool.minSecretLength ?? MIN_REDACTED_LENGTH, MIN_REDACTED_LENGTH);
}

/**
 * A connector: one tool's API, in the shape of the Airbyte protocol (spec / check / discover / read).
 * Every failure is a ConnectorError whose `type` says whether retrying can help (errors.ts).
 */
export interface ToolConnector<Settings = Record<string, unknown>> {
  /** Stable id stored on the Connector row (`dependency_track`, `github`). */
  readonly tool: string;
  readonly displayName: string;
  /** The settings schema (non-secret, tool-specific) and a description of what the secret must hold. */
  readonly spec: {
    settings: z.ZodType<Settings>;
    secretDescription: string;
    locationDescription: string;
    defaultLocation?: string;
  };
  readonly matching: MatchingAlgorithm;
  /**
   * The most of an answer this tool's connector reads (a JSON page, a streamed answer); over it is
   * BAD_TOOL_DATA. DEFAULT_RESPONSE_LIMITS (32 MB a page, 256 MB streamed) for what is left out.
   */
  readonly limits?: Partial<ResponseLimits>;
  /** The shortest secret accepted at create/patch (default and floor: MIN_REDACTED_LENGTH, 8). */
  readonly minSecretLength?: number;
  /** Fields hashed into `hash_code` for `hash_code` / `unique_id_or_hash` matching. */
  readonly hashFields: readonly HashField[];
  /**
   * The requests a minute the tool's documented rate limit allows one token; it caps how many records a connector
   * sync fetches at once (activities `syncWindow`). Left out when the tool documents none.
   */
  readonly requestsPerMinute?: number;

  /** One cheap authenticated call: resolves, or throws AUTH_REJECTED / CONFIG_INVALID / TOOL_UNAVAILABLE. */
  check(config: ConnectorConfig<Settings>, ctx: ConnectorContext): Promise<void>;
  /** Yields every VEP the tool has. */
  discover(config: ConnectorConfig<Settings>, ctx: ConnectorContext): AsyncIterable<DiscoveredRecord>;
  /**
   * The same listing page by page, each with the cursor to resume after it (null after the last), so a
   * discovery retried after a failed page resumes there. Connectors without it are listed in one go.
   */
  discoverPages?(config: ConnectorConfig<Settings>, startAt: FetchCursor | null, ctx: ConnectorContext): AsyncIterable<RecordPage>;
  /**
   * Yields pages of the record's *current* findings (fixed/closed items are not current). Starting from
   * `cursor` (a value an earlier page yielded) continues after that page. A 404 of the record is RECORD_MISSING.
   */
  fetchFindings(
    config: ConnectorConfig<Settings>,
    record: RecordRef,
    cursor: FetchCursor | null,
    ctx: ConnectorContext,
  ): AsyncIterable<FindingPage>;
}
