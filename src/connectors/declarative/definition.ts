import type { z } from 'zod';
import type { MatchingAlgorithm, Severity } from '../../domain.js';
import type { Authenticator, HttpClient, ResponseLimits } from '../http/index.js';
import type { HashField, NormalizedFinding } from '../types.js';
import type { Paginator } from './paginators.js';
import type { TemplateScope } from './select.js';

/**
 * A plain REST tool as data, in the spirit of Airbyte's declarative manifests: a requester, a check,
 * a records stream and a findings stream. `declarativeConnector` turns it into a ToolConnector; the HTTP
 * client underneath supplies retries, rate limits, error classification, body limits and address checks.
 */
export interface DeclarativeDefinition<Settings, RecordItem, FindingItem> {
  tool: string;
  displayName: string;
  spec: { settings: z.ZodType<Settings>; secretDescription: string; locationDescription: string; defaultLocation?: string };
  matching: MatchingAlgorithm;
  hashFields: readonly HashField[];
  minSecretLength?: number;
  /** The tool's documented rate limit (ToolConnector.requestsPerMinute). */
  requestsPerMinute?: number;
  limits?: Partial<ResponseLimits>;
  requester: Requester<Settings>;
  /** One cheap authenticated call; a 404 or an answer that is not the tool's means the location is wrong. */
  check: RequestTemplate;
  records: RecordsStream<RecordItem>;
  /**
   * The record's findings: one listing, or several fetched one after the other, each with its own mapping
   * (SonarQube's issues and security hotspots; list them with `findingsStream`).
   */
  findings: FindingsStream<FindingItem> | readonly FindingsStream<FindingItem>[];
}

/** A stream of its own item type in a definition's list of findings streams (each maps only its own items). */
export function findingsStream<Item>(stream: FindingsStream<Item>): FindingsStream<unknown> {
  return stream as unknown as FindingsStream<unknown>;
}

export interface Requester<Settings> {
  /** What the secret is, for messages ("API token"). */
  credentialName: string;
  /** Said after a 403: the permissions the secret needs. */
  permissionHint: string;
  /**
   * The authenticator for this secret (http/auth.ts); throws CONFIG_INVALID for a secret of the wrong shape.
   * `connect` gives a client on the connector's location with another authenticator, for the requests
   * an authenticator makes itself (a token exchange).
   */
  auth: (secret: string, settings: Settings, connect: (authenticate: Authenticator) => HttpClient) => Authenticator;
  headers?: Record<string, string>;
}

/** A GET (or a GraphQL query) whose path, query values and variables may hold `{…}` placeholders (see `interpolate`). */
export interface RequestTemplate {
  /** A template, or a function for a path a template cannot say (an id inside a HAL link); it encodes what it inserts. */
  path: string | ((scope: TemplateScope) => string);
  query?: Record<string, string | number | boolean>;
  /** Headers of this request only (a media type that selects the answer's version). */
  headers?: Record<string, string>;
  /** Makes it a GraphQL query: POSTed to `path` with these variables (templates), and retried like a GET. */
  graphql?: { query: string; variables?: Record<string, string> };
}

/** A listing: its request, how it pages, and where its items are in each page's body. */
export interface Listing extends RequestTemplate {
  paginator: Paginator;
  /** Path to the items array in the body ('' when the body is the array). */
  selector: string;
}

/** A value taken from an item: a dotted path into it, or a function for anything a path cannot say. */
export type FieldSource<Item, T> = string | ((item: Item, scope: TemplateScope) => T | null | undefined);

export interface RecordsStream<Item> extends Listing {
  /** A listing whose every item is the `parent` of one run of this one (Semgrep: deployments → projects). */
  parents?: Listing;
  /** The fields read from each item; an item without them is BAD_TOOL_DATA. */
  schema: z.ZodType<Item>;
  externalId: FieldSource<Item, string | number>;
  name: FieldSource<Item, string>;
  metadata?: Record<string, FieldSource<Item, unknown>>;
}

/** Field values (dotted paths) a condition requires; a condition holds when every field has one of its values. */
export type Condition = Record<string, readonly (string | number | boolean | null)[]>;

/**
 * The first rule whose condition holds decides the item: `notCurrent` (fixed, resolved: left out, so the
 * reimport closes it), triaged (`falseP`, `riskAccepted`, `outOfScope`), or `open`. No rule: open.
 */
export interface TriageRule<Item = unknown> {
  /** A condition on the item's fields, or a function where the answer lies beyond the item (a lookup). */
  when: Condition | ((item: Item, scope: TemplateScope) => boolean);
  then: 'notCurrent' | 'open' | 'falseP' | 'riskAccepted' | 'outOfScope';
}

type MappedField = Exclude<keyof NormalizedFinding, 'raw' | 'severity' | 'falseP' | 'riskAccepted' | 'outOfScope' | 'verified'>;

export interface FindingsStream<Item> extends Listing {
  /**
   * A request that answers 404 when the record is gone, made before the listing, for tools whose listing
   * answers a vanished record with an empty list (which would close all its findings).
   */
  probe?: RequestTemplate;
  /**
   * Requests made once per fetch, before the listing, each answer in the template scope as `lookups.<name>`:
   * what the listing's items lack and the tool tells per record (Snyk: the ignores with their reasons). A
   * 404 means the record is gone.
   */
  lookups?: Record<string, RequestTemplate>;
  /** Findings per yielded page when the listing is unpaginated (`none`); default 500. */
  pageSize?: number;
  schema: z.ZodType<Item>;
  fields: { [K in MappedField]?: FieldSource<Item, NormalizedFinding[K]> };
  /** The tool's severity (a path or function) looked up case-insensitively in `map`; `otherwise` for the rest. */
  severity: { from: FieldSource<Item, string | number>; map: Record<string, Severity>; otherwise: Severity };
  triage: readonly TriageRule<Item>[];
  /** When the tool confirms the finding is real (a person's analysis); never when left out. */
  verifiedWhen?: Condition;
}
