import { config } from "../config";
import type { Env } from "../env";
import type { Counters } from "../lib/counters";
import { errorName } from "../lib/error-name";
import { elapsedMs } from "../lib/log";
import { kekId } from "../storage/key-vault";
import { UpstreamError, zavuCall } from "../upstream/zavu-client";

export interface Check {
  ok: boolean;
  latencyMs: number;
  /** What failed, as a code or status; never a secret. */
  error?: string;
}

const TIMEOUT_MS = 5_000;

/** A misconfiguration whose message names the setting (never its value). */
class ConfigError extends Error {}

async function timed(probe: () => Promise<void>): Promise<Check> {
  const started = performance.now();
  try {
    await probe();
    return { ok: true, latencyMs: elapsedMs(started) };
  } catch (err) {
    const error =
      err instanceof UpstreamError
        ? `${err.status} ${err.code}`
        : err instanceof ConfigError
          ? err.message
          : errorName(err);
    return { ok: false, latencyMs: elapsedMs(started), error };
  }
}

/**
 * GET /healthz?deep=1: each dependency checked for real, for uptime monitors. D1 answers a query,
 * KV answers a read, Zavu accepts the main key (GET /v1/balance), and the configured
 * key-encryption keys import. The answer names what failed, never a secret.
 */
export async function deepCheck(env: Env, counters: Counters) {
  const cfg = config(env);
  const [d1, kv, zavu, keys] = await Promise.all([
    timed(async () => {
      await env.DB.prepare("SELECT 1").first();
    }),
    timed(async () => {
      await env.CACHE.get("healthz");
    }),
    timed(async () => {
      await zavuCall(cfg.upstreamBase, env.ZAVU_API_KEY, "GET", "/v1/balance", {
        timeoutMs: Math.min(cfg.upstreamTimeoutMs, TIMEOUT_MS),
        counters,
      });
    }),
    timed(async () => {
      const ring = cfg.keyring;
      await kekId(ring.current).catch(() => {
        throw new ConfigError("KEY_ENCRYPTION_KEY is not base64 of 32 bytes");
      });
      for (const previous of ring.previous)
        await kekId(previous).catch(() => {
          throw new ConfigError("KEY_ENCRYPTION_KEY_PREVIOUS is not base64 of 32 bytes");
        });
    }),
  ]);
  const checks = { d1, kv, zavu, keys };
  return { ok: Object.values(checks).every((c) => c.ok), checks };
}
