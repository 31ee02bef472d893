import { readLimited } from "./read-limited";

/**
 * The one policy for every URL a tenant or reseller gives the gateway to fetch (a jwksUri today;
 * OIDC discovery and webhook URLs next): public https only.
 *
 * The text is parsed as WHATWG URL, as fetch() will, so every IPv4 notation (octal, hex, decimal,
 * short forms, percent-encoded or full-width digits) is judged by the address it parses to. What
 * parsing would silently repair (whitespace, control characters, backslashes) is refused first.
 *
 * Refused: other schemes; credentials; ports other than the default; IP literals outside public
 * unicast (private, loopback, link-local, CGNAT, multicast, reserved, broadcast, documentation,
 * benchmarking, IETF protocol assignments, IPv4-mapped/compatible, NAT64, 6to4, Teredo); single-label
 * and local names (localhost, .local, .internal, .arpa, ...); names ending in a dot; wildcard-DNS
 * services that resolve to loopback or to an address in the name (nip.io, localtest.me, ...); names
 * that embed a private address. Names are not resolved here: a public name whose DNS points at a
 * private address is stopped by the platform, whose fetch() cannot reach private networks.
 *
 * `allowHttpLoopback` (local development only) relaxes exactly two rules: http is accepted, and
 * loopback hosts (localhost, 127.0.0.0/8, [::1]) are accepted on any port. Every other rule stays.
 *
 * @example
 * urlProblem("https://idp.example.com/.well-known/jwks.json") // null
 * urlProblem("https://127.1/jwks.json") // "must name a public host, not a private, loopback or special-purpose address"
 */
export interface UrlPolicyOptions {
  allowHttpLoopback?: boolean;
  /** Longest accepted text; 2048 by default. */
  maxLength?: number;
}

export const DEFAULT_MAX_URL_LENGTH = 2048;

