import type { z } from 'zod';
import type { Logger } from 'pino';
import type { MatchingAlgorithm, Severity } from '../domain.js';
import type { ErrorType } from '../errors.js';
import { ConnectorError } from '../errors.js';
import { MIN_REDACTED_LENGTH } from './http/auth.js';
import type { ResponseLimits } from './http/client.js';
import type { Outbound } from './http/outbound.js';
import { parseSettings } from './settings.js';

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

/** A JSON value: what a cursor may hold, since it is heartbeated to Temporal and stored in PostgreSQL (jsonb). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A position in a listing or a fetch as the worker stores it (a heartbeat, `sync_fetch.cursor`): JSON whose
 * shape only the connector that wrote it knows. The connector checks it with its own schema before it
 * resumes from it (`acceptsFetchCursor`), so a cursor of another version is refused, typed, never misread.
 */
export type StoredCursor = { [key: string]: JsonValue };

/**
 * The cursor of a page whose source cannot resume mid-way (one unpaginated answer streamed in pages): a
 * fetch retried after such a page discards what it staged and starts over.
 */
export const RESTART_FETCH = Object.freeze({ restart: true as const });
export type RestartFetch = typeof RESTART_FETCH;

export function isRestartCursor(cursor: unknown): boolean {
  return typeof cursor === 'object' && cursor !== null && 'restart' in cursor && cursor.restart === true;
}

/** One page of a tool's VEPs and the cursor to resume after it (null on the last page). */
export interface RecordPage<Cursor = StoredCursor> {
  records: DiscoveredRecord[];
  cursor: Cursor | null;
}

/** Every VEP of a paged listing, one after the other (a connector's `discover` from its `discoverPages`). */
export async function* recordsOfPages(pages: AsyncIterable<RecordPage<unknown>>): AsyncIterable<DiscoveredRecord> {
  for await (const page of pages) yield* page.records;
}

/** What fetchFindings needs to know of a Record. */
export interface RecordRef {
  externalId: string;
  name: string;
  metadata: Record<string, unknown> | null;
}

/**
 * One page of a record's current findings and the cursor to resume *after* it (null when the connector
 * knows this is the last page; RESTART_FETCH, a StoredCursor too, when it cannot be resumed after). A connector yields each page
 * as soon as it has it — never holding one back to learn whether another follows — so a failure on a later
 * page loses nothing already fetched. The fetch is complete when the iteration ends.
 */
export interface FindingPage<Cursor = StoredCursor> {
  findings: NormalizedFinding[];
  cursor: Cursor | null;
}

/** A stored connector's configuration as it is opened: its secret decrypted (held in memory only), its settings as stored. */
export interface StoredConfig {
  location: string;
  secret: string;
  settings: unknown;
}

/** The configuration a connector's own functions get: its settings parsed once by its schema, defaults applied. */
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
  /**
   * The longest wait for the tool taken in process (the retry policy's own limit when left out); a longer one
   * fails the call, typed, with the delay. A local activity takes none: the activity that follows it waits.
   */
  maxWaitMs?: number;
  /** Where requests may go (the server's VULNSYNC_DENY_NETWORKS, …); the defaults when left out. */
  outbound?: Outbound;
  /** Called once per request sent to the tool, with the error type it ended in (null when answered as hoped): the worker's metrics. */
  onToolCall?: (errorType: ErrorType | null) => void;
}

/** The shortest secret a tool accepts: its own minimum, never below what redaction can find in messages. */
export function minSecretLengthOf(tool: Pick<ToolConnector, 'minSecretLength'>): number {
  return Math.max(tool.minSecretLength ?? MIN_REDACTED_LENGTH, MIN_REDACTED_LENGTH);
}

