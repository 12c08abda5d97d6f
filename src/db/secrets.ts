import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { secretKeyProblem } from '../config.js';
import { ConnectorError } from '../errors.js';

const CURRENT_VERSION = 'v2';
/** Sealed before binding existed: `v1:<iv>:<tag>:<ciphertext>`, no key id, no associated data. Still opened. */
const LEGACY_VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** What a sealed secret belongs to: it opens only for this connector at this origin. */
export interface SecretBinding {
  connectorId: string;
  /** The connector's location; only its origin (scheme, host, port) is bound, so path changes keep the secret. */
  location: string;
}

/** Why a stored secret did not open. The message names the cause, never the secret or the key. */
export class SecretUnreadableError extends Error {
  override readonly name = 'SecretUnreadableError';
  constructor(
    readonly reason: 'malformed' | 'unknown_key' | 'not_this_connector',
    message: string,
  ) {
    super(message);
  }
}

/** A short, one-way id of a key, stored beside what it sealed so the key ring knows which key opens it. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('vulnsync-secret-key-id\0').update(key).digest('hex').slice(0, 12);
}

function bindingData(binding: SecretBinding): Buffer {
  let origin: string;
  try {
    origin = new URL(binding.location).origin;
  } catch {
    throw new SecretUnreadableError('malformed', 'the connector location is not a URL, so its secret cannot be bound to it');
  }
  return Buffer.from(`vulnsync-connector-secret\0${binding.connectorId}\0${origin}`, 'utf8');
}

function parseKey(value: string, name: string): Buffer {
  const problem = secretKeyProblem(value);
  if (problem) throw new Error(`${name} ${problem}`);
  return Buffer.from(value, 'base64');
}

/**
 * AES-256-GCM for connector secrets at rest, with a key ring. The stored form is
 * `v2:<keyId>:<iv>:<tag>:<ciphertext>` (base64 parts); the connector id and the location's origin are
 * the associated data, so a value copied to another row or pointed at another host does not open. The
 * current key seals; older keys (VULNSYNC_SECRET_KEYS_OLD) still open until `secrets:rotate` re-seals
 * everything. Legacy `v1` values (no key id, no binding) still open with any key of the ring.
 */
export class SecretBox {
  private readonly current: { id: string; key: Buffer };
  private readonly keys = new Map<string, Buffer>();

  constructor(currentKeyBase64: string, oldKeysBase64: readonly string[] = []) {
    const key = parseKey(currentKeyBase64, 'VULNSYNC_SECRET_KEY');
    this.current = { id: keyIdOf(key), key };
    this.keys.set(this.current.id, key);
    for (const old of oldKeysBase64) {
      const oldKey = parseKey(old, 'a key of VULNSYNC_SECRET_KEYS_OLD');
      if (!this.keys.has(keyIdOf(oldKey))) this.keys.set(keyIdOf(oldKey), oldKey);
    }
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  seal(plain: string, binding: SecretBinding): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(bindingData(binding));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [CURRENT_VERSION, this.current.id, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
  }

  /** True when the value is sealed in the current format under the current key (nothing for a rotation to do). */
  isCurrent(sealed: string): boolean {
    const [version, keyId] = sealed.split(':');
    return version === CURRENT_VERSION && keyId === this.current.id;
  }

  open(sealed: string, binding: SecretBinding): string {
    const parts = sealed.split(':');
    if (parts[0] === CURRENT_VERSION && parts.length === 5) {
      const [, keyId, iv, tag, body] = parts as [string, string, string, string, string];
      const key = this.keys.get(keyId);
      if (!key) {
        throw new SecretUnreadableError(
          'unknown_key',
          `the connector's secret was sealed with key ${keyId}, which is neither VULNSYNC_SECRET_KEY nor in VULNSYNC_SECRET_KEYS_OLD`,
        );
      }
      const plain = decrypt(key, iv, tag, body, bindingData(binding));
      if (plain === null) {
        throw new SecretUnreadableError(
          'not_this_connector',
          "the stored secret does not belong to this connector and location (it was copied or altered); set the connector's secret again",
        );
      }
      return plain;
    }
    if (parts[0] === LEGACY_VERSION && parts.length === 4) {
      const [, iv, tag, body] = parts as [string, string, string, string];
      for (const key of this.keys.values()) {
        const plain = decrypt(key, iv, tag, body, null);
        if (plain !== null) return plain;
      }
      throw new SecretUnreadableError('unknown_key', "the connector's secret (v1) opens with no key of VULNSYNC_SECRET_KEY or VULNSYNC_SECRET_KEYS_OLD");
    }
    throw new SecretUnreadableError('malformed', "the connector's stored secret is not in a format vulnsync knows");
  }
}

/**
 * A connector's secret, for a check or a run. A secret that does not open is CONFIG_INVALID (non-retryable:
 * only setting the secret again, or configuring the old key, helps).
 */
export function openConnectorSecret(box: SecretBox, connector: { id: string; location: string; secretEncrypted: string }): string {
  try {
    return box.open(connector.secretEncrypted, { connectorId: connector.id, location: connector.location });
  } catch (error) {
    if (error instanceof SecretUnreadableError) throw new ConnectorError('CONFIG_INVALID', error.message);
    throw error;
  }
}

/** The plain text, or null when the key, the tag or the associated data do not match. */
function decrypt(key: Buffer, ivText: string, tagText: string, bodyText: string, aad: Buffer | null): string | null {
  const iv = Buffer.from(ivText, 'base64');
  const tag = Buffer.from(tagText, 'base64');
  // A shorter tag would make forgeries easier; GCM would otherwise accept one as short as 4 bytes.
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
    throw new SecretUnreadableError('malformed', "the connector's stored secret has a bad IV or authentication tag length");
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    if (aad) decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(bodyText, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}
