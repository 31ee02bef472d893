// Builds the gateway as `wrangler deploy` would, and runs it, the bare proxy and the upstream
// stub in one workerd process (Miniflare), each Worker on its own direct socket: no dev
// proxy in front of either side of the comparison.
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { createAdminClient, unwrap } from "@zavu-gateway/admin-client";
import { build } from "esbuild";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { rateLimitBindings } from "../../scripts/lib/ratelimits.mjs";
import { sqlStatements } from "../../scripts/lib/sql-statements.mjs";

/** Miniflare 5 takes `workers: [{ config }]`; this converts the classic per-worker options. */
const runtime = (workers, shared = {}) => new Miniflare(convertV4MiniflareOptions({ ...shared, workers }));

export const root = resolve(import.meta.dirname, "../..");
const OUT = resolve(root, ".wrangler/bench-build");
const COMPAT_DATE = "2026-11-01";
export const ADMIN_TOKEN = "bench-admin-token";
const KEK = Buffer.alloc(32, 7).toString("base64");

/** Seals a secret as the gateway does (its own key-vault, bundled by buildGateway, under the bench's KEK). */
export async function sealForBench(owner, plaintext) {
  const { sealKey } = await import(resolve(OUT, "key-vault.mjs"));
  return sealKey(KEK, owner, plaintext);
}

/**
 * [env.production.vars] in wrangler.toml, as a deploy sets them: the bench measures the production
 * defaults (LOG_SAMPLE_RATE, USAGE_EXACT, the default plan, ...), not config.ts's fallbacks for unset vars.
 */
export function productionVars() {
  const toml = readFileSync(resolve(root, "wrangler.toml"), "utf8");
  const start = toml.indexOf("[env.production.vars]");
  if (start < 0) throw new Error("wrangler.toml has no [env.production.vars]");
  const section = toml.slice(start, toml.indexOf("\n[", start + 1));
  const vars = {};
  for (const [, name, value] of section.matchAll(/^([A-Z][A-Z0-9_]*) = "([^"]*)"$/gm)) vars[name] = value;
  for (const name of ["LOG_SAMPLE_RATE", "LOG_SLOW_MS", "USAGE_EXACT"]) {
    if (vars[name] === undefined) throw new Error(`wrangler.toml: [env.production.vars] has no ${name}`);
  }
  return vars;
}

/**
 * Every bench tenant's plan, far from each limit (about 1 request a second each): every send goes
 * through the plan check (one rate-limit call, a daily-quota lease) and is counted in usage records.
 */
export const BENCH_PLAN = { requestsPerSecond: 1000, sendsPerMinute: 10000, dailySends: 100_000_000 };

/**
 * `wrangler deploy --dry-run --outdir`: the very bundle a deploy would upload. `{ minify: false }`
 * keeps identifiers as written, for a CPU profile whose function names can be read.
 */
