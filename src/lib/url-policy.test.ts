import { describe, expect, it } from "vitest";
import { urlProblem } from "./url-policy";

const PUBLIC = /public host/;
const SCHEME = /https/;
const CREDENTIALS = /credentials/;
const PORT = /port/;
const SYNTAX = /valid|whitespace|fragment|characters|dot/;

/**
 * Hostile URLs a tenant or reseller could give us, each with why it must be refused. WHATWG URL
 * parsing normalises most IPv4 notations to dotted decimal, so the policy is checked on the
 * parsed host; the raw text is checked for what parsing would silently drop.
 */
const HOSTILE: Array<[string, RegExp]> = [
  // IPv4 in every notation
  ["https://127.0.0.1/jwks.json", PUBLIC],
  ["https://127.1/jwks.json", PUBLIC],
  ["https://2130706433/jwks.json", PUBLIC],
  ["https://0x7f000001/jwks.json", PUBLIC],
  ["https://0x7f.0.0.1/jwks.json", PUBLIC],
  ["https://0177.0.0.1/jwks.json", PUBLIC],
  ["https://017700000001/jwks.json", PUBLIC],
  ["https://127.000.000.001/jwks.json", PUBLIC],
  ["https://127%2E0%2E0%2E1/jwks.json", PUBLIC],
  ["https://%31%32%37.0.0.1/jwks.json", PUBLIC],
  ["https://１２７.0.0.1/jwks.json", PUBLIC],
  ["https://127.0.0.1./jwks.json", PUBLIC],
  ["https://0/jwks.json", PUBLIC],
  ["https://0.0.0.0/jwks.json", PUBLIC],
  // private and special-purpose IPv4 ranges
  ["https://10.0.0.1/jwks.json", PUBLIC],
  ["https://172.16.0.1/jwks.json", PUBLIC],
  ["https://172.31.255.254/jwks.json", PUBLIC],
  ["https://192.168.1.1/jwks.json", PUBLIC],
  ["https://169.254.169.254/latest/meta-data/", PUBLIC],
  ["https://100.64.0.1/jwks.json", PUBLIC],
  ["https://192.0.0.8/jwks.json", PUBLIC], // IETF protocol assignments
  ["https://192.0.2.1/jwks.json", PUBLIC], // TEST-NET-1
  ["https://192.88.99.1/jwks.json", PUBLIC], // 6to4 relay anycast
  ["https://198.18.0.1/jwks.json", PUBLIC], // benchmarking
  ["https://198.19.255.254/jwks.json", PUBLIC],
  ["https://198.51.100.7/jwks.json", PUBLIC], // TEST-NET-2
  ["https://203.0.113.9/jwks.json", PUBLIC], // TEST-NET-3
  ["https://224.0.0.1/jwks.json", PUBLIC], // multicast
  ["https://239.255.255.250/jwks.json", PUBLIC],
  ["https://240.0.0.1/jwks.json", PUBLIC], // reserved
  ["https://255.255.255.255/jwks.json", PUBLIC], // broadcast
  // IPv6 and mapped forms
  ["https://[::1]/jwks.json", PUBLIC],
  ["https://[0:0:0:0:0:0:0:1]/jwks.json", PUBLIC],
  ["https://[::]/jwks.json", PUBLIC],
  ["https://[::ffff:127.0.0.1]/jwks.json", PUBLIC],
  ["https://[::ffff:7f00:1]/jwks.json", PUBLIC],
  ["https://[::ffff:169.254.169.254]/jwks.json", PUBLIC],
  ["https://[::ffff:8.8.8.8]/jwks.json", PUBLIC], // mapped forms are never a public host
  ["https://[::127.0.0.1]/jwks.json", PUBLIC], // IPv4-compatible (deprecated)
  ["https://[64:ff9b::a9fe:a9fe]/jwks.json", PUBLIC], // NAT64 of 169.254.169.254
  ["https://[2002:7f00:1::]/jwks.json", PUBLIC], // 6to4 embedding 127.0.0.1
  ["https://[2001::1]/jwks.json", PUBLIC], // Teredo
  ["https://[2001:db8::1]/jwks.json", PUBLIC], // documentation
  ["https://[fe80::1]/jwks.json", PUBLIC], // link-local
  ["https://[fd12:3456:789a::1]/jwks.json", PUBLIC], // unique local
  ["https://[ff02::1]/jwks.json", PUBLIC], // multicast
  // local names, trailing dots, percent-encoded dots
  ["https://localhost/jwks.json", PUBLIC],
  ["https://LOCALHOST/jwks.json", PUBLIC],
  ["https://localhost./jwks.json", PUBLIC],
  ["https://localhost%2E/jwks.json", PUBLIC],
  ["https://localhost%2e/jwks.json", PUBLIC],
  ["https://idp.localhost/jwks.json", PUBLIC],
  ["https://metadata.google.internal/computeMetadata/v1/", PUBLIC],
  ["https://metadata.google.internal./computeMetadata/v1/", PUBLIC],
  ["https://metadata/computeMetadata/v1/", PUBLIC], // single label: resolved by search domains
  ["https://printer.local/jwks.json", PUBLIC],
  ["https://router.home.arpa/jwks.json", PUBLIC],
  ["https://1.0.0.127.in-addr.arpa/jwks.json", PUBLIC],
  ["https://idp.corp/jwks.json", PUBLIC],
  ["https://idp.example.com./jwks.json", /dot/],
  ["https://idp%2Eexample%2Ecom%2E/jwks.json", /dot/],
  ["https://idp..example.com/jwks.json", /valid|public host/],
  // DNS names of loopback services and names that embed a private address
  ["https://localtest.me/jwks.json", PUBLIC],
  ["https://idp.localtest.me/jwks.json", PUBLIC],
  ["https://lvh.me/jwks.json", PUBLIC],
  ["https://tenant.vcap.me/jwks.json", PUBLIC],
  ["https://localho.st/jwks.json", PUBLIC],
  ["https://127.0.0.1.nip.io/jwks.json", PUBLIC],
  ["https://10-0-0-1.sslip.io/jwks.json", PUBLIC],
  ["https://169.254.169.254.xip.io/jwks.json", PUBLIC],
  ["https://app.192.168.0.10.example.com/jwks.json", PUBLIC],
  ["https://app-127-0-0-1.example.com/jwks.json", PUBLIC],
  // userinfo
  ["https://user:pass@idp.example.com/jwks.json", CREDENTIALS],
  ["https://user@idp.example.com/jwks.json", CREDENTIALS],
  ["https://:@idp.example.com/jwks.json", CREDENTIALS],
  ["https://idp.example.com@127.0.0.1/jwks.json", CREDENTIALS],
  ["https://idp.example.com%40127.0.0.1/jwks.json", /valid|public host/],
  ["https://idp.example.com\\@127.0.0.1/jwks.json", SYNTAX],
  // ports
  ["https://idp.example.com:8443/jwks.json", PORT],
  ["https://idp.example.com:80/jwks.json", PORT],
  ["https://idp.example.com:0/jwks.json", PORT],
  ["https://idp.example.com:65535/jwks.json", PORT],
  // schemes
  ["http://idp.example.com/jwks.json", SCHEME],
  ["ftp://idp.example.com/jwks.json", SCHEME],
  ["file:///etc/passwd", SCHEME],
  ['data:application/json,{"keys":[]}', SCHEME],
  ["javascript:alert(1)", SCHEME],
  ["gopher://idp.example.com:70/_GET", SCHEME],
  ["wss://idp.example.com/jwks.json", SCHEME],
  // text that parsing would silently repair
  ["", SYNTAX],
  ["not a url", SYNTAX],
  ["//idp.example.com/jwks.json", SYNTAX],
  [" https://idp.example.com/jwks.json", SYNTAX],
  ["https://idp.example.com/jwks.json\n", SYNTAX],
  ["https://idp.exa\tmple.com/jwks.json", SYNTAX],
  ["https://idp.example.com/jwks.json#fragment", SYNTAX],
  [`https://idp.example.com/${"a".repeat(2048)}`, /characters/],
];

