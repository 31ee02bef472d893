import { createRoute, type RouteConfig } from "@hono/zod-openapi";
import type { AppVariables } from "../../app-types";
import type { Env } from "../../env";
import { ERRORS, type ErrorCode } from "../../errors";
import { type Role, roleOf, roleSentence } from "../../lib/roles";
import type * as z from "../../lib/zod";
import type { Principal } from "../../team/authenticate";
import type { TenantContext } from "../../tenants/context";
import { roleCheck } from "../auth";
import { ErrorSchema } from "../schemas";

export type AdminEnv = {
  Bindings: Env;
  Variables: AppVariables & { admin: TenantContext; actor?: string; principal: Principal };
};

/** The OpenAPI extension naming the role an operation needs. */
export const REQUIRED_ROLE = "x-required-role";

/**
 * An admin operation: createRoute, with the role it needs read from the one table (lib/roles.ts
 * OPERATION_ROLES), stated in the document (`x-required-role` and a sentence in the description) and
 * checked before anything else the route does. An operation the table does not name cannot be defined.
 */
export function adminRoute<const R extends RouteConfig>(config: R) {
  const role: Role = roleOf(config.method, config.path);
  return createRoute({
    ...config,
    description: [config.description, roleSentence(role)].filter(Boolean).join(" "),
    [REQUIRED_ROLE]: role,
    responses: { ...errors("forbidden", "cross_site_request"), ...config.responses },
    middleware: [roleCheck(role), ...(config.middleware ? [config.middleware].flat() : [])],
  } as R);
}

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
