import type { Env } from "./env";
import { PLAN_LIMITS, type PlanLimit, planValueProblem } from "./lib/plan-values";
import { isRole, type Role } from "./lib/roles";

/** The gateway's vars, parsed once per isolate. */
export interface Config {
  upstreamBase: string;
  allowHttpJwks: boolean;
  /** EXTRA_ALLOWED_ROUTES entries, as written ("METHOD /v1/path"); the edge compiles them. */
  extraRoutes: string[];
  upstreamTimeoutMs: number;
  maxBodyBytes: number;
  /** KEY_ENCRYPTION_KEY, and KEY_ENCRYPTION_KEY_PREVIOUS during a rotation. */
  keyring: Keyring;
  /** ADMIN_TOKEN: one token, or two during a rotation; null when unset or shorter than 16 characters. */
  adminTokens: readonly string[] | null;
  /** SEND_COST_ESTIMATE_CENTS: a send's assumed cost before any exact cost was seen; undefined = the default. */
  sendCostEstimateCents: number | undefined;
  /** USAGE_EXACT: read every send's answer for its exact cost, not only near a limit. */
  usageExact: boolean;
  /** TEAM_BALANCE_LOW_CENTS: the team.balance.low alert's threshold; null = no alert. */
  teamBalanceLowCents: number | null;
  /**
   * DELIVERY_FAILURE_ALERT_RATE: tenant.delivery.failure_rate fires at this share of failed delivery
   * outcomes (0 < rate <= 1); 0.2 when unset, empty or not a share; "0" = never (null).
   */
  deliveryFailureAlertRate: number | null;
  /** DEFAULT_REQUESTS_PER_SECOND, DEFAULT_SENDS_PER_MINUTE, DEFAULT_DAILY_SENDS: the tenants' default plan (null = unlimited). */
  defaultPlan: Record<PlanLimit, number | null>;
  /** QUOTA_LEASE_SECONDS: how long a daily-quota lease lives far from the quota (ms; 600 s when unset; tests shorten it). */
  quotaLeaseMs: number;
  /** WEBHOOK_RETRY_SCALE: multiplies the webhook retry schedule (tests shorten it); 1 by default. */
  webhookRetryScale: number;
  /** ORPHAN_POLICY, KEY_ROTATION_DAYS, MAINTENANCE_MAX_SUBREQUESTS, and the limits of a maintenance run. */
  maintenance: MaintenanceSettings;
  /**
   * LOG_SAMPLE_RATE: the share of ordinary customer requests (answered 2xx/3xx, faster than logSlowMs)
   * that get a log line, 0 to 1; 1 when unset. Refusals, errors and slow requests are always logged.
   */
  logSampleRate: number;
  /** LOG_SLOW_MS: a customer request this slow (or slower) is always logged; 1000 when unset. */
  logSlowMs: number;
  /**
   * PUBLIC_BASE_URL: the gateway's own origin, as Zavu reaches it (the relay URLs registered for senders
   * are built from it); null: the origin each customer request came to.
   */
  publicBaseUrl: string | null;
  /**
   * ACCESS_TEAM_DOMAIN and ACCESS_AUD (both set): people signed in by Cloudflare Access are let in by the
   * Cf-Access-Jwt-Assertion header, with the role the staff table gives them, or ACCESS_DEFAULT_ROLE.
   * null: Access is off (the assertion header is ignored).
   */
  access: AccessSettings | null;
}

/** Cloudflare Access, as the gateway checks its assertions. */
export interface AccessSettings {
  /** e.g. acme.cloudflareaccess.com */
  teamDomain: string;
  /** The Access application's Audience (AUD) tag: `aud` must contain it. */
  aud: string;
  /** https://<team domain> (http on loopback in development): `iss` must equal it. */
  issuer: string;
  /** https://<team domain>/cdn-cgi/access/certs: the keys (RS256). */
  certsUrl: string;
  /** ACCESS_DEFAULT_ROLE: the role of anyone Access lets in who is not in the staff table; null = none (403). */
  defaultRole: Role | null;
}

