// The multi-isolate test bed: several gateway isolates in one workerd, sharing one D1, one KV and the
// Durable Objects, beside the Zavu sandbox and a test identity provider. Each gateway isolate has its
// own module state (caches, counters), as isolates do in production, and its own loopback URL.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, resolve } from "node:path";
import {
  type CreateTenant,
  createAdminClient,
  type IdentityInput,
  type IsolateStats,
  type Tenant,
  unwrap,
} from "@zavu-gateway/admin-client";
import Zavudev from "@zavudev/sdk";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { rateLimitBindings } from "../../../scripts/lib/ratelimits.mjs";
import { sqlStatements } from "../../../scripts/lib/sql-statements.mjs";
import { FAULTS_SCRIPT, GATEWAY_SCRIPT, root, SANDBOX_SCRIPT } from "./build";
import type { DependencyFault } from "./fault-entry";

export const COMPAT_DATE = "2026-11-01";
export const ADMIN_TOKEN = "cluster-admin-token";
export const MAIN_KEY = "zv_live_sandbox_main";
const KEK = Buffer.alloc(32, 9).toString("base64");

export interface ClusterOptions {
  /** Gateway isolates (default 3). */
  isolates?: number;
  /** Extra vars for every gateway isolate (e.g. `{ ALLOW_HTTP_JWKS: "true" }`). */
  vars?: Record<string, string>;
  /**
   * Start each gateway isolate from the test-only fault entry (fault-entry.ts: the deploy bundle behind
   * bindings a test can make fail, POST /__faults on each isolate; setDependencyFaults below).
   */
  faults?: boolean;
  /** Every log line of every worker (workerd's structured logs), instead of printing them. */
  onLog?: (line: string, level: string) => void;
  /** workerd's inspector (one target per worker: Runtime.getHeapUsage per isolate); 0 picks a free port (mf.getInspectorURL()). */
  inspectorPort?: number;
  /**
   * The last gateway isolate runs in a workerd process of its own, so replaceIsolate() can kill it and
   * start another while the others keep serving. It shares D1, KV and the rate limits with them through
   * Miniflare's shared storage (the first process owns it) and reaches the Durable Objects, the sandbox
   * and the IdP through a dev registry private to this cluster.
   */
  killable?: boolean;
}

export interface Cluster {
  /** Base URL of each gateway isolate, e.g. http://127.0.0.1:41234 */
  gateways: string[];
  /** The sandbox's own URL (Zavu API and /__sandbox control), for tests and the SDK. */
  sandbox: string;
  /** The test IdP's URL: POST /__idp/publish {path, jwks|document, status}; documents served at https://idp.test<path>. */
  idp: string;
  mf: Miniflare;
  /**
   * Kills the last gateway isolate's workerd process (only with `killable`): its module state, leases
   * and requests in flight are gone; then starts a fresh isolate on the same port. The others serve on.
   */
  replaceIsolate(): Promise<void>;
  stop(): Promise<void>;
}

/** Every migration's statements, in order. */
function migrationStatements(): string[] {
  const dir = resolve(root, "migrations");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .flatMap((f) => sqlStatements(readFileSync(resolve(dir, f), "utf8")));
}

