import type { OpenAPIHono } from "@hono/zod-openapi";
import * as z from "../../lib/zod";
import {
  createOnboardingLink,
  DEFAULT_LINK_HOURS,
  listOnboardingLinks,
  MAX_LINK_HOURS,
  revokeOnboardingLink,
} from "../../tenants/onboarding-links";
import { decodeCursor, encodeCursor, presentLink } from "../present";
import * as S from "../schemas";
import { type AdminEnv, adminRoute, errors, json, jsonBody } from "./common";

const LINK_STATUSES = ["pending", "completed", "expired", "revoked"] as const;

const CreateLinkSchema = z
  .object({
    name: S.Name.optional().openapi({ description: "Prefilled; the customer may change it" }),
    externalId: S.ExternalId.optional(),
    creditLimit: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional().openapi({
      description: "Cents; 0 or omitted = no cap",
    }),
    metadata: z
      .record(z.string(), z.unknown())
      .refine((m) => JSON.stringify(m).length <= 8192, "metadata must serialize to at most 8 KiB")
      .optional(),
    tenantId: z
      .string()
      .regex(/^tnt_[0-9a-z]{26}$/, "not a tenant id")
      .optional()
      .openapi({
        description: "An existing tenant: the link lets it replace its identity configuration",
      }),
    expiresInHours: z.number().int().min(1).max(MAX_LINK_HOURS).default(DEFAULT_LINK_HOURS),
  })
  .strict()
  .openapi("CreateOnboardingLink");

const LinkSchema = z
  .object({
    id: z.string().openapi({ example: "lnk_01jd5x7k2m9q3r8s4t6v0w1y2z" }),
    url: z
      .string()
      .optional()
      .openapi({ description: "Only in the answer that created the link: it holds the secret" }),
    purpose: z.enum(["create", "identity"]),
    status: z.enum(LINK_STATUSES),
    tenantId: z.string().nullable(),
    name: z.string().nullable(),
    externalId: z.string().nullable(),
    creditLimit: z.number().int().nullable(),
    metadata: z.record(z.string(), z.unknown()).nullable(),
    createdBy: z.string(),
    createdAt: z.string(),
    expiresAt: z.string(),
    completedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .openapi("OnboardingLink");

const LinkEnvelope = z.object({ link: LinkSchema }).openapi("OnboardingLinkResponse");

const LinkIdParam = z.object({
  id: z
    .string()
    .regex(/^lnk_[0-9a-z]{26}$/, "not an onboarding link id")
    .openapi({ param: { name: "id", in: "path" } }),
});

const create = adminRoute({
  method: "post",
  path: "/onboarding-links",
  summary: "Create a single-use link to the customer's onboarding portal (new customer, or a tenant's new identity)",
  request: { body: jsonBody(CreateLinkSchema) },
  responses: {
    201: json(LinkEnvelope, "The link, with its URL (shown this once)"),
    ...errors("invalid_request", "unauthorized", "not_found", "conflict", "invalid_state"),
  },
});

const list = adminRoute({
  method: "get",
  path: "/onboarding-links",
  summary: "List onboarding links, newest first (keyset pagination)",
  request: {
    query: z.object({
      status: z.enum(LINK_STATUSES).optional(),
      limit: z.coerce.number().int().min(1).max(100).default(50),
      cursor: z.string().max(100).optional(),
    }),
  },
  responses: {
    200: json(
      z.object({ items: z.array(LinkSchema), nextCursor: z.string().nullable() }).openapi("OnboardingLinkList"),
      "A page of links, newest first",
    ),
    ...errors("invalid_request", "unauthorized"),
  },
});

const revoke = adminRoute({
  method: "delete",
  path: "/onboarding-links/{id}",
  summary: "Revoke a link: its portal stops working at once (a used link cannot be revoked)",
  request: { params: LinkIdParam },
  responses: {
    200: json(LinkEnvelope, "The revoked link"),
    ...errors("unauthorized", "not_found", "invalid_state"),
  },
});

export function registerOnboardingLinkRoutes(app: OpenAPIHono<AdminEnv>) {
  app.openapi(create, async (c) => {
    const { link, url } = await createOnboardingLink(c.var.admin, c.req.valid("json"), new URL(c.req.url).origin);
    return c.json({ link: presentLink(link, url) }, 201);
  });

  app.openapi(list, async (c) => {
    const q = c.req.valid("query");
    const { items, next } = await listOnboardingLinks(c.var.admin, {
      status: q.status,
      limit: q.limit,
      before: decodeCursor(q.cursor),
    });
    return c.json({ items: items.map((l) => presentLink(l)), nextCursor: next ? encodeCursor(next) : null }, 200);
  });

  app.openapi(revoke, async (c) => {
    return c.json({ link: presentLink(await revokeOnboardingLink(c.var.admin, c.req.valid("param").id)) }, 200);
  });
}
