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

export type Authenticator = (request: RequestToSign) => Record<string, string> | Promise<Record<string, string>>;

/** `Authorization: Bearer <token>` (GitHub, Semgrep, SonarQube user tokens). */
export function bearerAuth(token: string): Authenticator {
  return () => ({ Authorization: `Bearer ${token}` });
}

/** `Authorization: token <token>` (Snyk, GitHub's legacy form). */
export function tokenAuth(token: string): Authenticator {
  return () => ({ Authorization: `token ${token}` });
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
 * AWS SigV4 (Security Hub) belongs here as `awsSigV4Auth(credentials, region, service)`: an Authenticator
 * that signs `RequestToSign` with a maintained signer (e.g. @smithy/signature-v4) and returns the
 * Authorization, X-Amz-Date and X-Amz-Security-Token headers.
 */

/** Strings that must never appear in a log line or an error message: each header value and its credential part. */
export function secretsIn(headers: Record<string, string>): string[] {
  const secrets = new Set<string>();
  for (const value of Object.values(headers)) {
    if (!value) continue;
    secrets.add(value);
    const credential = value.split(' ').slice(1).join(' ');
    if (credential.length >= 4) secrets.add(credential);
  }
  return [...secrets];
}
