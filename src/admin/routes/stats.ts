import type { OpenAPIHono } from "@hono/zod-openapi";
import * as z from "../../lib/zod";
import { describeState } from "../../state";
import { type AdminEnv, adminRoute, errors, json } from "./common";

const Stats = z
  .object({
    counters: z.record(z.string(), z.number()),
    caches: z.record(
      z.string(),
      z.object({ size: z.number(), max: z.number(), bytes: z.number().optional(), maxBytes: z.number().optional() }),
    ),
    issuerRegistry: z.object({ size: z.number(), dirty: z.number(), loaded: z.boolean() }),
    control: z.object({ epoch: z.number(), ageMs: z.number(), resets: z.number() }),
    team: z.object({ mode: z.string(), lease: z.number().nullable(), estimate: z.number() }),
    limits: z.object({
      refusalsRemembered: z
        .number()
        .openapi({ description: "Rate-limit refusals this isolate kept (each until its window ends)" }),
      bindingErrors: z
        .number()
        .openapi({ description: "Rate Limiting binding calls that failed or found no binding (let through)" }),
      teamHold: z.object({
        active: z.string().nullable().openapi({ description: "Zavu's team 429 being replayed, if any" }),
        replayed: z.number(),
      }),
    }),
    usage: z.object({
      pendingRows: z
        .number()
        .openapi({ description: "Usage rows not yet handed to a usage shard (at most a second's)" }),
      rowsFlushed: z.number(),
      failedFlushes: z.number(),
      lastFlushAt: z.number().nullable(),
      estimateCents: z
        .number()
        .nullable()
        .openapi({ description: "Average exact cost seen: the estimate for unread sends" }),
    }),
    uptimeMs: z.number(),
  })
  .openapi("IsolateStats");

const stats = adminRoute({
  method: "get",
  path: "/stats",
  summary: "This isolate's work counters, cache sizes, control-plane view and team lease (each cache is bounded)",
  responses: { 200: json(Stats, "Counters since the isolate started, and cache sizes"), ...errors("unauthorized") },
});

export function registerStatsRoutes(app: OpenAPIHono<AdminEnv>) {
  app.openapi(stats, (c) => c.json(describeState(c.var.state), 200));
}
