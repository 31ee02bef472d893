import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppVariables } from "../app-types";
import type { Env } from "../env";
import { ApiError, apiError, errorResponse, toErrorResponse } from "../errors";
import type { IdentityInput } from "../identity/register";
import * as z from "../lib/zod";
import { IdentityInputSchema, Name } from "../tenants/schemas";
import { pageSecurity } from "../ui/security";
import { complete, discover, linkGone, type OpenLink, openLink, testConnection } from "./flow";
import { type PortalForm, readForm } from "./form";
import { renderPortal, renderStop } from "./render";

type PortalEnv = { Bindings: Env; Variables: AppVariables & { secureHeadersNonce?: string } };

function valid<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
  throw apiError("invalid_request", `${details[0]?.path || "body"}: ${details[0]?.message}`, details);
}

async function jsonBody(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw apiError("invalid_request", "The body must be JSON.");
  }
}

const Discover = z.object({ issuer: z.string().min(1).max(500), jwksUri: z.string().max(400).optional() }).strict();
const Test = z.object({ identity: IdentityInputSchema, token: z.string().min(1).max(16_384) }).strict();
const Complete = Test.extend({ name: Name.optional() }).strict();

/** The gateway's public address, for the customer's snippets. */
const gatewayUrl = (c: Context) => new URL(c.req.url).origin;

function linkState(open: OpenLink) {
  const { link, tenant } = open;
  return {
    link: {
      id: link.id,
      purpose: link.purpose,
      status: link.status,
      expiresAt: new Date(link.expiresAt).toISOString(),
      name: link.name,
      tenant: tenant ? { id: tenant.id, name: tenant.name } : null,
    },
  };
}

/**
 * The customer's onboarding portal: HTML at /onboard/{secret} (no script at all: each step is
 * a form post), and the same steps as JSON at /onboard/v1/{secret}/... for scripts. The secret
 * opens this link's portal and nothing else.
 */
export function createPortalApp() {
  const app = new Hono<PortalEnv>();
  app.use(
    bodyLimit({
      maxSize: 64 * 1024,
      onError: () => {
        throw apiError("payload_too_large", "Portal request bodies are limited to 64 KiB.");
      },
    }),
  );

  // ---- JSON ---------------------------------------------------------------------------
  app.get("/v1/:secret", async (c) => {
    const open = await openLink(c.env, c.var.state, c.var.requestId, c.req.param("secret"));
    const gone = linkGone(open.link);
    if (gone) throw gone;
    return c.json(linkState(open), 200);
  });

  app.post("/v1/:secret/discover", async (c) => {
    const open = await openLink(c.env, c.var.state, c.var.requestId, c.req.param("secret"));
    return c.json(await discover(open, valid(Discover, await jsonBody(c))), 200);
  });

  app.post("/v1/:secret/test", async (c) => {
    const open = await openLink(c.env, c.var.state, c.var.requestId, c.req.param("secret"));
    const body = valid(Test, await jsonBody(c));
    return c.json(await testConnection(open, { identity: body.identity as IdentityInput, token: body.token }), 200);
  });

  app.post("/v1/:secret/complete", async (c) => {
    const open = await openLink(c.env, c.var.state, c.var.requestId, c.req.param("secret"));
    const body = valid(Complete, await jsonBody(c));
    const tenant = await complete(open, { ...body, identity: body.identity as IdentityInput });
    return c.json(
      { tenant: { id: tenant.id, name: tenant.name, status: tenant.status }, gatewayUrl: gatewayUrl(c) },
      201,
    );
  });

  // ---- HTML ---------------------------------------------------------------------------
  app.use("/:secret", pageSecurity({ script: false }));

  app.get("/:secret", async (c) => {
    const open = await openLink(c.env, c.var.state, c.var.requestId, c.req.param("secret"));
    const form: PortalForm = { ...readForm({}), provider: c.req.query("provider") ?? "" };
    const page = await renderPortal(c.var.secureHeadersNonce!, open, form, null, gatewayUrl(c));
    return c.html(page.html, page.status as 200);
  });

  app.post("/:secret", async (c) => {
    const open = await openLink(c.env, c.var.state, c.var.requestId, c.req.param("secret"));
    const body = await c.req.parseBody();
    const step = typeof body.step === "string" ? body.step : "";
    const page = await renderPortal(c.var.secureHeadersNonce!, open, readForm(body), step, gatewayUrl(c));
    return c.html(page.html, page.status as 200);
  });

  app.onError(async (err, c) => {
    const retry = err instanceof ApiError && err.code === "rate_limited" ? retryAfter(err) : undefined;
    if (c.req.path.startsWith("/onboard/v1/")) {
      if (err instanceof ApiError) return errorResponse(err, retry ? { "retry-after": retry } : undefined);
      return toErrorResponse(err, c.var.requestId, "/onboard/v1/(secret)");
    }
    const nonce = c.var.secureHeadersNonce;
    if (!(err instanceof ApiError) || !nonce) return toErrorResponse(err, c.var.requestId, "/onboard/(secret)");
    return c.html(String(await renderStop(nonce, err)), err.status, retry ? { "retry-after": retry } : {});
  });
  return app;
}

function retryAfter(err: ApiError): string | undefined {
  const seconds = (err.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
  return seconds ? String(seconds) : undefined;
}
