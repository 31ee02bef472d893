import type { z } from "@hono/zod-openapi";
import type { AppVariables } from "../../app-types";
import type { Env } from "../../env";
import { ERRORS, type ErrorCode } from "../../errors";
import type { TenantContext } from "../../tenants/context";
import { ErrorSchema } from "../schemas";

export type AdminEnv = { Bindings: Env; Variables: AppVariables & { admin: TenantContext; actor?: string } };

/** An OpenAPI response with a JSON body. */
export function json<T extends z.ZodType>(schema: T, description: string) {
  return { content: { "application/json": { schema } }, description };
}

/**
 * A JSON request body. `required: true` belongs to request bodies only (OpenAPI has no such field on a
 * response), and @hono/zod-openapi validates a required body whatever its content type says.
 */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { content: { "application/json": { schema } }, required: true };
}

/** OpenAPI error responses for the given codes, grouped by status, described from the one error table. */
export function errors(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      status,
      {
        content: { "application/json": { schema: ErrorSchema } },
        description: list.map((code) => `\`${code}\`: ${ERRORS[code].message}`).join(" "),
      },
    ]),
  );
}
