import { apiError } from "../errors";

/** Who may do what, lowest first: each role may do everything the ones before it may. */
export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const isRole = (value: unknown): value is Role => typeof value === "string" && ROLES.includes(value as Role);

/** Whether `held` may do what `needed` may. */
export const allows = (held: Role, needed: Role) => ROLES.indexOf(held) >= ROLES.indexOf(needed);

/** What each role may do, in a sentence (the OpenAPI document, docs/team.md, the console). */
export const ROLE_DESCRIPTIONS: Record<Role, string> = {
  viewer: "reads everything: tenants, usage and its CSV, the audit log, webhooks, maintenance",
  operator:
    "a viewer who also sends onboarding links, suspends and reactivates, changes limits, plans and identities, rotates keys and replays event deliveries",
  admin:
    "everything: tenants created, imported, deactivated and repaired, phone numbers, webhooks, maintenance, admin API keys and staff",
};

/**
 * The one table of the role each admin operation needs, keyed "METHOD /path" as the OpenAPI document
 * names it. The admin routes read it when they are defined (routes/common.ts: the OpenAPI extension
 * `x-required-role`, a sentence in the description, and the check), and the console's actions read their
 * admin-API twin's role from it. An operation missing here cannot be defined (adminRoute throws), and
 * test/admin/roles.test.ts checks every route of the app against it.
 */
export const OPERATION_ROLES = {
  "GET /tenants": "viewer",
  "GET /tenants/{id}": "viewer",
  "GET /tenants/{id}/api-keys": "viewer",
  "GET /tenants/{id}/balance": "viewer",
  "GET /tenants/{id}/phone-numbers": "viewer",
  "GET /tenants/{id}/usage": "viewer",
  "GET /tenants/{id}/event-deliveries": "viewer",
  "GET /audit": "viewer",
  "GET /stats": "viewer",
  "GET /team": "viewer",
  "GET /usage": "viewer",
  "GET /onboarding-links": "viewer",
  "GET /webhooks": "viewer",
  "GET /webhooks/{id}/deliveries": "viewer",
  "GET /maintenance": "viewer",
  "GET /api-keys": "viewer",
  "GET /staff": "viewer",
  "GET /staff/{email}": "viewer",

  "POST /onboarding-links": "operator",
  "DELETE /onboarding-links/{id}": "operator",
  "PATCH /tenants/{id}": "operator",
  "PUT /tenants/{id}/identity": "operator",
  "POST /tenants/{id}/rotate-key": "operator",
  "POST /tenants/{id}/event-deliveries/{deliveryId}/replay": "operator",

  "POST /tenants": "admin",
  "POST /tenants/import": "admin",
  "POST /tenants/{id}/repair": "admin",
  "DELETE /tenants/{id}": "admin",
  "POST /tenants/{id}/phone-numbers": "admin",
  "DELETE /tenants/{id}/phone-numbers/{numberId}": "admin",
  "POST /webhooks": "admin",
  "DELETE /webhooks/{id}": "admin",
  "POST /webhooks/{id}/test": "admin",
  "POST /maintenance/reseal": "admin",
  "POST /api-keys": "admin",
  "DELETE /api-keys/{id}": "admin",
  "PUT /staff/{email}": "admin",
  "DELETE /staff/{email}": "admin",
} as const satisfies Record<string, Role>;

export type Operation = keyof typeof OPERATION_ROLES;

/** The role an admin operation needs; throws for an operation the table does not name. */
export function roleOf(method: string, path: string): Role {
  const role = (OPERATION_ROLES as Record<string, Role>)[`${method.toUpperCase()} ${path}`];
  if (!role)
    throw new Error(`${method.toUpperCase()} ${path} has no role: add it to OPERATION_ROLES (src/team/roles.ts)`);
  return role;
}

/** The sentence each operation's OpenAPI description carries. */
export const roleSentence = (role: Role) => `Requires the \`${role}\` role (or higher).`;

/** 403 forbidden, naming the role needed, when `held` does not reach it. */
export function requireRole(held: Role, needed: Role): void {
  if (!allows(held, needed))
    throw apiError("forbidden", `This needs the ${needed} role; your role is ${held}.`, {
      requiredRole: needed,
      role: held,
    });
}
