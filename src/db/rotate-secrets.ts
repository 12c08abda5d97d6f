import type { MikroORM } from '@mikro-orm/postgresql';
import { Connector } from './entities.js';
import { SecretUnreadableError, type SecretBox } from './secrets.js';

export interface SecretRotationResult {
  /** Opened with an old key or in the old format, and sealed again under the current key. */
  resealed: number;
  /** Already sealed under the current key in the current format (and opened, so not damaged). */
  alreadyCurrent: number;
  /** Did not open with any key of the ring; the reason names no secret. Set their secrets again. */
  failed: { connectorId: string; label: string; reason: string }[];
}

/**
 * Re-seals every connector secret under the current key and format, so older keys can be retired from
 * VULNSYNC_SECRET_KEYS_OLD. Idempotent: a second run finds everything current. Each row is written only
 * if its sealed value is still the one that was read, so a secret set through the API meanwhile is kept.
 */
export async function rotateConnectorSecrets(orm: MikroORM, box: SecretBox, options: { batchSize?: number } = {}): Promise<SecretRotationResult> {
  const batchSize = options.batchSize ?? 200;
  const result: SecretRotationResult = { resealed: 0, alreadyCurrent: 0, failed: [] };
  let afterId: string | null = null;
  for (;;) {
    const em = orm.em.fork();
    const batch: Connector[] = await em.find(Connector, afterId ? { id: { $gt: afterId } } : {}, {
      populate: ['secretEncrypted'],
      orderBy: { id: 'asc' },
      limit: batchSize,
    });
    if (batch.length === 0) return result;
    for (const connector of batch) {
      const binding = { connectorId: connector.id, location: connector.location };
      let plain: string;
      try {
        plain = box.open(connector.secretEncrypted, binding);
      } catch (error) {
        if (!(error instanceof SecretUnreadableError)) throw error;
        result.failed.push({ connectorId: connector.id, label: connector.label, reason: error.message });
        continue;
      }
      if (box.isCurrent(connector.secretEncrypted)) {
        result.alreadyCurrent++;
        continue;
      }
      const updated = await em.nativeUpdate(
        Connector,
        { id: connector.id, secretEncrypted: connector.secretEncrypted },
        { secretEncrypted: box.seal(plain, binding) },
      );
      if (updated === 1) result.resealed++;
      else result.alreadyCurrent++;
    }
    afterId = batch[batch.length - 1]!.id;
  }
}
