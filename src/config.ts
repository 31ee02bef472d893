import type { Env } from "./env";

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
}

const parsed = new WeakMap<Env, Config>();

function positiveInt<T>(raw: string | undefined, fallback: T): number | T {
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
      adminTokens: adminTokensOf(env.ADMIN_TOKEN),
      sendCostEstimateCents: positiveInt(env.SEND_COST_ESTIMATE_CENTS, undefined),
      usageExact: env.USAGE_EXACT === "true",
      teamBalanceLowCents: positiveInt(env.TEAM_BALANCE_LOW_CENTS, null),
    };
    parsed.set(env, cfg);
  }
  return cfg;
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
