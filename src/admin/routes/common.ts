import type { z } from "@hono/zod-openapi";
import type { AppVariables } from "../../app-types";
import type { Env } from "../../env";
import type { AdminDeps } from "../provisioning";
import { ErrorSchema } from "../schemas";

export type AdminEnv = { Bindings: Env; Variables: AppVariables & { admin: AdminDeps } };

export function json<T extends z.ZodType>(schema: T, description = "") {
  return { content: { "application/json": { schema } }, description, required: true };
}

const DESCRIPTIONS: Record<number, string> = {
  400: "Invalid request (code invalid_request, details lists each problem)",
  401: "Missing or wrong admin token",
  404: "No such tenant",
  409: "Conflict: identity or externalId taken, wrong state, or idempotent request in progress",
  422: "Idempotency-Key reused with another body",
  502: "Zavu refused or could not be reached",
  503: "Provisioning interrupted; retry with the same Idempotency-Key or repair",
  504: "Zavu did not answer in time",
};

export function errors(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((s) => [
      s,
      { content: { "application/json": { schema: ErrorSchema } }, description: DESCRIPTIONS[s] ?? "Error" },
    ]),
  );
}
