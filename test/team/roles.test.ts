import { beforeAll, describe, expect, it } from "vitest";
import { createAdminApp, PUBLIC_ADMIN_ROUTES } from "../../src/admin/app";
import { allows, OPERATION_ROLES, ROLES, type Role } from "../../src/lib/roles";
import { admin } from "../helpers/admin";
import { sandbox } from "../helpers/sandbox";
import { newKey } from "./helpers";

/**
 * Each role against every admin route, the route list read from the app itself: a route added without
 * a role has no x-required-role in the document (and the app refuses to build), so this fails.
 */
const app = createAdminApp();
const doc = app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "1" } });
// Hono lists a route once per handler (its middleware, validators and handler): once each here.
const routes = [
  ...new Set(
    app.routes
      .filter((r) => r.method !== "ALL" && !PUBLIC_ADMIN_ROUTES.includes(`${r.method} ${r.path}`))
      .map((r) => `${r.method} ${r.path.replaceAll(/:(\w+)/g, "{$1}")}`),
  ),
].map((key) => {
  const [method, path] = key.split(" ") as [string, string];
  return { method, path };
});

/** A well-formed value for each path parameter (the role is checked before the parameters are). */
const PARAMS: Record<string, string> = {
  id: "tnt_00000000000000000000000000",
  numberId: "pn_0000",
  deliveryId: "edl_00000000000000000000000000",
  email: "nobody@reseller.example",
};
const concrete = (path: string) => path.replaceAll(/\{(\w+)\}/g, (_, name: string) => PARAMS[name] ?? "x");

const credentials = {} as Record<Role, string>;
beforeAll(async () => {
  await sandbox.reset();
  for (const role of ROLES) credentials[role] = (await newKey(role)).secret;
});

describe("roles: one table, read by the checks and the document", () => {
  it("the app has routes, and each states its role in the OpenAPI document as the table gives it", () => {
    expect(routes.length).toBeGreaterThan(35);
    for (const { method, path } of routes) {
      const operation = (doc.paths?.[path] as Record<string, Record<string, unknown>> | undefined)?.[
        method.toLowerCase()
      ];
      const key = `${method} ${path}`;
      expect(operation, `${key} is not in the document`).toBeDefined();
      expect(operation!["x-required-role"], `${key} has no role`).toBe(
        (OPERATION_ROLES as Record<string, string>)[key],
      );
      expect(operation!.description).toContain(`Requires the \`${operation!["x-required-role"]}\` role`);
    }
    expect(Object.keys(OPERATION_ROLES).sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
  });

  it("every GET is viewer's; nothing but a GET is", () => {
    for (const { method, path } of routes)
      expect(OPERATION_ROLES[`${method} ${path}` as keyof typeof OPERATION_ROLES] === "viewer").toBe(method === "GET");
  });

  for (const role of ROLES) {
    it(`${role}: allowed routes are not refused for the role (not 401/403); the others are 403 forbidden, naming the role`, async () => {
      const seen: string[] = [];
      for (const { method, path } of routes) {
        const needed = OPERATION_ROLES[`${method} ${path}` as keyof typeof OPERATION_ROLES] as Role;
        const res = await admin(method, concrete(path), {
          token: credentials[role],
          body: method === "GET" || method === "DELETE" ? undefined : {},
        });
        if (allows(role, needed)) {
          expect([401, 403], `${role} ${method} ${path}: ${res.text}`).not.toContain(res.status);
        } else {
          expect(res.status, `${role} ${method} ${path}`).toBe(403);
          expect(res.body.code).toBe("forbidden");
          expect(res.body.message).toContain(`needs the ${needed} role`);
          expect(res.body.details).toEqual({ requiredRole: needed, role });
        }
        seen.push(`${method} ${path}`);
      }
      expect(seen.length).toBe(routes.length);
    });
  }

  it("ADMIN_TOKEN is the break-glass credential: role admin", async () => {
    expect((await admin("POST", "/api-keys", { body: { name: "x" } })).status).toBe(400);
    expect((await admin("DELETE", `/tenants/${PARAMS.id}`)).status).toBe(404);
  });
});
