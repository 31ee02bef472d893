import { type AllowedRoute, compileRoutes } from "./edge/routes";

/** Bindings, secrets and vars of the gateway Worker (see wrangler.toml). */
export interface Env {
  DB: D1Database;
  CACHE: KVNamespace;
  /** The reseller's Zavu main-account key. */
  ZAVU_API_KEY: string;
  /** Base64 of 32 random bytes: the AES-256-GCM key that seals sub-account keys. */
  KEY_ENCRYPTION_KEY: string;
  /** Admin bearer token; two comma-separated tokens are accepted during a rotation. */
  ADMIN_TOKEN: string;
  ZAVU_API_BASE: string;
  ALLOW_HTTP_JWKS?: string;
  EXTRA_ALLOWED_ROUTES?: string;
  UPSTREAM_TIMEOUT_MS?: string;
  MAX_BODY_BYTES?: string;
}

export interface Config {
  upstreamBase: string;
  allowHttpJwks: boolean;
  /** The customer routes, compiled once per isolate. */
  routes: AllowedRoute[];
  upstreamTimeoutMs: number;
  maxBodyBytes: number;
}

const parsed = new WeakMap<Env, Config>();

function positiveInt(raw: string | undefined, fallback: number): number {
  const n = Number(raw);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

/** Parses vars once per env object (the same object for the isolate's lifetime). */
export function config(env: Env): Config {
  let cfg = parsed.get(env);
  if (!cfg) {
    cfg = {
      upstreamBase: (env.ZAVU_API_BASE || "https://api.zavu.dev").replace(/\/+$/, ""),
      allowHttpJwks: env.ALLOW_HTTP_JWKS === "true",
      routes: compileRoutes(
        (env.EXTRA_ALLOWED_ROUTES ?? "")
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
      ),
      upstreamTimeoutMs: positiveInt(env.UPSTREAM_TIMEOUT_MS, 10_000),
      maxBodyBytes: positiveInt(env.MAX_BODY_BYTES, 1_048_576),
    };
    parsed.set(env, cfg);
  }
  return cfg;
}
