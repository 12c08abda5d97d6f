import { describe, expect, it } from '@jest/globals';
import { ConnectorError } from '../../src/errors.js';
import { bearerAuth, createHttpClient, exchangedTokenAuth, type Authenticator, type IssuedToken } from '../../src/connectors/http/index.js';
import { startFakeServer, type FakeState } from '../fakes/fake-server.js';
import { FAST_RETRIES, connectorErrorOf, testContext } from './connector-context.js';

/** An exchange that issues token-1, token-2, … living `lifeMs`, on a clock the test moves. */
function setup(lifeMs: number | null) {
  const clock = { now: 1_000_000 };
  let issued = 0;
  const exchange = async (): Promise<IssuedToken> => ({ headers: { Authorization: `Bearer token-${++issued}` }, expiresInMs: lifeMs });
  const auth = exchangedTokenAuth(exchange, { secret: 'long-lived-api-token', now: () => clock.now });
  const sign = async () => (await auth({ method: 'GET', url: new URL('https://tool.example/x'), headers: {} }, testContext())).Authorization;
  return { clock, auth, sign, issued: () => issued };
}

describe('exchangedTokenAuth', () => {
  it('exchanges on first use and keeps the token until a minute before it expires', async () => {
    const { clock, sign, issued } = setup(600_000);
    expect(await sign()).toBe('Bearer token-1');
    clock.now += 539_999;
    expect(await sign()).toBe('Bearer token-1');
    clock.now += 1;
    expect(await sign()).toBe('Bearer token-2');
    expect(issued()).toBe(2);
  });

  it('renews a short-lived token a tenth of its life early, and an already expired one every time', async () => {
    const short = setup(10_000);
    await short.sign();
    short.clock.now += 8_999;
    expect(await short.sign()).toBe('Bearer token-1');
    short.clock.now += 1;
    expect(await short.sign()).toBe('Bearer token-2');
    const expired = setup(0);
    expect([await expired.sign(), await expired.sign()]).toEqual(['Bearer token-1', 'Bearer token-2']);
  });

  it('keeps a token without an announced lifetime until the tool rejects it, then renews', async () => {
    const { clock, auth, sign } = setup(null);
    await sign();
    clock.now += 365 * 24 * 3_600_000;
    expect(await sign()).toBe('Bearer token-1');
    expect(auth.renewAfterRejection?.()).toBe(true);
    expect(await sign()).toBe('Bearer token-2');
  });

  it('shares one exchange among concurrent requests, and does not keep a failed one', async () => {
    let calls = 0;
    const auth = exchangedTokenAuth(async () => {
      calls += 1;
      if (calls === 1) throw new ConnectorError('TOOL_UNAVAILABLE', 'down');
      return { headers: { Authorization: `Bearer t${calls}` }, expiresInMs: 3_600_000 };
    });
    const sign = () => auth({ method: 'GET', url: new URL('https://tool.example/x'), headers: {} }, testContext());
    await expect(sign()).rejects.toThrow('down');
    const signed = await Promise.all([sign(), sign(), sign()]);
    expect(signed).toEqual([{ Authorization: 'Bearer t2' }, { Authorization: 'Bearer t2' }, { Authorization: 'Bearer t2' }]);
    expect(calls).toBe(2);
  });

  it('names the long-lived secret for redaction', () => {
    expect(setup(1).auth.secrets).toEqual(['long-lived-api-token']);
  });
});

describe('the HTTP client and a renewable authenticator', () => {
  /** A tool that takes only the bearer token "fresh-token-1"; the client's requests, with their tokens, are counted. */
  async function tool() {
    const seen: string[] = [];
    const fake = await startFakeServer<FakeState>({ requests: [], faults: [] }, ({ headers }) => {
      seen.push(String(headers.authorization));
      return headers.authorization === 'Bearer fresh-token-1' ? { status: 200, body: { ok: true } } : { status: 401, body: { message: 'token expired' } };
    });
    const call = (authenticate: Authenticator) =>
      createHttpClient({ toolName: 'Tool', credentialName: 'token', baseUrl: fake.url, authenticate, ...FAST_RETRIES }).request({ path: '/x' }, testContext());
    return { fake, seen, call };
  }

  it('repeats a request answered 401 once, with the renewed token', async () => {
    const { fake, seen, call } = await tool();
    let issued = 0;
    const tokens = ['stale-token-0', 'fresh-token-1'];
    const auth = exchangedTokenAuth(async () => ({ headers: { Authorization: `Bearer ${tokens[issued++]}` }, expiresInMs: 3_600_000 }));
    try {
      await expect(call(auth)).resolves.toMatchObject({ status: 200 });
      expect(seen).toEqual(['Bearer stale-token-0', 'Bearer fresh-token-1']);
    } finally {
      await fake.close();
    }
  });

  it('takes a static credential\'s 401 as final: one request, AUTH_REJECTED', async () => {
    const { fake, seen, call } = await tool();
    try {
      expect(await connectorErrorOf(call(bearerAuth('stale-token-0')))).toMatchObject({ type: 'AUTH_REJECTED', details: { status: 401 } });
      expect(seen).toEqual(['Bearer stale-token-0']);
    } finally {
      await fake.close();
    }
  });
});
