import { p } from '@mikro-orm/core';
import { z } from 'zod';
import { SEVERITIES } from '../domain.js';

/**
 * How a sync treats a field of a matched finding:
 * - `refreshed`: the tool owns it; a sync takes the tool's value unless a person edited the field.
 * - `toolView`: the tool's own verdict (verification, triage); taken whenever the finding takes the tool's view.
 * - `kept`: what identifies the finding (component, path, ids, hash); written once, when it is created.
 * - `computed`: worked out at staging, not sent by the tool.
 */
export type SyncRule = 'refreshed' | 'toolView' | 'kept' | 'computed';

interface FieldSpec {
  /** The column in `finding` and `staged_finding`. */
  column: string;
  sync: SyncRule;
  /** Position in the tool-fields digest; `'whenTrue'` appends the field's name only when it is set. */
  digest?: number | 'whenTrue';
  /** What the field is when the tool leaves it out. */
  missing: null | false;
  /** The entity property (MikroORM), for `finding` and `staged_finding` alike. */
  property: unknown;
  /** How the API shows it (name when it differs from the property); absent: not shown. */
  api?: { name?: string; schema: z.ZodType };
}

/**
 * The one table of a finding's tool fields. The entity properties, the staging columns and their CSV
 * encoding, the tool-fields digest, the reimport's refreshed and tool-view columns, its insert, and the
 * API's view of these fields are all derived from it, so they cannot drift apart: in particular a field a
 * sync refreshes is always in the digest that decides whether anything needs refreshing.
 */
export const FINDING_FIELDS = {
  title: { column: 'title', sync: 'refreshed', digest: 1, missing: null, property: p.text(), api: { schema: z.string() } },
  severity: { column: 'severity', sync: 'refreshed', digest: 0, missing: null, property: p.enum(SEVERITIES), api: { schema: z.enum(SEVERITIES) } },
  description: { column: 'description', sync: 'refreshed', digest: 2, missing: null, property: p.text().nullable(), api: { schema: z.string().nullable() } },
  mitigation: { column: 'mitigation', sync: 'refreshed', digest: 3, missing: null, property: p.text().nullable(), api: { schema: z.string().nullable() } },
  references: { column: 'references', sync: 'refreshed', digest: 4, missing: null, property: p.text().nullable(), api: { schema: z.string().nullable() } },
  cwes: { column: 'cwes', sync: 'refreshed', digest: 8, missing: null, property: p.json<number[]>().nullable(), api: { schema: z.array(z.number().int()).nullable() } },
  vulnerabilityIds: {
    column: 'vulnerability_ids',
    sync: 'refreshed',
    digest: 9,
    missing: null,
    property: p.json<string[]>().nullable(),
    api: { schema: z.array(z.string()).nullable() },
  },
  cvssVector: { column: 'cvss_vector', sync: 'refreshed', digest: 6, missing: null, property: p.string().length(255).nullable(), api: { schema: z.string().nullable() } },
  cvssScore: { column: 'cvss_score', sync: 'refreshed', digest: 7, missing: null, property: p.double().nullable(), api: { schema: z.number().nullable() } },
  componentName: { column: 'component_name', sync: 'kept', missing: null, property: p.text().nullable(), api: { schema: z.string().nullable() } },
  componentVersion: { column: 'component_version', sync: 'kept', missing: null, property: p.text().nullable(), api: { schema: z.string().nullable() } },
  filePath: { column: 'file_path', sync: 'kept', missing: null, property: p.text().nullable(), api: { schema: z.string().nullable() } },
  line: { column: 'line', sync: 'refreshed', digest: 5, missing: null, property: p.integer().nullable(), api: { schema: z.number().int().nullable() } },
  endpoint: { column: 'endpoint', sync: 'refreshed', digest: 10, missing: null, property: p.text().nullable(), api: { schema: z.string().nullable() } },
  uniqueIdFromTool: { column: 'unique_id_from_tool', sync: 'kept', missing: null, property: p.text().nullable(), api: { schema: z.string().nullable() } },
  vulnIdFromTool: { column: 'vuln_id_from_tool', sync: 'kept', missing: null, property: p.text().nullable(), api: { schema: z.string().nullable() } },
  hashCode: { column: 'hash_code', sync: 'computed', missing: null, property: p.string().length(64).nullable(), api: { schema: z.string().nullable() } },
  /**
   * Digest of the tool-owned fields and tool triage as the tool last reported them (reimport/staging.ts), so
   * an unchanged finding is recognised by one comparison; a person's edit of a field does not change it.
   */
  toolFieldsHash: { column: 'tool_fields_hash', sync: 'computed', missing: null, property: p.string().length(32).nullable() },
  // Only when set, so the digests of unverified findings stay those stored before `verified` was staged.
  verified: { column: 'verified', sync: 'toolView', digest: 'whenTrue', missing: false, property: p.boolean().default(false), api: { schema: z.boolean() } },
  falseP: { column: 'false_p', sync: 'toolView', digest: 11, missing: false, property: p.boolean().default(false), api: { name: 'falsePositive', schema: z.boolean() } },
  riskAccepted: { column: 'risk_accepted', sync: 'toolView', digest: 12, missing: false, property: p.boolean().default(false), api: { schema: z.boolean() } },
  outOfScope: { column: 'out_of_scope', sync: 'toolView', digest: 13, missing: false, property: p.boolean().default(false), api: { schema: z.boolean() } },
  // The tool's item as last taken, for audit: it goes with the tool's view but decides nothing, so no digest.
  raw: { column: 'raw', sync: 'toolView', missing: null, property: p.json<unknown>().nullable().lazy() },
} as const satisfies Record<string, FieldSpec>;