const ACCEPTED = [
  "https://idp.example.com/.well-known/jwks.json",
  "https://acme.eu.auth0.com/.well-known/jwks.json",
  "https://login.microsoftonline.com/common/discovery/v2.0/keys",
  "https://IDP.Example.COM/jwks.json",
  "https://idp.example.com:443/jwks.json",
  "https://idp.example.com/jwks.json?tenant=acme",
  "https://xn--bcher-kva.example/jwks.json",
  "https://bücher.example/jwks.json",
  "https://8.8.8.8/jwks.json",
  "https://[2606:4700:4700::1111]/jwks.json",
  "https://idp.test/jwks.json",
];

describe("urlProblem: hostile URLs (production rules)", () => {
  it(`has at least 40 hostile cases (${HOSTILE.length})`, () => {
    expect(HOSTILE.length).toBeGreaterThanOrEqual(40);
  });

  it.each(HOSTILE)("refuses %j", (raw, reason) => {
    const problem = urlProblem(raw);
    expect(problem, raw).not.toBeNull();
    expect(problem).toMatch(reason);
  });

  it.each(ACCEPTED)("accepts %s", (raw) => {
    expect(urlProblem(raw)).toBeNull();
  });
});

describe("urlProblem: development mode relaxes only the scheme and loopback hosts", () => {
  const dev = { allowHttpLoopback: true };

  it.each([
    "http://127.0.0.1:8788/jwks.json",
    "http://127.0.0.2:9999/jwks.json",
    "http://localhost:8787/jwks.json",
    "http://[::1]:8080/jwks.json",
    "https://localhost/jwks.json",
    "http://idp.example.com/jwks.json",
    "https://idp.example.com/jwks.json",
  ])("accepts %s", (raw) => {
    expect(urlProblem(raw, dev)).toBeNull();
  });

  it.each<[string, RegExp]>([
    ["http://10.0.0.1/jwks.json", PUBLIC],
    ["http://169.254.169.254/latest/meta-data/", PUBLIC],
    ["http://192.168.1.1:8080/jwks.json", PUBLIC],
    ["http://198.18.0.1/jwks.json", PUBLIC],
    ["http://0.0.0.0:8080/jwks.json", PUBLIC],
    ["http://[::ffff:127.0.0.1]:8080/jwks.json", PUBLIC],
    ["http://[fe80::1]/jwks.json", PUBLIC],
    ["http://localtest.me:8080/jwks.json", PUBLIC],
    ["http://metadata.google.internal/computeMetadata/v1/", PUBLIC],
    ["http://localhost./jwks.json", PUBLIC],
    ["http://user:pass@localhost:8080/jwks.json", CREDENTIALS],
    ["http://idp.example.com:8080/jwks.json", PORT],
    ["https://idp.example.com:8443/jwks.json", PORT],
    ["ftp://localhost/jwks.json", SCHEME],
    ["file:///etc/passwd", SCHEME],
  ])("still refuses %s", (raw, reason) => {
    expect(urlProblem(raw, dev)).toMatch(reason);
  });
});

describe("urlProblem: options", () => {
  it("honours a shorter maxLength", () => {
    expect(urlProblem("https://idp.example.com/jwks.json", { maxLength: 20 })).toMatch(/at most 20 characters/);
  });
});
