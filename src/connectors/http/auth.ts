import type { ConnectorContext } from '../types.js';

/**
 * Authenticators: each turns a credential into the headers one request needs. An authenticator is
 * handed the request it signs because some schemes (AWS SigV4) sign the method, URL, headers and body;
 * the header-only schemes below ignore it.
 *
 * The requester treats every header value an authenticator returns as a secret: it never logs them and
 * redacts them from any message built from a tool's answer.
 */
export interface RequestToSign {
  method: string;
  url: URL;
  headers: Readonly<Record<string, string>>;
  body?: string;
}

export interface Authenticator {
  /** `ctx` is the calling request's (the HTTP client always passes it), for authenticators that make requests of their own (a token exchange). */
  (request: RequestToSign, ctx?: ConnectorContext): Record<string, string> | Promise<Record<string, string>>;
  /**
   * Asked once when the tool answers 401: true when fresh headers may succeed (a short-lived token to renew),
   * and the client then repeats the request once. Static credentials leave it out: their 401 is final.
   */
  renewAfterRejection?: () => boolean;
  /** Credentials behind the headers (the long-lived secret a short-lived token was exchanged for), redacted like them. */
  secrets?: readonly string[];
}

/** `Authorization: Bearer <token>` (GitHub, Semgrep, SonarQube user tokens). */
export function bearerAuth(token: string): Authenticator {
  return () => ({ Authorization: `Bearer ${token}` });
}

/** `Authorization: token <token>` (Snyk, GitHub's legacy form; Bugcrowd spells the scheme `Token`). */
export function tokenAuth(token: string, scheme: 'token' | 'Token' = 'token'): Authenticator {
  return () => ({ Authorization: `${scheme} ${token}` });
}

/** A key in a header of the tool's choosing (`X-Api-Key` for Dependency-Track, `PRIVATE-TOKEN` for GitLab). */
export function apiKeyHeaderAuth(headerName: string, key: string): Authenticator {
  return () => ({ [headerName]: key });
}

/** HTTP Basic (Harbor robot accounts, SonarQube token-as-user). */
export function basicAuth(username: string, password: string): Authenticator {
  const encoded = Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
  return () => ({ Authorization: `Basic ${encoded}` });
}

/*
 * AWS SigV4: Security Hub goes through its SDK client, which signs every request itself (aws-sdk.ts). A plain
 * REST tool behind SigV4 would get `awsSigV4Auth(credentials, region, service)` here: an Authenticator that
 * signs `RequestToSign` with the SDK's signer (@smithy/signature-v4) and returns the Authorization,
 * X-Amz-Date and X-Amz-Security-Token headers.
 */

/**
 * Secrets shorter than this are not looked for in messages: a short value matches ordinary words
 * ("s" in "refused"), garbling the message and revealing the secret to whoever reads the gaps. Connectors
 * refuse secrets shorter than their `minSecretLength`, which is never below this.
 */
export const MIN_REDACTED_LENGTH = 8;

/**
 * Strings that must never appear in a log line or an error message: each header value and its credential
 * part, and for basic auth the decoded `user:password` and the password (a tool echoes those, not base64).
 */
export function secretsIn(headers: Record<string, string>): string[] {
  const secrets = new Set<string>();
  for (const value of Object.values(headers)) {
    if (!value) continue;
    secrets.add(value);
    const credential = value.split(' ').slice(1).join(' ');
    if (credential) secrets.add(credential);
    // A `<user>:<password>` credential (Bugcrowd's token): a tool echoing the password alone must not reveal it.
    const colon = credential.indexOf(':');
    if (colon > 0 && colon < credential.length - 1) secrets.add(credential.slice(colon + 1));
    if (/^Basic /i.test(value) && credential) {
      const decoded = Buffer.from(credential, 'base64').toString('utf8');
      secrets.add(decoded);
      if (decoded.includes(':')) secrets.add(decoded.slice(decoded.indexOf(':') + 1));
    }
  }
  return [...secrets];
}

const isWordChar = (c: string | undefined) => c !== undefined && /^[A-Za-z0-9]$/.test(c);

/**
 * The text with every whole-token occurrence of a secret (at least MIN_REDACTED_LENGTH long) replaced by
 * `[redacted]`. Whole token: not preceded or followed by a letter or digit, so a secret that happens to
 * be part of a longer word is not cut out of it. Longest secrets first, so a header value goes before the
 * credential inside it.
 */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  const candidates = [...new Set(secrets)].filter((s) => s.length >= MIN_REDACTED_LENGTH).sort((a, b) => b.length - a.length);
  for (const secret of candidates) {
    let result = '';
    let from = 0;
    for (let at = out.indexOf(secret); at !== -1; at = out.indexOf(secret, at + 1)) {
      if (at < from || isWordChar(out[at - 1]) || isWordChar(out[at + secret.length])) continue;
      result += `${out.slice(from, at)}[redacted]`;
      from = at + secret.length;
    }
    out = result + out.slice(from);
  }
  return out;
}

/** Several credentials at once, each in its own header (Cobalt: a bearer token and `X-Org-Token`). */
export function allOfAuth(...authenticators: Authenticator[]): Authenticator {
  return async (request, ctx) => Object.assign({}, ...(await Promise.all(authenticators.map((authenticate) => authenticate(request, ctx)))));
}
