import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { idempotent } from "../idempotency";
import { currentTotalSpent, deactivateTenant, loadTenant, spendSnapshots, updateTenant } from "../lifecycle";
import { createTenant, importTenant } from "../onboarding";
import { decodeCursor, encodeCursor, presentTenant } from "../present";
import { provision } from "../provisioning";
import * as S from "../schemas";
import { type AdminEnv, errors, json } from "./common";

const create = createRoute({
  method: "post",
  path: "/tenants",
  summary: "Onboard a customer: create its Zavu sub-account, store its key encrypted, register its identity provider",
  request: { body: json(S.CreateTenantSchema) },
  responses: {
    201: json(S.TenantEnvelope, "The active tenant"),
    ...errors(
      "invalid_request",
      "unauthorized",
      "conflict",
      "invalid_state",
      "idempotency_in_progress",
      "idempotency_key_reused",
      "upstream_error",
      "upstream_unavailable",
      "provisioning_incomplete",
      "upstream_timeout",
    ),
  },
});

const list = createRoute({
  method: "get",
  path: "/tenants",
  summary: "List tenants (keyset pagination)",
  request: { query: S.ListQuery },
  responses: { 200: json(S.TenantList, "A page of tenants"), ...errors("invalid_request", "unauthorized") },
});

const get = createRoute({
  method: "get",
  path: "/tenants/{id}",
  summary: "One tenant, with its upstream totalSpent",
  request: { params: S.IdParam },
  responses: { 200: json(S.TenantEnvelope, "The tenant"), ...errors("unauthorized", "not_found") },
});

const patch = createRoute({
  method: "patch",
  path: "/tenants/{id}",
  summary: "Change name, externalId, creditLimit, metadata or status (mirrored to Zavu)",
  request: { params: S.IdParam, body: json(S.UpdateTenantSchema) },
  responses: {
    200: json(S.TenantEnvelope, "The updated tenant"),
    ...errors(
      "invalid_request",
      "unauthorized",
      "not_found",
      "conflict",
      "invalid_state",
      "idempotency_in_progress",
      "upstream_error",
      "upstream_unavailable",
      "upstream_timeout",
    ),
  },
});

const remove = createRoute({
  method: "delete",
  path: "/tenants/{id}",
  summary: "Deactivate: Zavu revokes every key, the stored ciphertext is erased, the record stays",
  request: { params: S.IdParam },
  responses: {
    200: json(S.DeleteResult, "The deactivated tenant"),
    ...errors("unauthorized", "not_found", "upstream_error", "upstream_unavailable", "upstream_timeout"),
  },
});

const repair = createRoute({
  method: "post",
  path: "/tenants/{id}/repair",
  summary: "Finish a provisioning that was interrupted",
  request: { params: S.IdParam },
  responses: {
    200: json(S.TenantEnvelope, "The tenant, active"),
    ...errors("unauthorized", "not_found", "upstream_error", "upstream_unavailable", "provisioning_incomplete"),
  },
});

const importRoute = createRoute({
  method: "post",
  path: "/tenants/import",
  summary: "Adopt an existing Zavu sub-account (id and key)",
  request: { body: json(S.ImportTenantSchema) },
  responses: {
    201: json(S.TenantEnvelope, "The imported tenant"),
    ...errors(
      "invalid_request",
      "unauthorized",
      "conflict",
      "invalid_state",
      "idempotency_in_progress",
      "idempotency_key_reused",
      "upstream_error",
      "upstream_unavailable",
    ),
  },
});

export function registerTenantRoutes(app: OpenAPIHono<AdminEnv>) {
  app.openapi(create, async (c) => {
    const deps = c.var.admin;
    const body = c.req.valid("json");
    const outcome = await idempotent(
      deps,
      "tenants.create",
      c.req.header("idempotency-key"),
      body,
      async (bind) => {
        const tenant = await createTenant(deps, body, bind);
        return { status: 201, body: { tenant: presentTenant(tenant, 0) } };
      },
      async (tenantId) => ({ status: 201, body: { tenant: presentTenant(await provision(deps, tenantId), 0) } }),
    );
    return c.json(
      outcome.body as never,
      outcome.status as 201,
      outcome.replayed ? { "idempotent-replayed": "true" } : {},
    );
  });

  app.openapi(list, async (c) => {
    const q = c.req.valid("query");
    const rows = await c.var.admin.repo.list({
      limit: q.limit + 1,
      after: decodeCursor(q.cursor),
      status: q.status,
      externalId: q.externalId,
    });
    const page = rows.slice(0, q.limit);
    const spent = await spendSnapshots(
      c.var.admin,
      page.map((t) => t.id),
    );
    return c.json(
      {
        items: page.map((t, i) => presentTenant(t, spent[i] ?? null)),
        nextCursor: rows.length > q.limit ? encodeCursor(page[page.length - 1]!.id) : null,
      },
      200,
    );
  });

  app.openapi(get, async (c) => {
    const tenant = await loadTenant(c.var.admin, c.req.valid("param").id);
    return c.json({ tenant: presentTenant(tenant, await currentTotalSpent(c.var.admin, tenant)) }, 200);
  });

  app.openapi(patch, async (c) => {
    const tenant = await updateTenant(c.var.admin, c.req.valid("param").id, c.req.valid("json"));
    return c.json({ tenant: presentTenant(tenant, await currentTotalSpent(c.var.admin, tenant)) }, 200);
  });

  app.openapi(remove, async (c) => {
    const { tenant, keysRevoked } = await deactivateTenant(c.var.admin, c.req.valid("param").id);
    return c.json({ tenant: presentTenant(tenant, null), keysRevoked }, 200);
  });

  app.openapi(repair, async (c) => {
    const deps = c.var.admin;
    const id = c.req.valid("param").id;
    const outcome = await idempotent(deps, `tenants.repair.${id}`, c.req.header("idempotency-key"), {}, async () => {
      await loadTenant(deps, id);
      const tenant = await provision(deps, id);
      return { status: 200, body: { tenant: presentTenant(tenant, await currentTotalSpent(deps, tenant)) } };
    });
    return c.json(outcome.body as never, outcome.status as 200);
  });

  app.openapi(importRoute, async (c) => {
    const deps = c.var.admin;
    const body = c.req.valid("json");
    const outcome = await idempotent(deps, "tenants.import", c.req.header("idempotency-key"), body, async () => {
      const tenant = await importTenant(deps, body);
      return { status: 201, body: { tenant: presentTenant(tenant, await currentTotalSpent(deps, tenant)) } };
    });
    return c.json(
      outcome.body as never,
      outcome.status as 201,
      outcome.replayed ? { "idempotent-replayed": "true" } : {},
    );
  });
}
