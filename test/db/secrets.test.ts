import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ConfigError, loadConfig } from '../../src/config.js';
import { Connector } from '../../src/db/entities.js';
import { rotateConnectorSecrets } from '../../src/db/rotate-secrets.js';
import { keyIdOf, openConnectorSecret, SecretBox, SecretUnreadableError } from '../../src/db/secrets.js';
import { ConnectorError } from '../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const newKey = () => randomBytes(32).toString('base64');
const SECRET = 'odt_secret_at_rest_0123456789';

/** A value as the first release stored it: `v1:<iv>:<tag>:<ciphertext>`, no key id, no associated data. */
function sealV1(keyBase64: string, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(keyBase64, 'base64'), iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
}

function unreadable(run: () => unknown): SecretUnreadableError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SecretUnreadableError);
    return error as SecretUnreadableError;
  }
  throw new Error('expected the secret not to open');
}

describe('a sealed secret is bound to its connector and origin', () => {
  const box = new SecretBox(newKey());
  const binding = { connectorId: randomUUID(), location: 'https://dtrack.example.com/api' };

  test('opens for the same connector, also after a change of path on the same origin', () => {
    const sealed = box.seal(SECRET, binding);
    expect(sealed).toMatch(new RegExp(`^v2:${box.currentKeyId}:`));
    expect(sealed).not.toContain(SECRET);
    expect(box.open(sealed, binding)).toBe(SECRET);
    expect(box.open(sealed, { ...binding, location: 'https://dtrack.example.com/other/path' })).toBe(SECRET);
  });

  test('does not open when copied to another connector row', () => {
    const sealed = box.seal(SECRET, binding);
    const error = unreadable(() => box.open(sealed, { ...binding, connectorId: randomUUID() }));
    expect(error.reason).toBe('not_this_connector');
    expect(error.message).not.toContain(SECRET);
  });

  test('does not open for another origin: scheme, host or port', () => {
    const sealed = box.seal(SECRET, binding);
    for (const location of ['http://dtrack.example.com/api', 'https://evil.example.net/api', 'https://dtrack.example.com:8443/api']) {
      expect(unreadable(() => box.open(sealed, { ...binding, location })).reason).toBe('not_this_connector');
    }
  });

  test('a tampered value or one with a short authentication tag is refused, not a crash', () => {
    const [version, keyId, iv, tag, body] = box.seal(SECRET, binding).split(':') as [string, string, string, string, string];
    const flipped = Buffer.from(body, 'base64');
    flipped[0]! ^= 1;
    expect(unreadable(() => box.open([version, keyId, iv, tag, flipped.toString('base64')].join(':'), binding)).reason).toBe('not_this_connector');
    const shortTag = Buffer.from(tag, 'base64').subarray(0, 4).toString('base64');
    expect(unreadable(() => box.open([version, keyId, iv, shortTag, body].join(':'), binding)).reason).toBe('malformed');
    expect(unreadable(() => box.open('garbage', binding)).reason).toBe('malformed');
  });

  test('openConnectorSecret turns a secret that does not open into a non-retryable CONFIG_INVALID', () => {
    const sealed = box.seal(SECRET, binding);
    let thrown: unknown;
    try {
      openConnectorSecret(box, { id: randomUUID(), location: binding.location, secretEncrypted: sealed });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConnectorError);
    expect(thrown).toMatchObject({ type: 'CONFIG_INVALID', retryable: false, message: expect.stringContaining('does not belong to this connector') });
  });
});

describe('the key ring', () => {
  const binding = { connectorId: randomUUID(), location: 'https://api.github.com' };

  test('the current key seals; old keys still open what they sealed; each value names its key by id', () => {
    const oldKey = newKey();
    const currentKey = newKey();
    const sealedWithOld = new SecretBox(oldKey).seal(SECRET, binding);
    const ring = new SecretBox(currentKey, [oldKey]);
    expect(sealedWithOld.split(':')[1]).toBe(keyIdOf(Buffer.from(oldKey, 'base64')));
    expect(sealedWithOld).not.toContain(oldKey);
    expect(ring.open(sealedWithOld, binding)).toBe(SECRET);
    expect(ring.isCurrent(sealedWithOld)).toBe(false);
    const resealed = ring.seal(SECRET, binding);
    expect(ring.isCurrent(resealed)).toBe(true);
    expect(new SecretBox(currentKey).open(resealed, binding)).toBe(SECRET);
  });

  test('a value sealed with a key the ring does not hold names the missing key id', () => {
    const sealed = new SecretBox(newKey()).seal(SECRET, binding);
    const error = unreadable(() => new SecretBox(newKey()).open(sealed, binding));
    expect(error.reason).toBe('unknown_key');
    expect(error.message).toContain(sealed.split(':')[1]);
  });

  test('legacy v1 values (unbound, no key id) still open with any key of the ring', () => {
    const oldKey = newKey();
    const legacy = sealV1(oldKey, SECRET);
    expect(new SecretBox(newKey(), [oldKey]).open(legacy, binding)).toBe(SECRET);
    expect(new SecretBox(oldKey).open(legacy, binding)).toBe(SECRET);
    expect(unreadable(() => new SecretBox(newKey()).open(legacy, binding)).reason).toBe('unknown_key');
  });
});

