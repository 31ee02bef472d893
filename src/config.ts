import type { Env } from "./env";
import { type Keyring, keyringOf } from "./storage/key-vault";

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
      extraRoutes: (env.EXTRA_ALLOWED_ROUTES ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
      upstreamTimeoutMs: positiveInt(env.UPSTREAM_TIMEOUT_MS, 10_000),
      maxBodyBytes: positiveInt(env.MAX_BODY_BYTES, 1_048_576),
      keyring: keyringOf(env),
    };
    parsed.set(env, cfg);
  }
  return cfg;
}
