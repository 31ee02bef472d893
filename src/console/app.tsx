import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import type { Handler } from "hono/types";
import type { AppVariables } from "../app-types";
import { config } from "../config";
import type { Env } from "../env";
import { ApiError, apiError, toErrorResponse } from "../errors";
import { allows, isRole, type Operation, type Role, requireRole, roleOf } from "../lib/roles";
import { ADMIN_KEY_ID, createAdminKey, revokeAdminKey } from "../team/api-keys";
import { authenticate, type Principal } from "../team/authenticate";
import { putStaff, removeStaff } from "../team/staff";
import { createAlertWebhook, deleteAlertWebhook, testAlertWebhook } from "../tenants/alert-webhooks";
import { type TenantContext, tenantContext } from "../tenants/context";
import { replayTenantEvent } from "../tenants/event-deliveries";
import { deactivateTenant, loadTenant, rotateKey, updateTenant } from "../tenants/lifecycle";
import { createOnboardingLink, revokeOnboardingLink } from "../tenants/onboarding-links";
import { PHONE_NUMBER_ID, purchasePhoneNumber, releasePhoneNumber } from "../tenants/phone-numbers";
import { pageSecurity } from "../ui/security";
import { monthlyCsv, monthlyUsage } from "../usage/reports";
import { centsFromDollars, fields, hoursFrom, metadataFrom, nameFrom, planFrom, webhookFrom } from "./forms";
import { type Flash, Screen } from "./parts";
import { deliveryStatusOf, eventsScreen } from "./screens/events";
import { linkStatusOf, linksScreen } from "./screens/links";
import { overviewScreen } from "./screens/overview";
import { apiKeysScreen, type NewKey, staffScreen } from "./screens/team";
import { planOf, tenantScreen } from "./screens/tenant";
import { tenantQuery, tenantsScreen } from "./screens/tenants";
import { monthOf, usageScreen } from "./screens/usage";
import { WEBHOOK_ID, type WebhooksFlash, webhookScreen, webhooksScreen } from "./screens/webhooks";
import { ConsoleShell } from "./shell";

type ConsoleEnv = {
  Bindings: Env;
  Variables: AppVariables & { admin: TenantContext; principal: Principal; secureHeadersNonce?: string };
};
type C = Context<ConsoleEnv>;

const TENANT_ID = /^tnt_[0-9a-z]{26}$/;
const LINK_ID = /^lnk_[0-9a-z]{26}$/;
const DELIVERY_ID = /^edl_[0-9a-z]{26}$/;

function tenantId(c: C): string {
  const id = c.req.param("id") ?? "";
  if (!TENANT_ID.test(id)) throw apiError("not_found", "Tenant not found.");
  return id;
}

/** An action needs the role its admin-API twin needs (one table: lib/roles.ts). */
const needs = (operation: Operation) =>
  createMiddleware<ConsoleEnv>(async (c, next) => {
    const [method, path] = operation.split(" ") as [string, string];
    requireRole(c.var.principal.role, roleOf(method, path));
    await next();
  });

/** The console's actions, as Hono paths, with their admin-API twins: the checks, and what a role is shown. */
const ACTION_ROLES: [path: string, operation: Operation][] = [];

/** Forms whose action the caller's role may not take are not rendered (a forced post still gets 403). */
function hideBeyondRole(res: Response, role: Role): Response {
  const rules = ACTION_ROLES.map(([path, op]) => {
    const [method, apiPath] = op.split(" ") as [string, string];
    return [new RegExp(`^/console${path.replaceAll(/:\w+/g, "[^/]+")}$`), roleOf(method, apiPath)] as const;
  });
  return new HTMLRewriter()
    .on("form[action]", {
      element(el) {
        if ((el.getAttribute("method") ?? "get").toLowerCase() !== "post") return; // a search or a filter
        const action = el.getAttribute("action") ?? "";
        // A form for an action nobody mapped is shown to admins only: a new action fails closed.
        const needed = rules.find(([pattern]) => pattern.test(action))?.[1] ?? "admin";
        if (!allows(role, needed)) el.remove();
      },
    })
    .transform(res);
}

const form = async (c: C) => fields(await c.req.parseBody());
const origin = (c: C) => new URL(c.req.url).origin;

/** Runs a tenant action and shows the tenant again, with what happened (or why it did not). */
async function onTenant(c: C, run: (deps: TenantContext, id: string) => Promise<Flash>) {
  const deps = c.var.admin;
  const id = tenantId(c);
  let flash: Flash;
  let status = 200;
  try {
    flash = await run(deps, id);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    flash = { error: err.message };
    status = err.status;
  }
  return c.html(await tenantScreen(c.env, deps, id, flash), status as 200);
}