describe('keys are validated strictly', () => {
  const key = newKey();
  const bad: [string, string][] = [
    ['16 bytes', randomBytes(16).toString('base64')],
    ['33 bytes', randomBytes(33).toString('base64')],
    ['not canonical: missing padding', key.replace(/=+$/, '')],
    ['not canonical: a stray character', `${key.slice(0, 10)}!${key.slice(10)}`],
    ['not canonical: base64url alphabet', randomBytes(32).toString('base64url')],
    ['not canonical: surrounding spaces', ` ${key} `],
  ];

  test.each(bad)('%s is a clear configuration error naming the variable, never echoing the value', (what, value) => {
    let thrown: unknown;
    try {
      loadConfig({ VULNSYNC_SECRET_KEY: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toContain('VULNSYNC_SECRET_KEY');
    expect((thrown as Error).message).toContain(what.startsWith('not canonical') ? 'canonical base64' : 'must be 32 bytes encoded as base64');
    expect((thrown as Error).message).not.toContain(value.trim());
    expect(() => new SecretBox(value)).toThrow(/VULNSYNC_SECRET_KEY must be/);
  });

  test('the old keys are validated the same way, and a good ring loads', () => {
    expect(() => loadConfig({ VULNSYNC_SECRET_KEY: key, VULNSYNC_SECRET_KEYS_OLD: `${newKey()},short` })).toThrow(/VULNSYNC_SECRET_KEYS_OLD\.1/);
    const old = [newKey(), newKey()];
    expect(loadConfig({ VULNSYNC_SECRET_KEY: key, VULNSYNC_SECRET_KEYS_OLD: ` ${old[0]}, ${old[1]} ` }).VULNSYNC_SECRET_KEYS_OLD).toEqual(old);
    expect(loadConfig({ VULNSYNC_SECRET_KEY: key }).VULNSYNC_SECRET_KEYS_OLD).toEqual([]);
  });
});

describe('rotating the secrets', () => {
  let db: TestDatabase;
  const oldKey = newKey();
  const currentKey = newKey();
  const lostKey = newKey();

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** One connector per case: sealed in v2 under the old key, v1 under the old key, current already, and under a key nobody has. */
  async function seed() {
    await db.orm.em.fork().nativeDelete(Connector, {});
    const em = db.orm.em.fork();
    const rows = ['v2-old', 'v1-old', 'current', 'lost'].map((label) => {
      const id = randomUUID();
      const location = `https://${label}.example.com`;
      const binding = { connectorId: id, location };
      const sealed =
        label === 'v2-old'
          ? new SecretBox(oldKey).seal(`${SECRET}-${label}`, binding)
          : label === 'v1-old'
            ? sealV1(oldKey, `${SECRET}-${label}`)
            : label === 'current'
              ? new SecretBox(currentKey).seal(`${SECRET}-${label}`, binding)
              : new SecretBox(lostKey).seal(`${SECRET}-${label}`, binding);
      return em.create(Connector, { id, tool: 'dependency_track', label, location, secretEncrypted: sealed, settings: {} });
    });
    await em.flush();
    return rows.map((r) => ({ id: r.id, label: r.label }));
  }

  async function storedSecrets() {
    const rows = await db.orm.em.fork().find(Connector, {}, { populate: ['secretEncrypted'] });
    return new Map(rows.map((r) => [r.label, r]));
  }

  test('re-seals old-key and v1 values under the current key, counts each case, and a second run finds all current', async () => {
    const seeded = await seed();
    const ring = new SecretBox(currentKey, [oldKey]);
    const result = await rotateConnectorSecrets(db.orm, ring, { batchSize: 2 });
    expect(result.resealed).toBe(2);
    expect(result.alreadyCurrent).toBe(1);
    expect(result.failed).toEqual([{ connectorId: seeded.find((s) => s.label === 'lost')!.id, label: 'lost', reason: expect.stringContaining('neither') }]);

    const after = await storedSecrets();
    const currentOnly = new SecretBox(currentKey);
    for (const label of ['v2-old', 'v1-old', 'current']) {
      const row = after.get(label)!;
      expect(row.secretEncrypted.startsWith(`v2:${currentOnly.currentKeyId}:`)).toBe(true);
      expect(openConnectorSecret(currentOnly, row)).toBe(`${SECRET}-${label}`);
    }

    const again = await rotateConnectorSecrets(db.orm, ring);
    expect(again).toMatchObject({ resealed: 0, alreadyCurrent: 3 });
    expect(again.failed).toHaveLength(1);
  });

  test('npm run secrets:rotate prints the counts and exits 1 when a secret does not open', async () => {
    await seed();
    const run = promisify(execFile);
    const env = { ...process.env, DATABASE_URL: db.url, VULNSYNC_SECRET_KEY: currentKey, VULNSYNC_SECRET_KEYS_OLD: oldKey };
    let outcome: { code: number; stdout: string; stderr: string };
    try {
      const { stdout, stderr } = await run('node_modules/.bin/tsx', ['scripts/rotate-secrets.ts'], { env });
      outcome = { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      outcome = { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
    expect(outcome.stdout).toBe('resealed: 2\nalready current: 1\nfailed: 1\n');
    expect(outcome.stderr).toContain('(lost)');
    expect(outcome.code).toBe(1);
    expect(`${outcome.stdout}${outcome.stderr}`).not.toContain(SECRET);
    expect(`${outcome.stdout}${outcome.stderr}`).not.toContain(currentKey);
  });
});
