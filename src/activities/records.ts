import type { EntityManager } from '@mikro-orm/postgresql';
import { connectors } from '../connectors/index.js';
import type { DiscoveredRecord } from '../connectors/types.js';
import { Connector, Engagement, Product, Test, ToolRecord } from '../db/entities.js';
import { GLOBAL_CONNECTORS_ENGAGEMENT } from '../domain.js';

/**
 * The Product of that name, created with `description` when missing (names are unique; a concurrent creator
 * is tolerated). An existing product keeps its description: mapping a record never rewrites a product.
 */
export async function productNamed(em: EntityManager, name: string, description: string | null = null): Promise<Product> {
  await em.execute(
    `insert into product (id, name, description, created_at) values (?, ?, ?, now()) on conflict (name) do nothing`,
    [crypto.randomUUID(), name, description],
  );
  return em.findOneOrFail(Product, { name });
}

/** The Test of (Product, Connector) under the Global Connectors engagement, created with it when missing. */
export async function testFor(em: EntityManager, product: Product, connector: Connector, toolName: string): Promise<Test> {
  await em.execute(
    `insert into engagement (id, product_id, name, created_at) values (?, ?, ?, now()) on conflict (product_id, name) do nothing`,
    [crypto.randomUUID(), product.id, GLOBAL_CONNECTORS_ENGAGEMENT],
  );
  const engagement = await em.findOneOrFail(Engagement, { product: product.id, name: GLOBAL_CONNECTORS_ENGAGEMENT });
  await em.execute(
    `insert into test (id, engagement_id, connector_id, tool, title, created_at) values (?, ?, ?, ?, ?, now())
     on conflict (engagement_id, connector_id) do nothing`,
    [crypto.randomUUID(), engagement.id, connector.id, connector.tool, `${toolName} - ${connector.label}`],
  );
  return em.findOneOrFail(Test, { engagement: engagement.id, connector: connector.id });
}

/** Says where an auto-mapped product came from, so a person who finds it later can tell. */
function autoMappedDescription(connector: Connector, vep: DiscoveredRecord): string {
  const tool = connectors[connector.tool]?.displayName ?? connector.tool;
  return `Created by vulnsync when the ${tool} connector "${connector.label}" discovered the record "${vep.name}" (auto-map).`;
}

export interface ReconcileResult {
  discovered: number;
  created: number;
  mapped: number;
  missing: number;
}

/**
 * Reconciles the connector's Records with what the tool listed (SPEC §3): new VEPs become `new` Records
 * (or `good`, mapped to a same-named Product, with auto-map on); seen ones refresh name and
 * last_discovered_at; mapped ones the tool no longer lists become `missing`; ignored ones stay ignored;
 * nothing is deleted.
 */
export async function reconcileRecords(
  em: EntityManager,
  connector: Connector,
  discovered: DiscoveredRecord[],
  now: Date,
): Promise<ReconcileResult> {
  const result: ReconcileResult = { discovered: discovered.length, created: 0, mapped: 0, missing: 0 };
  const existing = new Map((await em.find(ToolRecord, { connector: connector.id })).map((r) => [r.externalId, r]));
  const seen = new Set<string>();
  for (const vep of discovered) {
    if (seen.has(vep.externalId)) continue;
    seen.add(vep.externalId);
    let record = existing.get(vep.externalId);
    if (!record) {
      record = em.create(ToolRecord, {
        connector: connector.id,
        externalId: vep.externalId,
        name: vep.name,
        metadata: vep.metadata,
        state: 'new',
        firstDiscoveredAt: now,
        lastDiscoveredAt: now,
      });
      result.created++;
    } else {
      record.name = vep.name;
      record.metadata = vep.metadata;
      record.lastDiscoveredAt = now;
      if (record.state === 'missing') record.state = record.product ? 'good' : 'new';
    }
    if (record.state === 'good' && !record.product) record.state = 'stale';
    if (record.state === 'new' && connector.autoMap) {
      record.product = await productNamed(em, vep.name, autoMappedDescription(connector, vep));
      record.state = 'good';
      result.mapped++;
    }
  }
  for (const record of existing.values()) {
    if (!seen.has(record.externalId) && record.state === 'good') {
      record.state = 'missing';
      result.missing++;
    }
  }
  await em.flush();
  return result;
}