/** The maintenance policy. */
export interface MaintenanceSettings {
  /** What to do with a sub-account whose externalId names a tenant the gateway does not hold. */
  orphanPolicy: "report" | "deactivate";
  /** Rotate sub-account keys older than this; 0 = never. */
  keyRotationDays: number;
  /** D1, KV, Durable Object and Zavu calls one run may make, all jobs together. */
  maxSubrequests: number;
  /** Wall time after which a run starts no new unit of work. */
  maxRunMs: number;
  /** A tenant still provisioning after this long was abandoned by its request: repair it. */
  provisioningGraceMs: number;
}

const parsed = new WeakMap<Env, Config>();

function positiveInt<T>(raw: string | undefined, fallback: T): number | T {
  const n = Number(raw);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

function nonNegativeInt(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return raw !== undefined && raw.trim() !== "" && Number.isSafeInteger(n) && n >= 0 ? n : fallback;
}

/** Parses vars once per env object (the same object for the isolate's lifetime). */
export function config(env: Env): Config {
  let cfg = parsed.get(env);
  if (!cfg) {
    cfg = {
      upstreamBase: (env.ZAVU_API_BASE || "https://api.zavu.dev").replace(/\/+$/, ""),
      allowHttpJwks: env.ALLOW_HTTP_JWKS === "true",
      extraRoutes: (env.EXTRA_ALLOWED_ROUTES ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
      upstreamTimeoutMs: positiveInt(env.UPSTREAM_TIMEOUT_MS, 10_000),
      maxBodyBytes: positiveInt(env.MAX_BODY_BYTES, 1_048_576),
      keyring: keyringOf(env),
      adminTokens: adminTokensOf(env.ADMIN_TOKEN),
      sendCostEstimateCents: positiveInt(env.SEND_COST_ESTIMATE_CENTS, undefined),
      usageExact: env.USAGE_EXACT === "true",
      teamBalanceLowCents: positiveInt(env.TEAM_BALANCE_LOW_CENTS, null),
      deliveryFailureAlertRate: failureRateOf(env.DELIVERY_FAILURE_ALERT_RATE),
      defaultPlan: defaultPlanOf(env),
      webhookRetryScale: retryScaleOf(env.WEBHOOK_RETRY_SCALE),
      quotaLeaseMs: positiveInt(env.QUOTA_LEASE_SECONDS, 600) * 1_000,
      logSampleRate: sampleRateOf(env.LOG_SAMPLE_RATE),
      logSlowMs: nonNegativeInt(env.LOG_SLOW_MS, 1_000),
      publicBaseUrl: publicBaseUrlOf(env.PUBLIC_BASE_URL),
      access: accessOf(env),
      maintenance: {
        orphanPolicy: env.ORPHAN_POLICY === "deactivate" ? "deactivate" : "report",
        keyRotationDays: nonNegativeInt(env.KEY_ROTATION_DAYS, 0),
        maxSubrequests: Math.max(10, nonNegativeInt(env.MAINTENANCE_MAX_SUBREQUESTS, 200)),
        maxRunMs: 20_000,
        provisioningGraceMs: 5 * 60_000,
      },
    };
    parsed.set(env, cfg);
  }
  return cfg;
}

const DEFAULT_PLAN_VARS: Record<PlanLimit, keyof Env> = {
  requestsPerSecond: "DEFAULT_REQUESTS_PER_SECOND",
  sendsPerMinute: "DEFAULT_SENDS_PER_MINUTE",
  dailySends: "DEFAULT_DAILY_SENDS",
};

/** The deployment's default plan (DEFAULT_* vars; empty = unlimited). A bad value is unlimited, and logged. */
function defaultPlanOf(env: Env): Record<PlanLimit, number | null> {
  const plan: Record<PlanLimit, number | null> = { requestsPerSecond: null, sendsPerMinute: null, dailySends: null };
  for (const limit of PLAN_LIMITS) {
    const raw = String(env[DEFAULT_PLAN_VARS[limit]] ?? "").trim();
    if (raw === "") continue;
    const value = Number(raw);
    if (planValueProblem(limit, value) === null) plan[limit] = value;
    else
      console.error(
        JSON.stringify({ level: "error", config: DEFAULT_PLAN_VARS[limit], problem: planValueProblem(limit, value) }),
      );
  }
  return plan;
}

/** An origin (https, or http on loopback for development), without a trailing slash; anything else is null, and logged. */
function publicBaseUrlOf(raw: string | undefined): string | null {
  const value = (raw ?? "").trim();
  if (value === "") return null;
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {}
  const loopback = url !== null && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (
    url &&
    (url.protocol === "https:" || (url.protocol === "http:" && loopback)) &&
    url.pathname === "/" &&
    !url.search
  )
    return url.origin;
  console.error(JSON.stringify({ level: "error", config: "PUBLIC_BASE_URL", problem: "not an https origin" }));
  return null;
}

/** The failure-rate alert's threshold: a share in (0, 1]; "0" turns it off; anything else is the default, 0.2 (logged). */
function failureRateOf(raw: string | undefined): number | null {
  const value = (raw ?? "").trim();
  if (value === "") return 0.2;
  const rate = Number(value);
  if (rate === 0) return null;
  if (rate > 0 && rate <= 1) return rate;
  console.error(
    JSON.stringify({ level: "error", config: "DELIVERY_FAILURE_ALERT_RATE", problem: "not a share in (0, 1]" }),
  );
  return 0.2;
}

/** A share between 0 and 1; anything else (or unset) is 1: every line, the safe side for an operator. */
function sampleRateOf(raw: string | undefined): number {
  const rate = Number(raw);
  return raw !== undefined && raw.trim() !== "" && rate >= 0 && rate <= 1 ? rate : 1;
}

/** WEBHOOK_RETRY_SCALE: a positive number, else 1. */
function retryScaleOf(raw: string | undefined): number {
  const scale = Number(raw || "1");
  return Number.isFinite(scale) && scale > 0 ? scale : 1;
}

/** Access is on when both its vars are set and the team domain is a host name; a bad domain is off, and logged. */
function accessOf(env: Env): AccessSettings | null {
  const domain = String(env.ACCESS_TEAM_DOMAIN ?? "")
    .trim()
    .replace(/^https:\/\//i, "")
    .replace(/\/+$/, "")
    .toLowerCase();
  const aud = String(env.ACCESS_AUD ?? "").trim();
  if (domain === "" || aud === "") return null;
  // Development only (ALLOW_HTTP_JWKS=true): a stand-in issuer on loopback, e.g. scripts/access-dev.mjs at 127.0.0.1:8790.
  const devLoopback = env.ALLOW_HTTP_JWKS === "true" && /^(?:127\.0\.0\.1|localhost):\d{1,5}$/.test(domain);
  if (!devLoopback && !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/.test(domain)) {
    console.error(JSON.stringify({ level: "error", config: "ACCESS_TEAM_DOMAIN", problem: "not a host name" }));
    return null;
  }
  const origin = `${devLoopback ? "http" : "https"}://${domain}`;
  const role = String(env.ACCESS_DEFAULT_ROLE ?? "").trim();
  if (role !== "" && !isRole(role))
    console.error(JSON.stringify({ level: "error", config: "ACCESS_DEFAULT_ROLE", problem: "not a role" }));
  return {
    teamDomain: domain,
    aud,
    issuer: origin,
    certsUrl: `${origin}/cdn-cgi/access/certs`,
    defaultRole: isRole(role) ? role : null,
  };
}

function adminTokensOf(raw: string | undefined): readonly string[] | null {
  const tokens = (raw ?? "")
    .split(",")
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
  return tokens.length > 0 && tokens.length <= 2 && tokens.every((t) => t.length >= 16) ? tokens : null;
}

/** The key-encryption keys (src/storage/key-vault.ts seals with the current one, opens with either). */
export interface Keyring {
  /** Base64 of 32 bytes: seals everything new. */
  current: string;
  /** Keys that may still have sealed stored ciphertexts; they only open. */
  previous: string[];
}

/** The keyring an env describes: KEY_ENCRYPTION_KEY, plus KEY_ENCRYPTION_KEY_PREVIOUS when set. */
export function keyringOf(env: { KEY_ENCRYPTION_KEY: string; KEY_ENCRYPTION_KEY_PREVIOUS?: string }): Keyring {
  const previous = (env.KEY_ENCRYPTION_KEY_PREVIOUS ?? "").trim();
  return {
    current: env.KEY_ENCRYPTION_KEY,
    previous: previous && previous !== env.KEY_ENCRYPTION_KEY ? [previous] : [],
  };
}
