import { ALERT_TYPES } from "../alerts/events";
import { DEFAULT_ALGORITHMS, MAX_JWKS_URI_LENGTH } from "../identity/jwks";
import { identifierProblem, MAX_NAME_LENGTH, nameProblem } from "../lib/visible-text";
import * as z from "../lib/zod";

/*
 * What callers of the tenant service send, checked the same way wherever it comes from: the admin API's
 * schemas (admin/schemas.ts) are built on these, and the onboarding portal validates its forms with them.
 */

/**
 * An issuer, audience or claim value: what a token must match exactly. Control and invisible
 * characters are refused, so two registrations can never differ only in what nobody can see.
 */
const Identifier = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .superRefine((value, ctx) => {
      const problem = identifierProblem(value);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    });

/** A tenant's, link's or webhook's name: visible characters only (the services check it too, for every other path). */
export const Name = z
  .string()
  .max(MAX_NAME_LENGTH)
  .superRefine((value, ctx) => {
    const problem = nameProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

/** A reseller's own id for a tenant: visible characters only, as an identifier is. */
export const ExternalId = Identifier(200);

export const Claim = z.object({
  name: z.string().regex(/^[A-Za-z0-9_:/.-]{1,100}$/, "claim.name may use letters, digits and _ : / . - (at most 100)"),
  value: Identifier(200),
});

export const IdentityInputSchema = z
  .object({
    issuer: Identifier(500).openapi({ example: "https://acme.eu.auth0.com/" }),
    audience: z.union([Identifier(500), z.array(Identifier(500)).min(1).max(10)]).optional(),
    jwksUri: z
      .string()
      .max(MAX_JWKS_URI_LENGTH)
      .optional()
      .openapi({ example: "https://acme.eu.auth0.com/.well-known/jwks.json" }),
    jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1).max(20) }).optional(),
    algorithms: z.array(z.string()).min(1).max(DEFAULT_ALGORITHMS.length).optional(),
    claim: Claim.optional().openapi({
      description: "Tells apart tenants that share one issuer, e.g. {name: 'org_id', value: 'org_123'}",
    }),
  })
  .strict()
  .openapi("IdentityInput");

/** What a reseller's webhook may subscribe to (the admin API and the console take the same). */
export const WebhookEventType = z.enum(ALERT_TYPES);

export const CreateWebhookSchema = z
  .object({
    name: Name.optional().openapi({ example: "Billing system" }),
    url: z.string().min(1).max(2048).openapi({ example: "https://billing.example.com/hooks/zavu" }),
    events: z.array(WebhookEventType).min(1).max(ALERT_TYPES.length),
  })
  .strict()
  .openapi("CreateWebhook");