export type FindingFieldName = keyof typeof FINDING_FIELDS;
type Fields = typeof FINDING_FIELDS;

const entries = Object.entries(FINDING_FIELDS) as [FindingFieldName, FieldSpec][];

/** The entity properties of the fields (MikroORM), with their precise types. */
export const findingFieldProperties = Object.fromEntries(entries.map(([name, f]) => [name, f.property])) as {
  [K in FindingFieldName]: Fields[K]['property'];
};

/** Field names in table order: the staging columns, the CSV encoding and the reimport's insert follow it. */
export const FINDING_FIELD_NAMES = entries.map(([name]) => name);

/** A field's column as it goes into SQL (quoted: `references` is a reserved word). */
export const columnOf = (name: FindingFieldName) => `"${FINDING_FIELDS[name].column}"`;

const withRule = (rule: SyncRule) => entries.filter(([, f]) => f.sync === rule).map(([name]) => name);

/** Tool-owned fields a sync refreshes on a match, unless a person edited that field. */
export const REFRESHED_FIELDS = withRule('refreshed');
/** The tool's verdicts (and its raw item), taken whenever a finding takes the tool's view. */
export const TOOL_VIEW_FIELDS = withRule('toolView');
/** The tool's verdicts whose change makes a matched finding `updated` (the raw item alone does not). */
export const TOOL_VERDICT_FIELDS = TOOL_VIEW_FIELDS.filter((name) => (FINDING_FIELDS[name] as FieldSpec).digest !== undefined);

/** The digest's inputs, in digest order, then those appended only when set. */
export const DIGEST_FIELDS = entries
  .filter(([, f]) => typeof f.digest === 'number')
  .sort(([, a], [, b]) => (a.digest as number) - (b.digest as number))
  .map(([name]) => name);
export const DIGEST_FIELDS_WHEN_TRUE = entries.filter(([, f]) => f.digest === 'whenTrue').map(([name]) => name);

/** What a field is when the tool left it out. */
export const missingValueOf = (name: FindingFieldName) => FINDING_FIELDS[name].missing;

type ApiFields = { [K in FindingFieldName as Fields[K] extends { api: { name: infer N extends string } } ? N : Fields[K] extends { api: object } ? K : never]: K };
type ApiSchemaOf<K extends FindingFieldName> = Fields[K] extends { api: { schema: infer S extends z.ZodType } } ? S : never;

/** The properties of the fields the API shows. */
export type FindingApiFieldName = ApiFields[keyof ApiFields];

/** The API's names of the shown fields, each with the property it shows. */
export const FINDING_API_FIELDS = entries
  .filter(([, f]) => f.api)
  .map(([name, f]) => ({ apiName: f.api!.name ?? name, name: name as FindingApiFieldName, schema: f.api!.schema }));

/** The zod shape of the shown fields, for the API's view of a finding. */
export const findingApiShape = Object.fromEntries(FINDING_API_FIELDS.map((f) => [f.apiName, f.schema])) as {
  [A in keyof ApiFields]: ApiSchemaOf<ApiFields[A]>;
};
