import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { config } from "../../config";
import { apiError } from "../../errors";
import { assertIdentityFree, type IdentityInput, prepareIdentity } from "../../identity/register";
import { readBalance } from "../../storage/balance-cache";
import { sealKey } from "../../storage/key-vault";
import { newTenantId } from "../../storage/tenant-repo";
import { type AdminDeps, audit } from "../deps";
import { idempotent } from "../idempotency";
import { currentTotalSpent, deactivateTenant, loadTenant, updateTenant, verifyImportedKey } from "../lifecycle";
import { decodeCursor, encodeCursor, presentTenant } from "../present";
import { beginTenant, provision } from "../provisioning";
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

/** What a new tenant (created or imported) must satisfy: a usable identity nobody else holds, a free externalId. */
async function checkNewTenant(
  deps: AdminDeps,
  body: { identity: IdentityInput; externalId?: string },
  allowHttpJwks: boolean,
) {
  const identity = await prepareIdentity(body.identity, { allowHttpJwks });
  await assertIdentityFree(deps.repo, identity);
  if (body.externalId && (await deps.repo.externalIdTaken(body.externalId))) {
    throw apiError("conflict", "This externalId belongs to another tenant.");
  }
  return identity;
}

export function registerTenantRoutes(app: OpenAPIHono<AdminEnv>) {
  app.openapi(create, async (c) => {
    const deps = c.var.admin;
    const body = c.req.valid("json");
    const outcome = await idempotent(
      deps.db,
      "tenants.create",
      c.req.header("idempotency-key"),
      body,
      async (bind) => {
        const identity = await checkNewTenant(deps, body, config(c.env).allowHttpJwks);
        const id = await beginTenant(deps, { ...body, identity }, (tenantId) => [bind(tenantId)]);
        const tenant = await provision(deps, id, true);
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
    const spent = await Promise.all(page.map((t) => readBalance(c.env.CACHE, t.id)));
    return c.json(
      {
        items: page.map((t, i) => presentTenant(t, spent[i]?.totalSpent ?? null)),
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
    const outcome = await idempotent(deps.db, `tenants.repair.${id}`, c.req.header("idempotency-key"), {}, async () => {
      await loadTenant(deps, id);
      const tenant = await provision(deps, id);
      return { status: 200, body: { tenant: presentTenant(tenant, await currentTotalSpent(deps, tenant)) } };
    });
    return c.json(outcome.body as never, outcome.status as 200);
  });

  app.openapi(importRoute, async (c) => {
    const deps = c.var.admin;
    const body = c.req.valid("json");
    const cfg = config(c.env);
    const outcome = await idempotent(deps.db, "tenants.import", c.req.header("idempotency-key"), body, async () => {
      const identity = await checkNewTenant(deps, body, cfg.allowHttpJwks);
      const { subAccount, key } = await verifyImportedKey(
        deps,
        cfg.upstreamBase,
        cfg.upstreamTimeoutMs,
        body.subAccountId,
        body.apiKey,
      );
      const id = newTenantId();
      try {
        await deps.repo.batch([
          ...deps.repo.insertStatements(
            {
              id,
              name: body.name ?? subAccount.name,
              externalId: body.externalId ?? null,
              status: subAccount.status === "inactive" ? "inactive" : "active",
              creditLimit: subAccount.creditLimit ?? null,
              metadata: body.metadata ?? subAccount.metadata ?? null,
              subAccountId: subAccount.id,
              keyCiphertext: await sealKey(deps.kek, id, body.apiKey),
              keyId: key.id,
              keyPrefix: key.keyPrefix,
            },
            identity,
            Date.now(),
          ),
          audit(deps, "tenant.import", id, {
            subAccountId: subAccount.id,
            keyPrefix: key.keyPrefix,
            issuer: identity.issuer,
          }),
        ]);
      } catch (err) {
        if (String(err).includes("UNIQUE"))
          throw apiError("conflict", "This sub-account, identity or externalId is already registered.");
        throw err;
      }
      const tenant = await loadTenant(deps, id);
      return { status: 201, body: { tenant: presentTenant(tenant, subAccount.totalSpent) } };
    });
    return c.json(
      outcome.body as never,
      outcome.status as 201,
      outcome.replayed ? { "idempotent-replayed": "true" } : {},
    );
  });
}
