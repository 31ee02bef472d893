import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { testWebhook } from "../alerts/webhooks";
import type { AppVariables } from "../app-types";
import { config } from "../config";
import type { Env } from "../env";
import { ApiError, apiError, toErrorResponse } from "../errors";
import { authenticateAdmin } from "../lib/admin-token";
import { createAlertWebhook, deleteAlertWebhook } from "../tenants/alert-webhooks";
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
import { planOf, tenantScreen } from "./screens/tenant";
import { tenantQuery, tenantsScreen } from "./screens/tenants";
import { monthOf, usageScreen } from "./screens/usage";
import { WEBHOOK_ID, type WebhooksFlash, webhookScreen, webhooksScreen } from "./screens/webhooks";
import { ConsoleShell } from "./shell";

type ConsoleEnv = {
  Bindings: Env;
  Variables: AppVariables & { admin: TenantContext; secureHeadersNonce?: string };
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
  app.get("/", (c) => c.html(<ConsoleShell nonce={c.var.secureHeadersNonce!} />));

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
    const actor = await authenticateAdmin(c.req.header("authorization"), config(c.env).adminTokens, "console");
    c.set("admin", tenantContext(c.env, c.var.state, c.var.requestId, actor));
    await next();
  });

  app.get("/f/overview", async (c) => c.html(await overviewScreen(c.env, c.var.admin)));
  app.get("/f/tenants", async (c) => c.html(await tenantsScreen(c.var.admin, tenantQuery(c.req.query()))));
  app.get("/f/tenants/:id", async (c) => c.html(await tenantScreen(c.env, c.var.admin, tenantId(c))));

  app.post("/f/tenants/:id/update", (c) =>
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

  app.post("/f/tenants/:id/plan", (c) =>
    onTenant(c, async (deps, id) => {
      const plan = planFrom(await form(c), planOf(await loadTenant(deps, id)));
      if (Object.keys(plan).length === 0) return { notice: "The plan is as it was: nothing changed." };
      await updateTenant(deps, id, { plan });
      return { notice: "Plan saved: every isolate applies it within seconds." };
    }),
  );

  app.post("/f/tenants/:id/status", (c) =>
    onTenant(c, async (deps, id) => {
      const status = (await form(c)).status;
      if (status !== "active" && status !== "inactive") throw apiError("invalid_request", "Unknown status.");
      await updateTenant(deps, id, { status });
      return { notice: status === "inactive" ? "Suspended: messaging is blocked." : "Reactivated." };
    }),
  );

  app.post("/f/tenants/:id/rotate-key", (c) =>
    onTenant(c, async (deps, id) => {
      const r = await rotateKey(deps, id);
      return {
        notice: `New key ${r.keyPrefix}… in use; the previous one ${r.previousKeyRevoked ? "is revoked" : "could not be revoked yet"}.`,
      };
    }),
  );

  app.post("/f/tenants/:id/deactivate", (c) =>
    onTenant(c, async (deps, id) => {
      const tenant = await loadTenant(deps, id);
      if ((await form(c)).confirm !== tenant.name) {
        throw apiError("invalid_request", "The name typed does not match; nothing was changed.");
      }
      const { keysRevoked } = await deactivateTenant(deps, id);
      return { notice: `Deactivated; ${keysRevoked} key(s) revoked.` };
    }),
  );

  app.post("/f/tenants/:id/setup-link", (c) =>
    onTenant(c, async (deps, id) => {
      const hours = hoursFrom((await form(c)).expiresInHours);
      const { link, url } = await createOnboardingLink(deps, { tenantId: id, expiresInHours: hours }, origin(c));
      return { newLink: { id: link.id, url, expiresAt: new Date(link.expiresAt).toISOString() } };
    }),
  );

  app.post("/f/tenants/:id/phone-numbers", (c) =>
    onTenant(c, async (deps, id) => {
      const phoneNumber = (await form(c)).phoneNumber ?? "";
      const bought = await purchasePhoneNumber(deps, id, { phoneNumber });
      return { notice: `Bought ${bought.phoneNumber}; it is charged to this tenant's sub-account.` };
    }),
  );

  app.post("/f/tenants/:id/phone-numbers/:numberId/release", (c) =>
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

  app.post("/f/tenants/:id/events/:deliveryId/replay", async (c) => {
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
  });

  app.get("/f/links", async (c) => {
    const status = linkStatusOf(c.req.query("status"));
    const cursor = c.req.query("cursor");
    return c.html(
      await linksScreen(c.var.admin, { status, cursor: cursor && LINK_ID.test(cursor) ? cursor : undefined }),
    );
  });

  app.post("/f/links", (c) =>
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

  app.post("/f/links/:id/revoke", (c) =>
    onLinks(c, async (deps) => {
      const id = c.req.param("id");
      if (!LINK_ID.test(id)) throw apiError("not_found", "Onboarding link not found.");
      await revokeOnboardingLink(deps, id);
      return { notice: `Revoked ${id}: its portal no longer opens.` };
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

  app.post("/f/webhooks", (c) =>
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

  app.post("/f/webhooks/:id/test", (c) => {
    const id = webhookId(c);
    return after(
      c,
      async () => {
        const d = await testWebhook(c.env, c.var.state.counters, id);
        if (d.status === "delivered") return { notice: `Test delivered (HTTP ${d.lastStatus}).` };
        const why = d.lastStatus !== null ? `HTTP ${d.lastStatus}` : (d.lastError ?? "no answer");
        return { error: `The test was not accepted (${why}); it is retried on the usual schedule.` };
      },
      (flash) => webhookScreen(c.env, c.var.admin, id, flash),
    );
  });

  app.post("/f/webhooks/:id/delete", (c) =>
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