const direct = (port = 0) => [{ host: "127.0.0.1", port }];

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const n = opts.isolates ?? 3;
  const names = Array.from({ length: n }, (_, i) => `gateway-${i}`);
  const source = opts.faults
    ? {
        modulesRoot: dirname(GATEWAY_SCRIPT),
        modules: [
          { type: "ESModule", path: FAULTS_SCRIPT },
          { type: "ESModule", path: GATEWAY_SCRIPT },
        ],
      }
    : { modules: true, scriptPath: GATEWAY_SCRIPT };
  const killable = opts.killable && n > 1;
  const dir = killable ? mkdtempSync(resolve(tmpdir(), "gateway-cluster-")) : undefined;
  // A replaced isolate listens where the one before it did (Zavu keeps posting to the relay URLs it has).
  const ports: Record<string, number> = {};
  const gateway = (name: string, i: number, outbound: string) => ({
    name,
    ...source,
    compatibilityDate: COMPAT_DATE,
    compatibilityFlags: ["nodejs_compat"],
    // One database, one namespace: the same ids in every isolate.
    d1Databases: { DB: "gateway-db" },
    kvNamespaces: { CACHE: "gateway-kv" },
    bindings: {
      ZAVU_API_BASE: "http://zavu.sandbox",
      ZAVU_API_KEY: MAIN_KEY,
      KEY_ENCRYPTION_KEY: KEK,
      ADMIN_TOKEN,
      UPSTREAM_TIMEOUT_MS: "3000",
      ALLOW_HTTP_JWKS: "false",
      ...opts.vars,
    },
    ...durableObjects(i === 0),
    // wrangler.toml's tenants' plan bindings; one namespace id each, so all isolates share the counters.
    ratelimits: rateLimitBindings(resolve(root, "wrangler.toml")),
    outboundService: outbound,
    unsafeDirectSockets: direct(ports[name]),
  });
  const router = (name: string) => ({
    name,
    modules: true,
    scriptPath: resolve(root, "test/workers/upstream-router.mjs"),
    compatibilityDate: COMPAT_DATE,
    serviceBindings: { SANDBOX: "zavu-sandbox", IDP: "test-idp" },
  });
  /** One workerd process's options: shared storage and a private dev registry when killable. */
  const instance = (workers: unknown[], own: string) => {
    const converted = convertV4MiniflareOptions({
      ...(dir
        ? {
            resourcePersistencePath: resolve(dir, "shared"),
            isolatedResourcePersistencePath: resolve(dir, own),
            unsafeDevRegistryPath: resolve(dir, "registry"),
          }
        : {}),
      ...(opts.inspectorPort !== undefined ? { inspectorPort: opts.inspectorPort } : {}),
      ...(opts.onLog
        ? { handleStructuredLogs: (log: { message: string; level: string }) => opts.onLog!(log.message, log.level) }
        : {}),
      workers,
    } as never);
    return dir ? { ...converted, unsafeEnableSharedStorage: true } : converted;
  };
  const own = killable ? names.slice(0, -1) : names;
  const mf = new Miniflare(
    instance(
      [
        ...own.map((name, i) => gateway(name, i, "router")),
        {
          name: "zavu-sandbox",
          modules: true,
          scriptPath: SANDBOX_SCRIPT,
          compatibilityDate: COMPAT_DATE,
          durableObjects: { STATE: { className: "SandboxState", useSQLite: true } },
          bindings: { MAIN_API_KEY: MAIN_KEY },
          unsafeDirectSockets: direct(),
        },
        {
          name: "test-idp",
          modules: true,
          scriptPath: resolve(root, "test/workers/idp.mjs"),
          compatibilityDate: COMPAT_DATE,
          unsafeDirectSockets: direct(),
        },
        router("router"),
      ],
      "main",
    ),
  );
  await mf.ready;
  // The last isolate in a process of its own, with its own outbound router (the same script).
  const last = names[n - 1]!;
  const startLast = async () => {
    const m = new Miniflare(
      instance([gateway(last, n - 1, "router-last"), router("router-last")], `boot-${Date.now()}`),
    );
    await m.ready;
    return m;
  };
  let lastMf = killable ? await startLast() : undefined;
  const db = await mf.getD1Database("DB", names[0]);
  await db.batch(migrationStatements().map((s) => db.prepare(s)));
  const url = async (m: Miniflare, name: string) => {
    const u = (await m.unsafeGetDirectURL(name)).toString().replace(/\/$/, "");
    ports[name] = Number(new URL(u).port);
    return u;
  };
  const cluster: Cluster = {
    gateways: [...(await Promise.all(own.map((name) => url(mf, name)))), ...(lastMf ? [await url(lastMf, last)] : [])],
    sandbox: await url(mf, "zavu-sandbox"),
    idp: await url(mf, "test-idp"),
    mf,
    async replaceIsolate() {
      if (!lastMf) throw new Error("replaceIsolate() needs startCluster({ killable: true })");
      await lastMf.dispose();
      lastMf = await startLast();
      cluster.gateways[n - 1] = await url(lastMf, last);
    },
    stop: async () => {
      await lastMf?.dispose();
      await mf.dispose();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

/**
 * The gateway's Durable Objects: defined by the first isolate's script, bound by name in the others,
 * so every isolate reaches the same instances (as every isolate of one deployed Worker does).
 */
function durableObjects(owner: boolean) {
  const classes: Record<string, string> = {
    CONTROL: "ControlPlane",
    LEDGER: "SpendLedger",
    USAGE: "UsageShard",
    WEBHOOKS: "WebhookDispatcher",
    EVENTS: "TenantEvents",
  };
  return {
    durableObjects: Object.fromEntries(
      Object.entries(classes).map(([binding, className]) => [
        binding,
        owner ? { className, useSQLite: true } : { className, scriptName: "gateway-0", useSQLite: true },
      ]),
    ),
  };
}

/**
 * The typed admin client (clients/admin) against one gateway isolate: what well-formed calls use.
 * `admin()` below sends anything at all, for the tests that probe bad input on purpose.
 */
export function adminClient(gateway: string, actor?: string) {
  return createAdminClient({ baseUrl: gateway, token: ADMIN_TOKEN, actor });
}

/** Calls one gateway isolate's admin API, with any method, path and body. */
export async function admin<T = any>(
  gateway: string,
  method: string,
  path: string,
  opts: { body?: unknown; idempotencyKey?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}`, ...opts.headers };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  if (opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
  const res = await fetch(`${gateway}/admin/v1${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

/** The official SDK as a customer app uses it, against one gateway isolate. */
export function customer(gateway: string, jwt: string): Zavudev {
  return new Zavudev({ apiKey: jwt, baseURL: gateway, maxRetries: 0 });
}

/** The official SDK against the sandbox (main key by default). */
export function zavu(cluster: Cluster, apiKey = MAIN_KEY): Zavudev {
  return new Zavudev({ apiKey, baseURL: cluster.sandbox, maxRetries: 0 });
}

/** The sandbox's control API. */
export async function sandboxControl<T = any>(cluster: Cluster, method: string, path: string, body?: unknown) {
  const res = await fetch(`${cluster.sandbox}/__sandbox${path}`, {
    method,
    headers: body === undefined ? undefined : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`sandbox ${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Publishes a JSON document on the test IdP; the gateway fetches it at https://idp.test<path>. */
export async function publish(cluster: Cluster, path: string, jwks: unknown, status = 200): Promise<string> {
  const res = await fetch(`${cluster.idp}/__idp/publish`, {
    method: "POST",
    body: JSON.stringify({ path, jwks, status }),
  });
  if (!res.ok) throw new Error(`idp publish: ${res.status}`);
  return `https://idp.test${path}`;
}

/** One isolate's work counters, caches and views (GET /admin/v1/stats on that isolate). */
export async function stats(gateway: string): Promise<IsolateStats> {
  return unwrap(adminClient(gateway).GET("/stats"));
}

/** Creates a tenant through one isolate's admin API (inline JWKS); returns the tenant. */
export async function createTenant(
  gateway: string,
  identity: IdentityInput,
  extra: Partial<CreateTenant> = {},
): Promise<Tenant> {
  const created = adminClient(gateway).POST("/tenants", { body: { name: `T ${Math.random()}`, identity, ...extra } });
  return (await unwrap(created)).tenant;
}

/** One send through one isolate with a raw fetch (status and code, never throws). */
export async function send(
  gateway: string,
  jwt: string,
  opts: { requestId?: string; body?: unknown } = {},
): Promise<{ status: number; code?: string; body: any }> {
  const headers: Record<string, string> = { authorization: `Bearer ${jwt}`, "content-type": "application/json" };
  if (opts.requestId) headers["x-request-id"] = opts.requestId;
  const res = await fetch(`${gateway}/v1/messages`, {
    method: "POST",
    headers,
    body: JSON.stringify(opts.body ?? { to: "+15551234567", text: "hi" }),
  });
  const body = (await res.json().catch(() => null)) as any;
  return { status: res.status, code: body?.code, body };
}

/** Every request the sandbox saw (oldest first). */
export async function sandboxLog(cluster: Cluster) {
  const { items } = await sandboxControl<{ items: any[] }>(cluster, "GET", "/requests?limit=10000");
  return items.reverse() as Array<{
    method: string;
    path: string;
    status: number;
    subAccountId: string | null;
    keyId: string | null;
    headers: Record<string, string>;
  }>;
}

/** Sets the fault rules of every gateway isolate's dependencies (a cluster started with `faults: true`). */
export async function setDependencyFaults(cluster: Cluster, rules: DependencyFault[]): Promise<void> {
  await Promise.all(
    cluster.gateways.map(async (gateway) => {
      const res = await fetch(`${gateway}/__faults`, { method: "POST", body: JSON.stringify({ rules }) });
      if (!res.ok) throw new Error(`POST ${gateway}/__faults: ${res.status} ${await res.text()}`);
    }),
  );
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
