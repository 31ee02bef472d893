import type { OpenAPIHono } from "@hono/zod-openapi";
import { ROLES } from "../../lib/roles";
import * as z from "../../lib/zod";
import { createAdminKey, listAdminKeys, MAX_KEY_DAYS, presentKey, revokeAdminKey } from "../../team/api-keys";
import { getStaff, listStaff, presentStaff, putStaff, removeStaff } from "../../team/staff";
import { Name } from "../schemas";
import { type AdminEnv, adminRoute, errors, json, jsonBody } from "./common";

const Role = z.enum(ROLES).openapi("Role", {
  description:
    "viewer: every GET. operator: viewer, plus onboarding links, suspend/reactivate, limits and plans, identity changes, key rotation, replays. admin: everything.",
});

const AdminKey = z
  .object({
    id: z.string().openapi({ example: "gk_01jd0000000000000000000000" }),
    name: z.string(),
    role: Role,
    prefix: z.string().openapi({ description: "The secret's first 12 characters (zgk_…), to recognise it" }),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable().openapi({ description: "Updated at most once a minute" }),
  })
  .openapi("AdminApiKey");

const CreateAdminKey = z
  .object({
    name: Name,
    role: Role,
    expiresInDays: z.number().int().min(1).max(MAX_KEY_DAYS).nullable().optional(),
  })
  .strict()
  .openapi("CreateAdminApiKey");

const KeyIdParam = z.object({
  id: z
    .string()
    .regex(/^gk_[0-9a-z]{26}$/, "not an admin API key id")
    .openapi({ param: { name: "id", in: "path" } }),
});

const Staff = z
  .object({ email: z.string(), role: Role, updatedAt: z.string(), updatedBy: z.string() })
  .openapi("Staff");
const EmailParam = z.object({
  email: z
    .string()
    .min(3)
    .max(254)
    .openapi({ param: { name: "email", in: "path" }, example: "jane@reseller.example" }),
});

const createKey = adminRoute({
  method: "post",
  path: "/api-keys",
  summary: "Create an admin API key with a role; its secret (zgk_…) is in this answer only",
  request: { body: jsonBody(CreateAdminKey) },
  responses: {
    201: json(
      z.object({ apiKey: AdminKey, secret: z.string() }).openapi("AdminApiKeyCreated"),
      "The key and its secret",
    ),
    ...errors("invalid_request", "unauthorized"),
  },
});

const listKeys = adminRoute({
  method: "get",
  path: "/api-keys",
  summary: "The admin API keys (never their secrets), newest first, with their last use",
  responses: {
    200: json(z.object({ items: z.array(AdminKey) }).openapi("AdminApiKeyList"), "The keys"),
    ...errors("unauthorized"),
  },
});

const revokeKey = adminRoute({
  method: "delete",
  path: "/api-keys/{id}",
  summary: "Revoke an admin API key: refused by every isolate within the consistency bound (5 s)",
  request: { params: KeyIdParam },
  responses: {
    200: json(z.object({ apiKey: AdminKey }).openapi("AdminApiKeyRevoked"), "The revoked key"),
    ...errors("unauthorized", "not_found", "propagation_pending"),
  },
});

const listStaffRoute = adminRoute({
  method: "get",
  path: "/staff",
  summary: "The people Cloudflare Access lets in, and their roles",
  responses: {
    200: json(z.object({ items: z.array(Staff) }).openapi("StaffList"), "The staff"),
    ...errors("unauthorized"),
  },
});

const getStaffRoute = adminRoute({
  method: "get",
  path: "/staff/{email}",
  summary: "One person's role",
  request: { params: EmailParam },
  responses: {
    200: json(z.object({ staff: Staff }).openapi("StaffResponse"), "The person"),
    ...errors("invalid_request", "unauthorized", "not_found"),
  },
});

const putStaffRoute = adminRoute({
  method: "put",
  path: "/staff/{email}",
  summary: "Give a person (their Access email) a role; in effect in every isolate within the bound (audited)",
  request: { params: EmailParam, body: jsonBody(z.object({ role: Role }).strict().openapi("PutStaff")) },
  responses: {
    200: json(z.object({ staff: Staff }).openapi("StaffPut"), "The person"),
    ...errors("invalid_request", "unauthorized", "propagation_pending"),
  },
});

const deleteStaffRoute = adminRoute({
  method: "delete",
  path: "/staff/{email}",
  summary: "Remove a person: they keep ACCESS_DEFAULT_ROLE, if one is set, and nothing else (audited)",
  request: { params: EmailParam },
  responses: {
    200: json(z.object({ staff: Staff }).openapi("StaffRemoved"), "The person removed"),
    ...errors("invalid_request", "unauthorized", "not_found", "propagation_pending"),
  },
});

/** The team: admin API keys and staff (Cloudflare Access). */
export function registerTeamAccessRoutes(app: OpenAPIHono<AdminEnv>) {
  app.openapi(createKey, async (c) => {
    const { key, secret } = await createAdminKey(c.var.admin, c.req.valid("json"));
    return c.json({ apiKey: presentKey(key), secret }, 201);
  });
  app.openapi(listKeys, async (c) => c.json({ items: (await listAdminKeys(c.var.admin)).map(presentKey) }, 200));
  app.openapi(revokeKey, async (c) =>
    c.json({ apiKey: presentKey(await revokeAdminKey(c.var.admin, c.req.valid("param").id)) }, 200),
  );
  app.openapi(listStaffRoute, async (c) => c.json({ items: (await listStaff(c.var.admin)).map(presentStaff) }, 200));
  app.openapi(getStaffRoute, async (c) =>
    c.json({ staff: presentStaff(await getStaff(c.var.admin, c.req.valid("param").email)) }, 200),
  );
  app.openapi(putStaffRoute, async (c) =>
    c.json(
      { staff: presentStaff(await putStaff(c.var.admin, c.req.valid("param").email, c.req.valid("json").role)) },
      200,
    ),
  );
  app.openapi(deleteStaffRoute, async (c) =>
    c.json({ staff: presentStaff(await removeStaff(c.var.admin, c.req.valid("param").email)) }, 200),
  );
}
