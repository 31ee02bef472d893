import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { verifiedTokenCacheStats } from "../../edge/authenticate";
import { remoteJwksCacheStats } from "../../identity/key-sets";
import { tenantCacheStats } from "../../identity/resolve-tenant";
import { balanceCacheStats } from "../../storage/balance-cache";
import { snapshotCounters } from "../../storage/counters";
import { type AdminEnv, errors, json } from "./common";

const Stats = z
  .object({
    counters: z.record(z.string(), z.number()),
    caches: z.record(
      z.string(),
      z.object({ size: z.number(), max: z.number(), bytes: z.number().optional(), maxBytes: z.number().optional() }),
    ),
  })
  .openapi("IsolateStats");

const stats = createRoute({
  method: "get",
  path: "/stats",
  summary: "This isolate's work counters and cache sizes (each cache is bounded in entries and time)",
  responses: { 200: json(Stats, "Counters since the isolate started, and cache sizes"), ...errors("unauthorized") },
});

export function registerStatsRoutes(app: OpenAPIHono<AdminEnv>) {
  app.openapi(stats, (c) =>
    c.json(
      {
        counters: snapshotCounters(),
        caches: {
          verifiedTokens: verifiedTokenCacheStats(),
          ...tenantCacheStats(),
          balances: balanceCacheStats(),
          remoteJwks: remoteJwksCacheStats(),
        },
      },
      200,
    ),
  );
}
