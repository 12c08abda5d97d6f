import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector } from 'undici';
import type { Config } from '../../config.js';

/**
 * Where requests to tools may go. Link-local and cloud metadata addresses are refused by default: a
 * location pointing there would hand a tool credential, and the answer, to the cloud's instance API.
 * Private and loopback networks stay allowed, because self-hosted tools live there.
 */
export const DEFAULT_DENIED_NETWORKS: readonly string[] = [
  '169.254.0.0/16', // IPv4 link-local: AWS, GCP, Azure, OpenStack metadata (169.254.169.254), ECS task metadata
  'fe80::/10', // IPv6 link-local
  'fd00:ec2::254/128', // AWS instance metadata over IPv6
  '100.100.100.200/32', // Alibaba Cloud metadata
  '192.0.0.192/32', // Oracle Cloud Classic metadata
  '64:ff9b::a9fe:0/112', // 169.254.0.0/16 through NAT64
];

export interface OutboundPolicy {
  /** Plain http locations (default true: self-hosted tools without TLS). */
  allowHttp?: boolean;
  /** Extra CIDR networks to refuse, on top of DEFAULT_DENIED_NETWORKS. */
  denyNetworks?: readonly string[];
  /** Host names (as in the location) exempt from the address check. */
  allowHosts?: readonly string[];
  /** Name resolution; DNS by default. Tests resolve names of their own with it. */
  lookup?: LookupFunction;
}

/** The address check and the connection pool that applies it to every socket it opens. */
export interface Outbound {
  readonly allowHttp: boolean;
  /** The undici dispatcher every tool request goes through. */
  readonly dispatcher: Agent;
  /** Why this address may not be connected to, or null. */
  refusal(address: string): string | null;
  /**
   * The same check for clients that bring their own node:http stack (the AWS SDK): a `lookup` for its
   * agents, and the refusal of a host given as a literal address (which is never looked up).
   */
  readonly nodeLookup: LookupFunction;
  literalRefusal(host: string): OutboundRefusedError | null;
}

/** A connection refused by the policy: non-retryable, the location has to change. */
export class OutboundRefusedError extends Error {
  override readonly name = 'OutboundRefusedError';
  readonly code = 'VULNSYNC_OUTBOUND_REFUSED';
}

type Network = [ipaddr.IPv4 | ipaddr.IPv6, number];

function parseNetworks(cidrs: readonly string[]): { cidr: string; network: Network }[] {
  return cidrs.map((cidr) => ({ cidr, network: ipaddr.parseCIDR(cidr) }));
}

/**
 * The outbound policy as a connection pool. The check runs where each socket is opened, on the addresses
 * it is about to connect to, so a name that resolves differently later (DNS rebinding) is checked again.
 * A name with any refused address is refused as a whole: the socket may try any of them.
 */
export function createOutbound(policy: OutboundPolicy = {}): Outbound {
  const denied = parseNetworks([...DEFAULT_DENIED_NETWORKS, ...(policy.denyNetworks ?? [])]);
  const allowedHosts = new Set((policy.allowHosts ?? []).map((h) => h.toLowerCase()));
  const resolve = policy.lookup ?? (dnsLookup as LookupFunction);

  function refusal(address: string): string | null {
    let ip: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      // process() turns IPv4-mapped IPv6 (::ffff:169.254.169.254) into the IPv4 address it carries.
      ip = ipaddr.process(address);
    } catch {
      return 'the address is not an IP address';
    }
    for (const { cidr, network } of denied) {
      if (ip.kind() === network[0].kind() && ip.match(network)) return `the address is in ${cidr}`;
    }
    return null;
  }

  function refusedError(host: string, address: string, why: string): OutboundRefusedError {
    const named = host === address ? address : `${host} (${address})`;
    return new OutboundRefusedError(
      `vulnsync does not connect to ${named}: ${why}, a network tool connections may not reach (link-local and cloud metadata addresses are refused; see VULNSYNC_DENY_NETWORKS and VULNSYNC_ALLOW_HOSTS)`,
    );
  }

  /** Resolves like dns.lookup and fails when any address it would connect to is refused. */
  const checkingLookup = ((hostname: string, options: LookupOptions, callback: (...args: unknown[]) => void) => {
    resolve(hostname, options as LookupAllOptions, (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => {
      if (error) return callback(error);
      const addresses = Array.isArray(address) ? address.map((a) => a.address) : [address];
      for (const one of addresses) {
        const why = refusal(one);
        if (why) return callback(refusedError(hostname, one, why));
      }
      return Array.isArray(address) ? callback(null, address) : callback(null, address, family);
    });
  }) as LookupFunction;

  const nodeLookup = ((hostname: string, options: LookupOptions, callback: (...args: unknown[]) => void) =>
    (allowedHosts.has(hostname.toLowerCase()) ? resolve : checkingLookup)(hostname, options as LookupAllOptions, callback as never)) as LookupFunction;

  function literalRefusal(hostname: string): OutboundRefusedError | null {
    const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
    if (allowedHosts.has(host) || !isIP(host)) return null;
    const why = refusal(host);
    return why ? refusedError(host, host, why) : null;
  }

  const checked = buildConnector({ lookup: checkingLookup });
  const unchecked = buildConnector({});

  const dispatcher = new Agent({
    connect(options, callback) {
      const host = options.hostname.toLowerCase();
      if (allowedHosts.has(host)) return unchecked(options, callback);
      // A literal address is never looked up, so the lookup hook would not see it.
      const refused = literalRefusal(host);
      if (refused) return callback(refused, null);
      return checked(options, callback);
    },
  });

  return { allowHttp: policy.allowHttp ?? true, dispatcher, refusal, nodeLookup, literalRefusal };
}

/** The policy the server's environment asks for. */
export function outboundFrom(config: Pick<Config, 'VULNSYNC_ALLOW_HTTP' | 'VULNSYNC_DENY_NETWORKS' | 'VULNSYNC_ALLOW_HOSTS'>): Outbound {
  return createOutbound({ allowHttp: config.VULNSYNC_ALLOW_HTTP, denyNetworks: config.VULNSYNC_DENY_NETWORKS, allowHosts: config.VULNSYNC_ALLOW_HOSTS });
}

let sharedDefault: Outbound | undefined;

/** The policy with its defaults, for callers given none (tests, scripts): the metadata refusal always applies. */
export function defaultOutbound(): Outbound {
  sharedDefault ??= createOutbound();
  return sharedDefault;
}

/** The refusal behind a failed fetch, if that is why it failed. */
export function outboundRefusalOf(error: unknown): OutboundRefusedError | null {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof OutboundRefusedError) return e;
  }
  return null;
}
