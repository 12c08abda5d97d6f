import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { MikroORM } from '@mikro-orm/postgresql';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { NormalizedFinding } from '../src/connectors/types.js';
import { computeHashCode } from '../src/reimport/hash.js';

const csv = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return `"${s.replace(/"/g, '""')}"`;
};

/**
 * PostgreSQL's own floor for putting these rows into a findings table: COPY into an unindexed table, then
 * one INSERT … SELECT into a table shaped and indexed like `finding`.
 */
export async function copyFloor(orm: MikroORM, findings: NormalizedFinding[]): Promise<{ copyMs: number; insertMs: number }> {
  const client = new pg.Client({ connectionString: orm.config.get('clientUrl') });
  await client.connect();
  try {
    await client.query('drop table if exists floor_rows, floor_finding');
    await client.query(`create unlogged table floor_rows (title text, severity text, description text, mitigation text, "references" text,
      cwes jsonb, vulnerability_ids jsonb, cvss_vector text, cvss_score double precision, component_name text, component_version text,
      unique_id_from_tool text, vuln_id_from_tool text, hash_code text, raw jsonb)`);
    await client.query('create table floor_finding (like finding including all)');
    const fields = ['componentName', 'componentVersion', 'vulnerabilityIds'] as const;
    const lines = findings.map(
      (f) =>
        [f.title, f.severity, f.description, f.mitigation, f.references, f.cwes, f.vulnerabilityIds, f.cvssVector, f.cvssScore, f.componentName,
          f.componentVersion, f.uniqueIdFromTool, f.vulnIdFromTool, computeHashCode(f, fields), f.raw]
          .map(csv)
          .join(',') + '\n',
    );
    const t0 = performance.now();
    await pipeline(Readable.from(lines), client.query(copyFrom('copy floor_rows from stdin with (format csv)')));
    const t1 = performance.now();
    await client.query(`insert into floor_finding (test_id, title, severity, description, mitigation, "references", cwes, vulnerability_ids,
        cvss_vector, cvss_score, component_name, component_version, unique_id_from_tool, vuln_id_from_tool, hash_code, raw,
        first_seen_at, last_seen_at, created_at)
      select gen_random_uuid(), title, severity, description, mitigation, "references", cwes, vulnerability_ids, cvss_vector, cvss_score,
        component_name, component_version, unique_id_from_tool, vuln_id_from_tool, hash_code, raw, now(), now(), now()
      from floor_rows`);
    const t2 = performance.now();
    await client.query('drop table floor_rows, floor_finding');
    return { copyMs: t1 - t0, insertMs: t2 - t1 };
  } finally {
    await client.end();
  }
}