export async function buildGateway({ minify } = {}) {
  const flags = minify === undefined ? [] : [`--minify=${minify}`];
  const result = spawnSync(
    resolve(root, "node_modules/.bin/wrangler"),
    ["deploy", "--dry-run", "--outdir", OUT, ...flags],
    {
      cwd: root,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
      encoding: "utf8",
    },
  );
  if (result.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${result.stdout}\n${result.stderr}`);
  const script = resolve(OUT, "index.js");
  const bytes = readFileSync(script);
  // The real sealing code, bundled for Node, so the bench stores keys exactly as the gateway does.
  await build({
    entryPoints: [resolve(root, "src/storage/key-vault.ts")],
    outfile: resolve(OUT, "key-vault.mjs"),
    bundle: true,
    format: "esm",
    platform: "node",
    logLevel: "warning",
  });
  return { script, rawBytes: statSync(script).size, gzipBytes: gzipSync(bytes, { level: 9 }).length };
}

/** wrangler.toml's RL_* bindings as service bindings to the stand-in (bench/workers/ratelimit.mjs). */
function rateLimitStandIns() {
  return Object.fromEntries(
    Object.entries(rateLimitBindings(resolve(root, "wrangler.toml"))).map(([name, { simple }]) => [
      name,
      { name: "ratelimit", entrypoint: "RateLimit", props: { name, ...simple } },
    ]),
  );
}

const OBJECTS = {
  CONTROL: "ControlPlane",
  LEDGER: "SpendLedger",
  USAGE: "UsageShard",
  WEBHOOKS: "WebhookDispatcher",
  EVENTS: "TenantEvents",
};

/**
 * A gateway Worker with the production vars (Zavu is the stub); `vars` overrides some. `objectsOf`:
 * bind another gateway Worker's Durable Objects (one control plane and one set of ledgers and usage
 * shards for every gateway Worker in the runtime, as one deployment has).
 */
function gatewayWorker(script, { name = "gateway", vars = {}, objectsOf = null, rateLimits = true } = {}) {
  return {
    name,
    modules: true,
    scriptPath: script,
    compatibilityDate: COMPAT_DATE,
    compatibilityFlags: ["nodejs_compat", "nodejs_compat_do_not_populate_process_env"],
    d1Databases: { DB: "bench-db" },
    kvNamespaces: { CACHE: "bench-kv" },
    bindings: {
      ...productionVars(),
      ZAVU_API_BASE: "http://zavu.stub",
      ZAVU_API_KEY: "zv_live_bench_main",
      KEY_ENCRYPTION_KEY: KEK,
      ADMIN_TOKEN,
      ...(process.env.BENCH_LOG_SAMPLE_RATE ? { LOG_SAMPLE_RATE: process.env.BENCH_LOG_SAMPLE_RATE } : {}),
      ...vars,
    },
    durableObjects: Object.fromEntries(
      Object.entries(OBJECTS).map(([binding, className]) => [
        binding,
        objectsOf ? { className, scriptName: objectsOf } : { className, useSQLite: true },
      ]),
    ),
    // Without them (rateLimits: false) a plan's rate limit is not asked at all (src/limits lets a request
    // through when its binding is missing): the plan's other work, without any Rate Limiting call.
    serviceBindings: rateLimits ? rateLimitStandIns() : {},
    outboundService: "stub",
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
  };
}

/** Stand-in calls a request of bench/workers/bare-ratelimited.mjs makes. */
export const RATE_LIMIT_PROBE_CALLS = 8;

/** The bare proxy (bench/workers/bare-proxy.mjs), or with `script` another baseline of the same kind. */
function bareWorker(name, script = "bare-proxy.mjs", extra = {}) {
  return {
    name,
    modules: true,
    scriptPath: resolve(root, "bench/workers", script),
    compatibilityDate: COMPAT_DATE,
    bindings: { UPSTREAM: "http://zavu.stub", UPSTREAM_KEY: "zv_live_sub_bench_fixed" },
    outboundService: "stub",
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    ...extra,
  };
}

/**
 * Starts workerd with the stub, the bare proxy, the Rate Limiting stand-in and the gateway, each on its
 * own direct socket (`shared`: e.g. `{ inspectorPort }`). With `variants`, also:
 * - `logged` and `unlogged`: the same gateway with LOG_SAMPLE_RATE 1 and 0 (the gateway's objects);
 * - `bareRateLimited`: the bare proxy plus RATE_LIMIT_PROBE_CALLS calls to the stand-in per request (its cost).
 * `gateways` ({ name: script }): more gateway Workers, other builds (bench/ab.mjs), each with its own objects.
 * The gateway's console lines are counted in `logs` (kind "request": `requestLines`), not printed;
 * other runtime output goes to stderr.
 */
export async function startRuntime(script, jwks, shared = {}, { variants = false, gateways = {} } = {}) {
  const logs = { lines: 0, requestLines: 0 };
  const handleStructuredLogs = ({ level, message }) => {
    logs.lines++;
    if (message.startsWith('{"at":')) {
      if (message.includes('"kind":"request"')) logs.requestLines++;
    } else process.stderr.write(`[workerd ${level}] ${message}\n`);
  };
  const workers = [
    gatewayWorker(script),
    bareWorker("bare"),
    {
      name: "stub",
      modules: true,
      scriptPath: resolve(root, "bench/workers/upstream-stub.mjs"),
      compatibilityDate: COMPAT_DATE,
      bindings: { JWKS: JSON.stringify(jwks) },
      // Only for the relay scenario, to read what the customer's receiver got (never on the measured path).
      unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    },
    {
      name: "ratelimit",
      modules: true,
      scriptPath: resolve(root, "bench/workers/ratelimit.mjs"),
      compatibilityDate: COMPAT_DATE,
    },
  ];
  if (variants) {
    workers.push(
      gatewayWorker(script, { name: "logged", vars: { LOG_SAMPLE_RATE: "1" }, objectsOf: "gateway" }),
      gatewayWorker(script, { name: "unlogged", vars: { LOG_SAMPLE_RATE: "0" }, objectsOf: "gateway" }),
      gatewayWorker(script, { name: "plan-no-rate-limit", objectsOf: "gateway", rateLimits: false }),
      bareWorker("bare-ratelimited", "bare-ratelimited.mjs", {
        bindings: {
          UPSTREAM: "http://zavu.stub",
          UPSTREAM_KEY: "zv_live_sub_bench_fixed",
          CALLS: String(RATE_LIMIT_PROBE_CALLS),
        },
        // The binding the bench plan's sends go through (BENCH_PLAN.sendsPerMinute), on keys of its own.
        serviceBindings: { RL: rateLimitStandIns()[`RL_SPM_${BENCH_PLAN.sendsPerMinute}`] },
      }),
    );
  }
  for (const [name, other] of Object.entries(gateways)) workers.push(gatewayWorker(other, { name }));
  const mf = runtime(workers, { handleStructuredLogs, ...shared });
  await mf.ready;
  const url = async (name) => (await mf.unsafeGetDirectURL(name)).toString().replace(/\/$/, "");
  const rt = { mf, logs, gateway: await url("gateway"), bare: await url("bare"), stub: await url("stub") };
  if (variants) {
    rt.logged = await url("logged");
    rt.unlogged = await url("unlogged");
    rt.bareRateLimited = await url("bare-ratelimited");
    rt.planNoRateLimit = await url("plan-no-rate-limit");
  }
  rt.gateways = {};
  for (const name of Object.keys(gateways)) rt.gateways[name] = await url(name);
  return rt;
}

/**
 * Time to a first answer for a runtime holding only the given script, beside a trivial Worker's and a
 * trivial Worker's with the gateway's bindings (D1, KV, the Durable Object classes): what the runtime
 * spends on the bindings alone (Miniflare runs D1 and KV as Workers of its own), which no script can save.
 */
export async function measureStartup(script) {
  const time = async (worker) => {
    const started = performance.now();
    const mf = runtime([worker]);
    await mf.ready;
    const res = await mf.dispatchFetch("http://localhost/healthz");
    await res.text();
    const ms = performance.now() - started;
    await mf.dispose();
    return ms;
  };
  const trivial = {
    name: "trivial",
    modules: true,
    script: "export default { fetch() { return new Response('ok') } }",
    compatibilityDate: COMPAT_DATE,
  };
  const { outboundService: _none, serviceBindings: _stand, ...alone } = gatewayWorker(script); // alone in this runtime
  const classes = Object.values(alone.durableObjects).map((d) => d.className);
  const { scriptPath: _script, ...bindingsOnly } = alone;
  const trivialWithBindings = {
    ...bindingsOnly,
    script: [
      'import { DurableObject } from "cloudflare:workers";',
      "export default { fetch() { return new Response('ok') } };",
      ...classes.map((name) => `export class ${name} extends DurableObject {}`),
    ].join("\n"),
  };
  const base = [];
  const bound = [];
  const gw = [];
  for (let i = 0; i < 5; i++) {
    base.push(await time(trivial));
    bound.push(await time(trivialWithBindings));
    gw.push(await time(alone));
  }
  const median = (xs) => xs.sort((a, b) => a - b)[2];
  return {
    trivialMs: median(base),
    trivialWithBindingsMs: median(bound),
    gatewayMs: median(gw),
    scriptStartupMs: Math.max(0, median(gw) - median(base)),
    scriptOverBindingsMs: Math.max(0, median(gw) - median(bound)),
  };
}

/** The whole schema, as schema.sql writes it. */
function schemaStatements() {
  return sqlStatements(readFileSync(resolve(root, "schema.sql"), "utf8"));
}

/** Identity providers for the bench: ES256 served as a JWKS URI, RS256 registered inline. */
export async function makeIdps() {
  const es = await generateKeyPair("ES256");
  const rs = await generateKeyPair("RS256");
  const esJwk = { ...(await exportJWK(es.publicKey)), kid: "bench-es", alg: "ES256", use: "sig" };
  const rsJwk = { ...(await exportJWK(rs.publicKey)), kid: "bench-rs", alg: "RS256", use: "sig" };
  return { es, rs, remoteJwks: { keys: [esJwk] }, inlineJwks: { keys: [rsJwk] } };
}

/** The typed admin client (clients/admin) against the bench's gateway. */
export function adminClient(gateway) {
  return createAdminClient({ baseUrl: gateway, token: ADMIN_TOKEN, actor: "bench" });
}

/**
 * N tenants straight into D1 (keys sealed by the gateway's own code), and a JWT for each. Not through
 * the admin API: the scale run needs 10,000 tenants, each of which the admin API would provision with
 * Zavu calls, an audit entry and a control-plane event; the bench measures what the gateway does with
 * tenants, not how it makes them (the strict-zone tenant below is adopted through the admin API).
 */
export async function provisionTenants(mf, idps, count, offset = 0, plan = BENCH_PLAN) {
  const { sealKey } = await import(resolve(OUT, "key-vault.mjs"));
  const db = await mf.getD1Database("DB", "gateway");
  if (offset === 0) await db.batch(schemaStatements().map((s) => db.prepare(s)));
  const tenants = [];
  const now = Date.now();
  for (let start = 0; start < count; start += 40) {
    const statements = [];
    for (let i = start; i < Math.min(count, start + 40); i++) {
      const n = offset + i;
      const id = `tnt_bench${String(n).padStart(21, "0")}`;
      const remote = n % 2 === 0;
      const issuer = `https://t${n}.bench.example`;
      tenants.push({ id, issuer, alg: remote ? "ES256" : "RS256" });
      statements.push(
        db
          .prepare(
            `INSERT INTO tenants (id, name, status, sub_account_id, key_ciphertext, key_id, key_prefix, created_at, updated_at, plan) VALUES (?, ?, 'active', ?, ?, ?, ?, ?, ?, ?)`,
          )
          .bind(
            id,
            `Bench ${n}`,
            `sa_bench${n}`,
            await sealKey(KEK, id, `zv_live_sub_bench${n}`),
            `key_${n}`,
            "zv_live_sub_ben",
            now,
            now,
            plan ? JSON.stringify(plan) : null,
          ),
        db
          .prepare(
            `INSERT INTO tenant_identities (tenant_id, issuer, jwks_uri, jwks, updated_at) VALUES (?, ?, ?, ?, ?)`,
          )
          .bind(
            id,
            issuer,
            remote ? "https://idp.bench/jwks.json" : null,
            remote ? null : JSON.stringify(idps.inlineJwks),
            now,
          ),
      );
    }
    await db.batch(statements);
  }
  for (const t of tenants) {
    const key = t.alg === "ES256" ? idps.es.privateKey : idps.rs.privateKey;
    t.token = await new SignJWT({ sub: "bench-user" })
      .setProtectedHeader({ alg: t.alg, kid: t.alg === "ES256" ? "bench-es" : "bench-rs" })
      .setIssuer(t.issuer)
      .setIssuedAt()
      .setExpirationTime("2h")
      .sign(key);
  }
  return tenants;
}

/**
 * A tenant whose credit limit the stub always reports 12 cents ahead of its spend: its ledger stays
 * in the strict zone (every send reserves its cost through the ledger's Durable Object) without ever
 * running out. Adopted through the admin API with the typed client (`POST /tenants/import`: the stub
 * serves its sub-account and key to the main key). Returns its token.
 */
export async function provisionStrictTenant(gateway, idps) {
  const issuer = "https://strict.bench.example";
  await unwrap(
    adminClient(gateway).POST("/tenants/import", {
      body: {
        subAccountId: "sa_strict",
        apiKey: "zv_live_sub_strict",
        name: "Bench strict",
        identity: { issuer, jwks: idps.inlineJwks },
      },
    }),
  );
  return new SignJWT({ sub: "bench-user" })
    .setProtectedHeader({ alg: "RS256", kid: "bench-rs" })
    .setIssuer(issuer)
    .setIssuedAt()
    .setExpirationTime("2h")
    .sign(idps.rs.privateKey);
}
