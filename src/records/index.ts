/** Records (SPEC §3): mapping to Products and Tests, and reconciling what a discovery lists; shared by the API and the activities. */
import type { EntityManager } from '@mikro-orm/postgresql';
import { connectors, isToolName } from '../connectors/index.js';
import type { DiscoveredRecord } from '../connectors/types.js';
import { Connector, Engagement, Product, ToolRecord } from '../db/entities.js';
import { GLOBAL_CONNECTORS_ENGAGEMENT } from '../domain.js';
import { cleanJson, cleanText, cleanTextUpTo } from '../reimport/clean.js';

/**
 * The Product of that name, created with `description` when missing (names are unique; a concurrent creator
 * is tolerated). An existing product keeps its description: mapping a record never rewrites a product.
 */
export async function productNamed(em: EntityManager, name: string, description: string | null = null): Promise<Product> {
  // A tool's project name can be longer than a Product's; the auto-mapped Product takes its start.
  const productName = cleanTextUpTo(name, MAX_PRODUCT_NAME);
  await em.execute(
    `insert into product (id, name, description, created_at) values (?, ?, ?, now()) on conflict (name) do nothing`,
    [crypto.randomUUID(), productName, description],
  );
  return em.findOneOrFail(Product, { name: productName });
}

/**
 * The id of the Test of (Product, Connector) under the Global Connectors engagement, created with it when
 * missing. Every record sync asks, and after the first the Test is there: one read, the inserts only when not.
 */
export async function testIdFor(em: EntityManager, product: Product, connector: Connector, toolName: string): Promise<string> {
  const existing = await findTestId(em, product.id, connector.id);
  if (existing) return existing;
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
  const created = await findTestId(em, product.id, connector.id);
  if (!created) throw new Error(`the Test of product ${product.id} and connector ${connector.id} was not created`);
  return created;
}

async function findTestId(em: EntityManager, productId: string, connectorId: string): Promise<string | null> {
  const [row] = await em.execute<{ id: string }[]>(
    `select t.id from test t join engagement e on e.id = t.engagement_id where e.product_id = ? and e.name = ? and t.connector_id = ?`,
    [productId, GLOBAL_CONNECTORS_ENGAGEMENT, connectorId],
  );
  return row?.id ?? null;
}

/** Says where an auto-mapped product came from, so a person who finds it later can tell. */
function autoMappedDescription(connector: Connector, vep: DiscoveredRecord): string {
  const tool = isToolName(connector.tool) ? connectors[connector.tool].displayName : connector.tool;
  return `Created by vulnsync when the ${tool} connector "${connector.label}" discovered the record "${vep.name}" (auto-map).`;
}

const MAX_EXTERNAL_ID = 512;
const MAX_RECORD_NAME = 512;
const MAX_PRODUCT_NAME = 255;

/**
 * The VEP as the tables can hold it: clean text, a name cut to its column; null when its id is too long to
 * store (cutting an id could merge two records), so it is counted rather than failing the discover.
 */
function storableRecord(vep: DiscoveredRecord): DiscoveredRecord | null {
  const externalId = cleanText(vep.externalId);
  if (!externalId || externalId.length > MAX_EXTERNAL_ID) return null;
  return { externalId, name: cleanTextUpTo(vep.name || externalId, MAX_RECORD_NAME), metadata: cleanJson(vep.metadata ?? {}) as Record<string, unknown> };
}

export interface ReconcileResult {
  discovered: number;
  created: number;
  mapped: number;
  missing: number;
  /** VEPs whose id cannot be stored (too long, empty); left out rather than failing the discover. */
  rejected?: number;
}

/**
 * Reconciles one page of what the tool listed with the connector's Records (SPEC §3): new VEPs become
 * `new` Records (or `good`, mapped to a same-named Product, with auto-map on); seen ones refresh name and
 * `last_discovered_at` (set to the discovery's start, `now`, on every page); ignored ones stay ignored;
 * nothing is deleted. Counts only `created`, `mapped` and `rejected`; `markMissing` ends the discovery.
 */
export async function reconcileRecordPage(em: EntityManager, connector: Connector, listed: DiscoveredRecord[], now: Date): Promise<ReconcileResult> {
  const result: ReconcileResult = { discovered: listed.length, created: 0, mapped: 0, missing: 0, rejected: 0 };
  const veps = new Map<string, DiscoveredRecord>();
  for (const item of listed) {
    const vep = storableRecord(item);
    if (vep) veps.set(vep.externalId, vep);
    else result.rejected!++;
  }
  if (veps.size === 0) return result;
  const existing = new Map((await em.find(ToolRecord, { connector: connector.id, externalId: { $in: [...veps.keys()] } })).map((r) => [r.externalId, r]));
  for (const vep of veps.values()) {
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
  await em.flush();
  return result;
}

/** Ends a discovery that started at `startedAt`: mapped Records it did not list become `missing`. Returns how many. */
export async function markMissing(em: EntityManager, connectorId: string, startedAt: Date): Promise<number> {
  return em.nativeUpdate(ToolRecord, { connector: connectorId, state: 'good', lastDiscoveredAt: { $lt: startedAt } }, { state: 'missing' });
}
