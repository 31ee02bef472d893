import { readFileSync } from "node:fs";

/**
 * The Rate Limiting bindings wrangler.toml declares at its top level (local development and tests), in
 * the shape Miniflare takes: `{ RL_RPS_1: { namespace_id, simple: { limit, period } }, ... }`.
 * @param {string} wranglerToml path of wrangler.toml
 * @returns {Record<string, { namespace_id: string; simple: { limit: number; period: 10 | 60 } }>}
 */
export function rateLimitBindings(wranglerToml) {
  const text = readFileSync(wranglerToml, "utf8");
  const topLevel = text.slice(0, text.indexOf("\n[env."));
  const bindings = {};
  const entry = /\{ name = "(RL_\w+)", namespace_id = "(\d+)", simple = \{ limit = (\d+), period = (\d+) \} \}/g;
  for (const [, name, namespace, limit, period] of topLevel.matchAll(entry)) {
    bindings[name] = { namespace_id: namespace, simple: { limit: Number(limit), period: Number(period) } };
  }
  if (Object.keys(bindings).length === 0) throw new Error(`no ratelimits found in ${wranglerToml}`);
  return bindings;
}