/** Why this URL may not be fetched, or null when it may. Messages read after the field's name. */
export function urlProblem(raw: string, opts: UrlPolicyOptions = {}): string | null {
  const maxLength = opts.maxLength ?? DEFAULT_MAX_URL_LENGTH;
  if (raw.length > maxLength) return `must be at most ${maxLength} characters`;
  // WHATWG parsing strips these (or reads "\" as "/") instead of failing: refuse what it would repair.
  if (/[\s\\\p{Cc}]/u.test(raw)) {
    return "must not contain whitespace, control characters or backslashes";
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be a valid absolute URL";
  }
  const dev = opts.allowHttpLoopback === true;
  if (url.protocol !== "https:" && !(dev && url.protocol === "http:")) {
    return dev ? "must use https (or http in development)" : "must use https";
  }
  // The parser drops an empty "@" and decodes the authority; look at what was written.
  const authority = raw.slice(raw.indexOf("//") + 2).split(/[/?#]/, 1)[0]!;
  if (url.username || url.password || authority.includes("@")) return "must not contain credentials";
  if (url.hash || raw.includes("#")) return "must not have a fragment";

  const host = url.hostname;
  const kind = classifyHost(host);
  if (kind === "invalid") return "must name a valid host";
  if (kind === "trailing-dot") return "must name a public host, without a trailing dot";
  const loopback = kind === "loopback";
  if (kind !== "public" && !(dev && loopback)) {
    return kind === "local-name"
      ? `must name a public host (${host} is a local, internal or loopback name)`
      : "must name a public host, not a private, loopback or special-purpose address";
  }
  if (url.port !== "" && !(dev && loopback)) return "must use the default port";
  return null;
}

type HostKind = "public" | "loopback" | "special-address" | "local-name" | "trailing-dot" | "invalid";

function classifyHost(host: string): HostKind {
  if (host.startsWith("[")) {
    const groups = parseIpv6(host.slice(1, -1));
    if (!groups) return "invalid";
    if (groups.every((g, i) => g === (i === 7 ? 1 : 0))) return "loopback";
    return isPublicIpv6(groups) ? "public" : "special-address";
  }
  const v4 = parseDottedQuad(host);
  if (v4 !== null) {
    if (v4 >>> 24 === 127) return "loopback";
    return isSpecialIpv4(v4) ? "special-address" : "public";
  }
  if (host.endsWith(".")) return "trailing-dot";
  const labels = host.split(".");
  if (labels.some((l) => !/^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/.test(l))) return "invalid";
  if (host === "localhost") return "loopback";
  if (labels.length < 2) return "local-name";
  const tld = labels[labels.length - 1]!;
  if (LOCAL_TLDS.has(tld)) return "local-name";
  if (LOOPBACK_DNS_SERVICES.some((s) => host === s || host.endsWith(`.${s}`))) return "local-name";
  if (embedsSpecialIpv4(labels)) return "local-name";
  return "public";
}

/** Top-level names that only mean something on a local or internal network. */
const LOCAL_TLDS = new Set([
  "localhost",
  "local",
  "internal",
  "intranet",
  "private",
  "corp",
  "home",
  "lan",
  "localdomain",
  "arpa",
  "alt",
]);

/** Public wildcard-DNS services that answer with loopback, or with the address written in the name. */
const LOOPBACK_DNS_SERVICES = [
  "localtest.me",
  "lvh.me",
  "vcap.me",
  "localho.st",
  "lacolhost.com",
  "fuf.me",
  "nip.io",
  "sslip.io",
  "xip.io",
  "traefik.me",
  "local.gd",
];

/** "a.b.c.d" labels or an "a-b-c-d" label inside a name, when that address is not public. */
function embedsSpecialIpv4(labels: string[]): boolean {
  for (let i = 0; i + 4 <= labels.length; i++) {
    const quad = parseDottedQuad(labels.slice(i, i + 4).join("."));
    if (quad !== null && (quad >>> 24 === 127 || isSpecialIpv4(quad))) return true;
  }
  for (const label of labels) {
    for (const m of label.matchAll(/(?:^|[^0-9])(\d{1,3}-\d{1,3}-\d{1,3}-\d{1,3})(?![0-9])/g)) {
      const quad = parseDottedQuad(m[1]!.replaceAll("-", "."));
      if (quad !== null && (quad >>> 24 === 127 || isSpecialIpv4(quad))) return true;
    }
  }
  return false;
}

function parseDottedQuad(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** IANA IPv4 Special-Purpose Address Registry, plus multicast and the reserved 240/4 (incl. broadcast). */
const SPECIAL_V4: Array<[string, number]> = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.31.196.0", 24],
  ["192.52.193.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["192.175.48.0", 24],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
];
const SPECIAL_V4_RANGES = SPECIAL_V4.map(([base, bits]) => {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { network: parseDottedQuad(base)! & mask, mask };
});

function isSpecialIpv4(addr: number): boolean {
  return SPECIAL_V4_RANGES.some(({ network, mask }) => (addr & mask) >>> 0 === network >>> 0);
}

/**
 * Eight 16-bit groups of an IPv6 address as the URL parser serialises it: compressed, lowercase,
 * an embedded IPv4 already written as two hex groups.
 */
function parseIpv6(text: string): number[] | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (s: string) =>
    s === "" ? [] : s.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const known = head.length + tail.length;
  if (known > 8 || (halves.length === 1 && known !== 8)) return null;
  const groups = [...head, ...new Array<number>(8 - known).fill(0), ...tail];
  return groups.some(Number.isNaN) ? null : groups;
}

/**
 * Global unicast (2000::/3) only, without the ranges that are not a public host of their own:
 * IETF protocol assignments incl. Teredo (2001::/23), documentation (2001:db8::/32, 3fff::/20)
 * and 6to4 (2002::/16, which embeds an IPv4 address).
 */
function isPublicIpv6(g: number[]): boolean {
  const [a, b] = [g[0]!, g[1]!];
  if (a < 0x2000 || a > 0x3fff) return false;
  if (a === 0x2001 && b < 0x0200) return false;
  if (a === 0x2001 && b === 0x0db8) return false;
  if (a === 0x2002) return false;
  if (a === 0x3fff && b < 0x1000) return false;
  return true;
}

export class UrlFetchError extends Error {}

export interface BoundedFetchOptions extends UrlPolicyOptions {
  timeoutMs: number;
  maxBytes: number;
  accept?: string;
}

/**
 * GETs a URL that passed `urlProblem` (checked again here): no redirects followed, 200 only,
 * bounded in time and size. Returns the body bytes, or throws UrlFetchError with a message
 * fit to show the reseller.
 */
export async function fetchBounded(raw: string, opts: BoundedFetchOptions): Promise<Uint8Array> {
  const problem = urlProblem(raw, opts);
  if (problem) throw new UrlFetchError(`the URL ${problem}`);
  let res: Response;
  try {
    res = await fetch(raw, {
      redirect: "manual",
      headers: { accept: opts.accept ?? "application/json", "accept-encoding": "identity" },
      signal: AbortSignal.timeout(opts.timeoutMs),
    });
  } catch {
    throw new UrlFetchError("could not be fetched (connection failed or timed out)");
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new UrlFetchError(
      res.status >= 300 && res.status < 400
        ? `answered HTTP ${res.status} (a redirect); redirects are not followed`
        : `answered HTTP ${res.status}`,
    );
  }
  const declared = Number(res.headers.get("content-length") ?? 0);
  if (declared > opts.maxBytes) {
    await res.body?.cancel();
    throw new UrlFetchError(`is larger than ${opts.maxBytes} bytes`);
  }
  let bytes: Uint8Array | null;
  try {
    bytes = res.body ? await readLimited(res.body, opts.maxBytes) : new Uint8Array();
  } catch {
    throw new UrlFetchError("could not be read (connection failed or timed out)");
  }
  if (bytes === null) throw new UrlFetchError(`is larger than ${opts.maxBytes} bytes`);
  return bytes;
}