/** Runs an action and shows `screen` with what happened (or why it did not). */
async function after<F extends Flash>(c: C, run: () => Promise<F>, screen: (flash: F) => Promise<unknown>) {
  let flash: F;
  let status = 200;
  try {
    flash = await run();
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    flash = { error: err.message } as F;
    status = err.status;
  }
  return c.html(String(await screen(flash)), status as 200);
}

function webhookId(c: C): string {
  const id = c.req.param("id") ?? "";
  if (!WEBHOOK_ID.test(id)) throw apiError("not_found", "Webhook not found.");
  return id;
}

async function onLinks(c: C, run: (deps: TenantContext) => Promise<Flash>) {
  let flash: Flash;
  let status = 200;
  try {
    flash = await run(c.var.admin);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    flash = { error: err.message };
    status = err.status;
  }
  return c.html(await linksScreen(c.var.admin, {}, flash), status as 200);
}

/**
 * The reseller's console at /console: one static page, plus HTML fragments under /console/f/
 * that need the admin token as a Bearer header (the page's script sends it). Every action
 * goes through the same functions as the admin API.
 */
export function createConsoleApp() {
  const app = new Hono<ConsoleEnv>();
  app.use(pageSecurity({ script: true, trustedTypesPolicy: "console-fragments" }));
  app.get("/", (c) =>
    c.html(<ConsoleShell nonce={c.var.secureHeadersNonce!} access={config(c.env).access !== null} />),
  );

  /** A console action: a POST route that needs the role of its admin-API twin (lib/roles.ts). */
  const action = <P extends string>(path: P, operation: Operation, handler: Handler<ConsoleEnv, P>) => {
    ACTION_ROLES.push([path, operation]);
    app.post(path, needs(operation), handler);
  };

  app.use(
    "/f/*",
    bodyLimit({
      maxSize: 64 * 1024,
      onError: () => {
        throw apiError("payload_too_large", "Console requests are limited to 64 KiB.");
      },
    }),
  );
  app.use("/f/*", async (c, next) => {
    const principal = await authenticate({
      env: c.env,
      state: c.var.state,
      headers: c.req.raw.headers,
      waitUntil: (p) => c.executionCtx.waitUntil(p),
      note: "console",
    });
    c.set("principal", principal);
    c.set("admin", tenantContext(c.env, c.var.state, c.var.requestId, principal.actor));
    // Every fragment reads: viewer. Each action checks the role of its admin-API twin (needs() below).
    requireRole(principal.role, "viewer");
    await next();
    c.res.headers.set("x-console-role", principal.role);
    if (c.res.headers.get("content-type")?.startsWith("text/html")) c.res = hideBeyondRole(c.res, principal.role);
  });

  app.get("/f/overview", async (c) => c.html(await overviewScreen(c.env, c.var.admin)));
  app.get("/f/tenants", async (c) => c.html(await tenantsScreen(c.var.admin, tenantQuery(c.req.query()))));
  app.get("/f/tenants/:id", async (c) => c.html(await tenantScreen(c.env, c.var.admin, tenantId(c))));

  action("/f/tenants/:id/update", "PATCH /tenants/{id}", (c) =>
    onTenant(c, async (deps, id) => {
      const f = await form(c);
      await updateTenant(deps, id, {
        name: nameFrom(f.name),
        creditLimit: centsFromDollars(f.creditLimit, "Credit limit"),
        metadata: metadataFrom(f.metadata),
      });
      return { notice: "Saved." };
    }),
  );

  action("/f/tenants/:id/plan", "PATCH /tenants/{id}", (c) =>
    onTenant(c, async (deps, id) => {
      const plan = planFrom(await form(c), planOf(await loadTenant(deps, id)));
      if (Object.keys(plan).length === 0) return { notice: "The plan is as it was: nothing changed." };
      await updateTenant(deps, id, { plan });
      return { notice: "Plan saved: every isolate applies it within seconds." };
    }),
  );

  action("/f/tenants/:id/status", "PATCH /tenants/{id}", (c) =>
    onTenant(c, async (deps, id) => {
      const status = (await form(c)).status;
      if (status !== "active" && status !== "inactive") throw apiError("invalid_request", "Unknown status.");
      await updateTenant(deps, id, { status });
      return { notice: status === "inactive" ? "Suspended: messaging is blocked." : "Reactivated." };
    }),
  );

  action("/f/tenants/:id/rotate-key", "POST /tenants/{id}/rotate-key", (c) =>
    onTenant(c, async (deps, id) => {
      const r = await rotateKey(deps, id);
      return {
        notice: `New key ${r.keyPrefix}… in use; the previous one ${r.previousKeyRevoked ? "is revoked" : "could not be revoked yet"}.`,
      };
    }),
  );

  action("/f/tenants/:id/deactivate", "DELETE /tenants/{id}", (c) =>
    onTenant(c, async (deps, id) => {
      const tenant = await loadTenant(deps, id);
      if ((await form(c)).confirm !== tenant.name) {
        throw apiError("invalid_request", "The name typed does not match; nothing was changed.");
      }
      const { keysRevoked } = await deactivateTenant(deps, id);
      return { notice: `Deactivated; ${keysRevoked} key(s) revoked.` };
    }),
  );

  action("/f/tenants/:id/setup-link", "POST /onboarding-links", (c) =>
    onTenant(c, async (deps, id) => {
      const hours = hoursFrom((await form(c)).expiresInHours);
      const { link, url } = await createOnboardingLink(deps, { tenantId: id, expiresInHours: hours }, origin(c));
      return { newLink: { id: link.id, url, expiresAt: new Date(link.expiresAt).toISOString() } };
    }),
  );

  action("/f/tenants/:id/phone-numbers", "POST /tenants/{id}/phone-numbers", (c) =>
    onTenant(c, async (deps, id) => {
      const phoneNumber = (await form(c)).phoneNumber ?? "";
      const bought = await purchasePhoneNumber(deps, id, { phoneNumber });
      return { notice: `Bought ${bought.phoneNumber}; it is charged to this tenant's sub-account.` };
    }),
  );

  action("/f/tenants/:id/phone-numbers/:numberId/release", "DELETE /tenants/{id}/phone-numbers/{numberId}", (c) =>
    onTenant(c, async (deps, id) => {
      const numberId = c.req.param("numberId");
      if (!PHONE_NUMBER_ID.test(numberId)) throw apiError("not_found", "Phone number not found.");
      await releasePhoneNumber(deps, id, numberId);
      return { notice: `Released ${numberId}.` };
    }),
  );

  app.get("/f/tenants/:id/events", async (c) => {
    const status = deliveryStatusOf(c.req.query("status"));
    return c.html(await eventsScreen(c.var.admin, tenantId(c), { status, cursor: c.req.query("cursor") }));
  });

  action(
    "/f/tenants/:id/events/:deliveryId/replay",
    "POST /tenants/{id}/event-deliveries/{deliveryId}/replay",
    async (c) => {
      const id = tenantId(c);
      const deliveryId = c.req.param("deliveryId");
      let flash: Flash;
      let status = 200;
      try {
        if (!DELIVERY_ID.test(deliveryId)) throw apiError("not_found", "No such event delivery for this tenant.");
        const delivery = await replayTenantEvent(c.var.admin, id, deliveryId);
        flash = { notice: `Delivering ${delivery.eventId} again now.` };
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        flash = { error: err.message };
        status = err.status;
      }
      return c.html(await eventsScreen(c.var.admin, id, {}, flash), status as 200);
    },
  );

  app.get("/f/links", async (c) => {
    const status = linkStatusOf(c.req.query("status"));
    const cursor = c.req.query("cursor");
    return c.html(
      await linksScreen(c.var.admin, { status, cursor: cursor && LINK_ID.test(cursor) ? cursor : undefined }),
    );
  });

  action("/f/links", "POST /onboarding-links", (c) =>
    onLinks(c, async (deps) => {
      const f = await form(c);
      const { link, url } = await createOnboardingLink(
        deps,
        {
          name: f.name ? nameFrom(f.name, "Customer name") : undefined,
          externalId: f.externalId || undefined,
          creditLimit: centsFromDollars(f.creditLimit, "Credit limit") ?? undefined,
          expiresInHours: hoursFrom(f.expiresInHours),
        },
        origin(c),
      );
      return { newLink: { id: link.id, url, expiresAt: new Date(link.expiresAt).toISOString() } };
    }),
  );

  action("/f/links/:id/revoke", "DELETE /onboarding-links/{id}", (c) =>
    onLinks(c, async (deps) => {
      const id = c.req.param("id");
      if (!LINK_ID.test(id)) throw apiError("not_found", "Onboarding link not found.");
      await revokeOnboardingLink(deps, id);
      return { notice: `Revoked ${id}: its portal no longer opens.` };
    }),
  );

  app.get("/f/api-keys", async (c) => c.html(await apiKeysScreen(c.var.admin)));

  const onKeys = async (c: C, run: () => Promise<{ flash: Flash; created?: NewKey }>) => {
    let result: { flash: Flash; created?: NewKey };
    let status = 200;
    try {
      result = await run();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      result = { flash: { error: err.message } };
      status = err.status;
    }
    return c.html(await apiKeysScreen(c.var.admin, result.flash, result.created), status as 200);
  };

  action("/f/api-keys", "POST /api-keys", (c) =>
    onKeys(c, async () => {
      const f = await form(c);
      if (!isRole(f.role)) throw apiError("invalid_request", "Role: viewer, operator or admin.");
      const days = f.expiresInDays ? Number(f.expiresInDays) : null;
      const { key, secret } = await createAdminKey(c.var.admin, {
        name: nameFrom(f.name),
        role: f.role,
        expiresInDays: days,
      });
      return {
        flash: { notice: `Created ${key.name} (${key.role}).` },
        created: { id: key.id, name: key.name, secret },
      };
    }),
  );

  action("/f/api-keys/:id/revoke", "DELETE /api-keys/{id}", (c) =>
    onKeys(c, async () => {
      const id = c.req.param("id");
      if (!ADMIN_KEY_ID.test(id)) throw apiError("not_found", "No such admin API key.");
      const key = await revokeAdminKey(c.var.admin, id);
      return { flash: { notice: `Revoked ${key.name}: refused everywhere within 5 seconds.` } };
    }),
  );

  const onStaff = async (c: C, run: () => Promise<Flash>) => {
    let flash: Flash;
    let status = 200;
    try {
      flash = await run();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      flash = { error: err.message };
      status = err.status;
    }
    return c.html(await staffScreen(c.var.admin, config(c.env).access !== null, flash), status as 200);
  };

  app.get("/f/staff", async (c) => c.html(await staffScreen(c.var.admin, config(c.env).access !== null)));

  action("/f/staff", "PUT /staff/{email}", (c) =>
    onStaff(c, async () => {
      const f = await form(c);
      if (!isRole(f.role)) throw apiError("invalid_request", "Role: viewer, operator or admin.");
      const row = await putStaff(c.var.admin, f.email ?? "", f.role);
      return { notice: `${row.email} is now ${row.role}.` };
    }),
  );

  action("/f/staff/remove", "DELETE /staff/{email}", (c) =>
    onStaff(c, async () => {
      const row = await removeStaff(c.var.admin, (await form(c)).email ?? "");
      const fallback = config(c.env).access?.defaultRole ?? null;
      return {
        notice: fallback
          ? `Removed ${row.email}: Cloudflare Access still lets them in, with the default role ${fallback} (ACCESS_DEFAULT_ROLE).`
          : `Removed ${row.email}: they have no role here any more.`,
      };
    }),
  );

  app.get("/f/usage", async (c) => c.html(await usageScreen(c.env, c.var.admin, monthOf(c.req.query("month")))));

  // The month's CSV, as the admin API's GET /usage?format=csv serves it; the script saves it as a file.
  app.get("/f/usage/export", async (c) => {
    const month = monthOf(c.req.query("month") ?? "");
    const csv = monthlyCsv(month, await monthlyUsage(c.env, c.var.state.counters, month));
    return c.body(csv, 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="usage-${month}.csv"`,
    });
  });

  app.get("/f/webhooks", async (c) => c.html(await webhooksScreen(c.env, c.var.admin)));
  app.get("/f/webhooks/:id", async (c) => c.html(await webhookScreen(c.env, c.var.admin, webhookId(c))));

  action("/f/webhooks", "POST /webhooks", (c) =>
    after<WebhooksFlash>(
      c,
      async () => {
        const input = webhookFrom(await c.req.parseBody({ all: true }));
        const created = await createAlertWebhook(c.env, c.var.admin, input);
        const name = created.webhook.name ?? created.webhook.id;
        return { created, notice: `Registered ${name}. Its signing secret is below, shown this once.` };
      },
      (flash) => webhooksScreen(c.env, c.var.admin, flash),
    ),
  );

  action("/f/webhooks/:id/test", "POST /webhooks/{id}/test", (c) => {
    const id = webhookId(c);
    return after(
      c,
      async () => {
        const d = await testAlertWebhook(c.env, c.var.admin, id);
        if (d.status === "delivered") return { notice: `Test delivered (HTTP ${d.lastStatus}).` };
        const why = d.lastStatus !== null ? `HTTP ${d.lastStatus}` : (d.lastError ?? "no answer");
        return { error: `The test was not accepted (${why}); it is retried on the usual schedule.` };
      },
      (flash) => webhookScreen(c.env, c.var.admin, id, flash),
    );
  });

  action("/f/webhooks/:id/delete", "DELETE /webhooks/{id}", (c) =>
    after(
      c,
      async () => {
        const webhook = await deleteAlertWebhook(c.env, c.var.admin, webhookId(c));
        return { notice: `Deleted ${webhook.name ?? webhook.id}: nothing more is sent to it.` };
      },
      (flash) => webhooksScreen(c.env, c.var.admin, flash),
    ),
  );

  app.onError(async (err, c) => {
    if (!(err instanceof ApiError)) return toErrorResponse(err, c.var.requestId, c.req.path);
    if (!c.req.path.startsWith("/console/f/")) return toErrorResponse(err, c.var.requestId, c.req.path);
    return c.html(
      String(await (<Screen title="Problem" flash={{ error: err.message }} children={null} />)),
      err.status,
    );
  });
  return app;
}