/** What the rest of vulnsync knows of a tool without opening a connector of it. */
interface ToolDescription {
  /** Stable id stored on the Connector row (`dependency_track`, `github`). */
  readonly tool: string;
  readonly displayName: string;
  /** The settings schema (non-secret, tool-specific) and a description of what the secret must hold. */
  readonly spec: {
    settings: z.ZodType<Record<string, unknown>>;
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
}

/**
 * A connector as the rest of vulnsync sees it: one tool's API, in the shape of the Airbyte protocol
 * (spec / check / discover / read). Its settings and cursor types stay inside it (`defineConnector`):
 * `open` parses the stored settings once, and the connection it answers checks every cursor it is given.
 * Every failure is a ConnectorError whose `type` says whether retrying can help (errors.ts).
 */
export interface ToolConnector extends ToolDescription {
  /** Parses the stored settings with the tool's schema (CONFIG_INVALID naming each bad field) and binds the config. */
  open(config: StoredConfig): ToolConnection;
  /** Whether a stored fetch position is one this connector resumes from (not RESTART_FETCH, not another version's). */
  acceptsFetchCursor(cursor: unknown): cursor is StoredCursor;
  /** Whether a stored discovery position is one this connector resumes from. */
  acceptsDiscoveryCursor(cursor: unknown): cursor is StoredCursor;
}

/** One connector's calls to its tool, its settings parsed. */
export interface ToolConnection {
  /** One cheap authenticated call: resolves, or throws AUTH_REJECTED / CONFIG_INVALID / TOOL_UNAVAILABLE. */
  check(ctx: ConnectorContext): Promise<void>;
  /** Yields every VEP the tool has. */
  discover(ctx: ConnectorContext): AsyncIterable<DiscoveredRecord>;
  /**
   * The same listing page by page, each with the cursor to resume after it (null after the last), so a
   * discovery retried after a failed page resumes there; a tool that cannot resume lists in one page.
   * A `startAt` the connector does not accept is CURSOR_INVALID.
   */
  discoverPages(startAt: StoredCursor | null, ctx: ConnectorContext): AsyncIterable<RecordPage>;
  /**
   * Yields pages of the record's *current* findings (fixed/closed items are not current). Starting from
   * `cursor` (a value an earlier page yielded) continues after that page; one the connector does not accept
   * is CURSOR_INVALID. A 404 of the record is RECORD_MISSING.
   */
  fetchFindings(record: RecordRef, cursor: StoredCursor | null, ctx: ConnectorContext): AsyncIterable<FindingPage>;
}

/**
 * A connector's own definition, typed by its settings and cursors. `defineConnector` turns it into the
 * ToolConnector the rest of vulnsync uses, so those types never leak out (no `ToolConnector<any>`).
 */
export interface ConnectorDefinition<Settings extends Record<string, unknown>, FetchCursor extends StoredCursor, DiscoveryCursor extends StoredCursor>
  extends Omit<ToolDescription, 'spec'> {
  readonly spec: ToolDescription['spec'] & { settings: z.ZodType<Settings> };
  /**
   * The schemas of the positions this connector's pages yield: a stored cursor is read with them before
   * it is handed back (a tool that cannot resume a fetch or a listing says `z.never()`).
   */
  readonly cursors: { fetch: z.ZodType<FetchCursor>; discovery: z.ZodType<DiscoveryCursor> };
  check(config: ConnectorConfig<Settings>, ctx: ConnectorContext): Promise<void>;
  /** Paged, resumable discovery; or `discover` for a tool whose listing is one answer. */
  discoverPages?(config: ConnectorConfig<Settings>, startAt: DiscoveryCursor | null, ctx: ConnectorContext): AsyncIterable<RecordPage<DiscoveryCursor>>;
  discover?(config: ConnectorConfig<Settings>, ctx: ConnectorContext): AsyncIterable<DiscoveredRecord>;
  fetchFindings(config: ConnectorConfig<Settings>, record: RecordRef, cursor: FetchCursor | null, ctx: ConnectorContext): AsyncIterable<FindingPage<FetchCursor | RestartFetch>>;
}

/** A connector from its typed definition: settings parsed once in `open`, cursors checked before they are used. */
export function defineConnector<Settings extends Record<string, unknown>, FetchCursor extends StoredCursor, DiscoveryCursor extends StoredCursor>(
  definition: ConnectorDefinition<Settings, FetchCursor, DiscoveryCursor>,
): ToolConnector {
  const { check, discoverPages, discover, fetchFindings, cursors, ...description } = definition;
  const name = definition.displayName;
  const accepts = <C>(schema: z.ZodType<C>) => (cursor: unknown): cursor is StoredCursor => !isRestartCursor(cursor) && schema.safeParse(cursor).success;

  function cursorOf<C>(schema: z.ZodType<C>, cursor: StoredCursor | null, what: string): C | null {
    // RESTART_FETCH given back means the caller discarded what it staged: the fetch starts from the beginning.
    if (cursor === null || isRestartCursor(cursor)) return null;
    const parsed = schema.safeParse(cursor);
    if (parsed.success) return parsed.data;
    // Only the field names: a position may hold a tool's URL, which the message (shown in the Temporal UI) need not repeat.
    const fields = Object.keys(cursor).slice(0, 10).join(', ') || 'none';
    throw new ConnectorError('CURSOR_INVALID', `${name} cannot resume ${what} from the stored position (fields: ${fields}): it is not one this version of the connector wrote`);
  }

  function listing(config: ConnectorConfig<Settings>, startAt: DiscoveryCursor | null, ctx: ConnectorContext): AsyncIterable<RecordPage<DiscoveryCursor>> {
    if (discoverPages) return discoverPages(config, startAt, ctx);
    if (!discover) throw new Error(`${name} defines neither discoverPages nor discover`);
    return onePage(discover(config, ctx));
  }

  return {
    ...description,
    acceptsFetchCursor: accepts(cursors.fetch),
    acceptsDiscoveryCursor: accepts(cursors.discovery),
    open(stored) {
      const config: ConnectorConfig<Settings> = { location: stored.location, secret: stored.secret, settings: parseSettings(definition.spec.settings, stored.settings, name) };
      return {
        check: (ctx) => check(config, ctx),
        discover: (ctx) => recordsOfPages(listing(config, null, ctx)),
        async *discoverPages(startAt, ctx) {
          yield* listing(config, cursorOf(cursors.discovery, startAt, 'a discovery'), ctx);
        },
        async *fetchFindings(record, cursor, ctx) {
          yield* fetchFindings(config, record, cursorOf(cursors.fetch, cursor, `the fetch of "${record.name}"`), ctx);
        },
      };
    },
  };
}

/** A listing that cannot resume, as one page. */
async function* onePage<C>(records: AsyncIterable<DiscoveredRecord>): AsyncIterable<RecordPage<C>> {
  const all: DiscoveredRecord[] = [];
  for await (const record of records) all.push(record);
  yield { records: all, cursor: null };
}
