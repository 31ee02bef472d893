import type { OpenAPIHono } from "@hono/zod-openapi";
import { config } from "../../config";
import { apiError } from "../../errors";
import * as z from "../../lib/zod";
import { resealKeys } from "../../maintenance/jobs/reseal-keys";
import { runMaintenance } from "../../maintenance/runner";
import { maintenanceStatus, presentJob, sealedKeyCounts } from "../../maintenance/status";
import { MaintenanceRepo } from "../../storage/maintenance-repo";
import { type AdminEnv, adminRoute, errors, json, jsonBody } from "./common";

const Counts = z.record(z.string(), z.number());

const JobSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    enabled: z.boolean(),
    running: z.boolean().openapi({ description: "A run holds the job right now" }),
    passInProgress: z.boolean().openapi({ description: "A pass has started and the next run resumes it" }),
    passStartedAt: z.string().nullable(),
    passCounts: Counts.openapi({ description: "Counts summed over the pass in progress" }),
    passes: z.number().int().openapi({ description: "Completed passes" }),
    lastPassEndedAt: z.string().nullable(),
    lastPassCounts: Counts.nullable(),
    lastRunAt: z.string().nullable(),
    lastRunCounts: Counts.nullable(),
    lastError: z.string().nullable().openapi({ description: "Error code of the last run, when it failed" }),
  })
  .openapi("MaintenanceJob");

const KeysSchema = z
  .object({
    currentKekId: z.string(),
    previousKekIds: z.array(z.string()),
    sealedUnderCurrent: z.number().int(),
    sealedUnderPrevious: z.number().int(),
    sealedOtherwise: z
      .number()
      .int()
      .openapi({ description: "Sealed before KEK ids existed, or under a key no longer configured" }),
    remaining: z.number().int().openapi({ description: "Stored keys and webhook secrets a re-seal still has to move" }),
  })
  .openapi("SealedKeys");

const StatusSchema = z
  .object({
    jobs: z.array(JobSchema),
    keys: KeysSchema,
    provisioning: z.object({
      stuck: z.array(z.object({ tenantId: z.string(), createdAt: z.string() })).openapi({
        description: "Tenants still provisioning after 5 minutes (the finish-provisioning job retries them)",
      }),
    }),
    identityRule: z.object({
      openIdentities: z
        .array(
          z.object({
            tenantId: z.string(),
            name: z.string(),
            status: z.string(),
            issuer: z.string(),
            claim: z.object({ name: z.string(), value: z.string() }).nullable(),
            problem: z.string(),
          }),
        )
        .openapi({
          description:
            "Identities (first 100) whose issuer is shared by unrelated parties but that name no audience (or, where the asker picks the audience, no pinning claim): fix each with PUT /tenants/{id}/identity",
        }),
      complete: z
        .boolean()
        .openapi({ description: "false when there may be more than those listed (100 found, or 10,000 read)" }),
    }),
    orphans: z.object({
      policy: z.enum(["report", "deactivate"]),
      items: z.array(
        z.object({
          subAccountId: z.string(),
          externalId: z.string(),
          name: z.string().nullable(),
          firstSeenAt: z.string(),
          lastSeenAt: z.string(),
          deactivatedAt: z.string().nullable(),
        }),
      ),
    }),
    settings: z.object({ keyRotationDays: z.number().int(), maxSubrequestsPerRun: z.number().int() }),
  })
  .openapi("MaintenanceStatus");

const ResealBody = z
  .object({
    limit: z.number().int().min(1).max(1000).default(100).openapi({ description: "Most stored keys to examine" }),
  })
  .strict()
  .openapi("ResealRequest");

const ResealResult = z
  .object({
    counts: Counts.openapi({ description: "resealed, unreadable, changedMeanwhile in this call" }),
    passComplete: z.boolean().openapi({ description: "Every stored key has been examined under the current key" }),
    subrequests: z.number().int(),
    keys: KeysSchema,
    job: JobSchema,
  })
  .openapi("ResealResult");

const status = adminRoute({
  method: "get",
  path: "/maintenance",
  summary: "Scheduled maintenance: each job's progress, stored keys by KEK, stuck tenants, orphan sub-accounts",
  responses: { 200: json(StatusSchema, "Where maintenance stands"), ...errors("unauthorized") },
});

const reseal = adminRoute({
  method: "post",
  path: "/maintenance/reseal",
  summary: "Re-seal a batch of stored keys under the current KEY_ENCRYPTION_KEY (call until keys.remaining is 0)",
  request: { body: { ...jsonBody(ResealBody), required: false } },
  responses: {
    200: json(ResealResult, "What this batch did and what remains"),
    ...errors("invalid_request", "unauthorized", "maintenance_busy"),
  },
});

/** GET /admin/v1/maintenance and POST /admin/v1/maintenance/reseal, on the admin app (its auth). */
export function registerMaintenanceRoutes(app: OpenAPIHono<AdminEnv>) {
  app.openapi(status, async (c) => c.json(await maintenanceStatus(c.env, c.var.state), 200));

  app.openapi(reseal, async (c) => {
    const { limit } = c.req.valid("json") ?? { limit: 100 };
    const state = c.var.state;
    const run = await runMaintenance(c.env, state, {
      trigger: "admin",
      only: [resealKeys.name],
      force: true,
      maxItems: limit,
      actor: c.var.admin.actor,
      requestId: c.var.requestId,
    });
    const report = run.jobs[0]!;
    if (report.outcome === "busy") throw apiError("maintenance_busy");
    if (report.outcome === "failed") throw apiError("internal_error", `The re-seal failed (${report.error}).`);
    const job = (await new MaintenanceRepo(c.env.DB, state.counters).states()).find((s) => s.job === resealKeys.name);
    return c.json(
      {
        counts: report.counts,
        passComplete: report.passComplete,
        subrequests: report.subrequests,
        keys: await sealedKeyCounts(c.env, state.counters),
        job: presentJob(resealKeys, job, config(c.env).maintenance, state.clock.now()),
      },
      200,
    );
  });
}
