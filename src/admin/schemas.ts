import { type PlanLimit, planValueProblem, REQUESTS_PER_SECOND, SENDS_PER_MINUTE } from "../lib/plan-values";
import * as z from "../lib/zod";
import {
  Claim,
  CreateWebhookSchema,
  ExternalId,
  IdentityInputSchema,
  Name,
  WebhookEventType,
} from "../tenants/schemas";

export { CreateWebhookSchema, ExternalId, IdentityInputSchema, Name, WebhookEventType };

export const ErrorSchema = z
  .object({
    code: z.string().openapi({ example: "invalid_request" }),
    message: z.string(),
    details: z.unknown().optional(),
  })
  .openapi("Error");

const Metadata = z
  .record(z.string(), z.unknown())
  .refine((m) => JSON.stringify(m).length <= 8192, "metadata must serialize to at most 8 KiB");
const Cents = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const IdentitySchema = z
  .object({
    issuer: z.string(),
    audience: z.array(z.string()).nullable(),
    jwksUri: z.string().nullable(),
    jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).nullable(),
    algorithms: z.array(z.string()).nullable(),
    claim: Claim.nullable(),
  })
  .openapi("Identity");

const planValue = (limit: PlanLimit) =>
  z
    .number()
    .int()
    .nullable()
    .superRefine((value, ctx) => {
      const problem = planValueProblem(limit, value);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    });

export const PlanInputSchema = z
  .object({
    requestsPerSecond: planValue("requestsPerSecond")
      .optional()
      .openapi({ description: `Requests a second, all routes (null = unlimited): ${REQUESTS_PER_SECOND.join(", ")}` }),
    sendsPerMinute: planValue("sendsPerMinute")
      .optional()
      .openapi({ description: `Sends a minute (null = unlimited): ${SENDS_PER_MINUTE.join(", ")}` }),
    dailySends: planValue("dailySends")
      .optional()
      .openapi({ description: "Sends a UTC day, exact across isolates (null = unlimited)" }),
  })
  .strict()
  .openapi("PlanInput", {
    description: "The tenant's limits; one left out keeps its current value (on create: the deployment's default)",
  });

export const PlanSchema = z
  .object({
    requestsPerSecond: z.number().int().nullable(),
    sendsPerMinute: z.number().int().nullable(),
    dailySends: z.number().int().nullable(),
  })
  .openapi("Plan", {
    description: "The limits in force (the tenant's own over the deployment's defaults); null = unlimited",
  });

export const TenantSchema = z
  .object({
    id: z.string().openapi({ example: "tnt_01jd5x7k2m9q3r8s4t6v0w1y2z" }),
    name: z.string(),
    externalId: z.string().nullable(),
    status: z.enum(["provisioning", "active", "inactive", "deactivated"]),
    creditLimit: z.number().int().nullable().openapi({ description: "Cents; null = no cap" }),
    totalSpent: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "Cents, from Zavu (or the cache when Zavu did not answer)" }),
    metadata: z.record(z.string(), z.unknown()).nullable(),
    subAccountId: z.string().nullable(),
    identity: IdentitySchema.nullable(),
    plan: PlanSchema,
    keyPrefix: z.string().nullable(),
    createdAt: z.string().openapi({ format: "date-time" }),
    updatedAt: z.string().openapi({ format: "date-time" }),
  })
  .openapi("Tenant");

export const TenantEnvelope = z.object({ tenant: TenantSchema }).openapi("TenantResponse");

export const CreateTenantSchema = z
  .object({
    name: Name,
    externalId: ExternalId.optional(),
    creditLimit: Cents.optional().openapi({ description: "Cents; 0 or omitted = no cap" }),
    metadata: Metadata.optional(),
    plan: PlanInputSchema.optional(),
    identity: IdentityInputSchema,
  })
  .strict()
  .openapi("CreateTenant");

export const ImportTenantSchema = z
  .object({
    subAccountId: z.string().min(1).max(200),
    apiKey: z
      .string()
      .min(8)
      .max(500)
      .openapi({ description: "The sub-account's key; stored encrypted, never shown again" }),
    name: Name.optional(),
    externalId: ExternalId.optional(),
    metadata: Metadata.optional(),
    plan: PlanInputSchema.optional(),
    identity: IdentityInputSchema,
  })
  .strict()
  .openapi("ImportTenant");

export const UpdateTenantSchema = z
  .object({
    name: Name.optional(),
    externalId: ExternalId.nullable().optional(),
    creditLimit: Cents.nullable().optional().openapi({ description: "Cents; null or 0 removes the cap" }),
    metadata: Metadata.nullable().optional(),
    status: z.enum(["active", "inactive"]).optional(),
    plan: PlanInputSchema.optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, "give at least one field to change")
  .openapi("UpdateTenant");

export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(200).optional(),
  status: z.enum(["provisioning", "active", "inactive", "deactivated"]).optional(),
  externalId: z.string().max(200).optional(),
});

export const TenantList = z
  .object({ items: z.array(TenantSchema), nextCursor: z.string().nullable() })
  .openapi("TenantList");

export const IdParam = z.object({
  id: z
    .string()
    .regex(/^tnt_[0-9a-z]{26}$/, "not a tenant id")
    .openapi({ param: { name: "id", in: "path" } }),
});

export const BalanceSchema = z
  .object({
    balance: z.number().int(),
    currency: z.string(),
    creditLimit: z.number().int().nullable(),
    totalSpent: z.number().int(),
    ledger: z
      .object({
        available: z.number().int().nullable().openapi({ description: "Cents the gateway may still admit" }),
        estimate: z.number().int().openapi({ description: "The cost it reserves per send (cents)" }),
        refreshedAt: z.number().int(),
      })
      .nullable()
      .openapi({ description: "The gateway's spend ledger for this tenant (null without a credit limit)" }),
  })
  .openapi("TenantBalance");

export const ApiKeyListSchema = z
  .object({
    items: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        environment: z.string(),
        keyPrefix: z.string(),
        createdAt: z.number(),
        lastUsedAt: z.number().nullable(),
        revokedAt: z.number().nullable(),
        current: z.boolean().openapi({ description: "The key the gateway uses for this tenant" }),
      }),
    ),
  })
  .openapi("ApiKeyList");

export const PhoneNumberSchema = z
  .object({
    id: z.string(),
    phoneNumber: z.string().openapi({ example: "+15550100001" }),
    status: z.string().optional(),
    capabilities: z.array(z.string()).optional(),
    name: z.string().optional(),
    senderId: z.string().optional(),
    createdAt: z.string().optional(),
    monthlyCost: z.number().optional().openapi({ description: "What Zavu charges the sub-account a month (USD)" }),
  })
  .openapi("PhoneNumber", { description: "A number the tenant's sub-account owns, as Zavu describes it" });

export const PhoneNumberList = z
  .object({ items: z.array(PhoneNumberSchema), nextCursor: z.string().nullable() })
  .openapi("PhoneNumberList");

export const PhoneNumberListQuery = z.object({
  cursor: z
    .string()
    .max(512)
    .optional()
    .openapi({ param: { name: "cursor", in: "query" } }),
});

export const PurchasePhoneNumber = z
  .object({
    phoneNumber: z
      .string()
      .regex(/^\+[1-9]\d{6,14}$/, "must be in E.164 format")
      .openapi({ example: "+15550100001" }),
    name: Name.optional(),
  })
  .strict()
  .openapi("PurchasePhoneNumber");

export const PhoneNumberParams = z.object({
  id: z
    .string()
    .regex(/^tnt_[0-9a-z]{26}$/, "not a tenant id")
    .openapi({ param: { name: "id", in: "path" } }),
  numberId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,128}$/, "not a phone number id")
    .openapi({ param: { name: "numberId", in: "path" } }),
});

export const RotateResult = z
  .object({ keyId: z.string(), keyPrefix: z.string(), previousKeyRevoked: z.boolean() })
  .openapi("RotateKeyResult");

export const DeleteResult = z
  .object({ tenant: TenantSchema, keysRevoked: z.number().int() })
  .openapi("DeleteTenantResult");

export const AuditQuery = z.object({
  tenantId: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(50).optional(),
});

export const AuditList = z
  .object({
    items: z.array(
      z.object({
        id: z.number(),
        at: z.string(),
        actor: z.string(),
        action: z.string(),
        tenantId: z.string().nullable(),
        requestId: z.string().nullable(),
        detail: z.record(z.string(), z.unknown()).nullable(),
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .openapi("AuditList");

export const WebhookSchema = z
  .object({
    id: z.string().openapi({ example: "whk_01jd5x7k2m9q3r8s4t6v0w1y2z" }),
    name: z.string().nullable(),
    url: z.string(),
    events: z.array(z.string()),
    secret: z
      .string()
      .optional()
      .openapi({ description: "whsec_…: only in the answer that created the webhook (Standard Webhooks signing key)" }),
    createdAt: z.string(),
    deletedAt: z.string().nullable(),
  })
  .openapi("Webhook");

export const WebhookIdParam = z.object({
  id: z
    .string()
    .regex(/^whk_[0-9a-z]{26}$/, "not a webhook id")
    .openapi({ param: { name: "id", in: "path" } }),
});

export const DeliverySchema = z
  .object({
    id: z.string(),
    eventId: z.string().openapi({ description: "The webhook-id header (the same on every attempt)" }),
    type: z.string(),
    status: z.enum(["pending", "delivered", "failed", "cancelled"]),
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable(),
    lastAttemptAt: z.string().nullable(),
    lastStatus: z.number().int().nullable().openapi({ description: "The receiver's HTTP status" }),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    deliveredAt: z.string().nullable(),
  })
  .openapi("WebhookDelivery");

export const EventDeliverySchema = z
  .object({
    id: z.string().openapi({ description: "edl_…: this delivery (replay takes it)" }),
    eventId: z.string().openapi({ description: "Zavu's event id (evt_…), the same on every attempt" }),
    type: z.string().openapi({ example: "message.delivered" }),
    senderId: z.string(),
    status: z.enum(["pending", "held", "delivered", "failed", "skipped", "dropped"]).openapi({
      description:
        "held: the tenant is suspended (delivered on reactivation); skipped: the customer has no URL, paused it or did not subscribe to the event; dropped: the tenant is deactivated",
    }),
    attempts: z.number().int(),
    receivedAt: z.string(),
    nextAttemptAt: z.string().nullable(),
    lastAttemptAt: z.string().nullable(),
    lastStatus: z.number().int().nullable().openapi({ description: "The customer's HTTP status" }),
    lastError: z.string().nullable(),
    deliveredAt: z.string().nullable(),
  })
  .openapi("EventDelivery");

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date as YYYY-MM-DD");

export const UsageQuery = z.object({ from: Day.optional(), to: Day.optional() });

export const UsageItem = z
  .object({
    date: z.string(),
    channel: z
      .string()
      .openapi({ description: 'Zavu\'s channel; "unknown" for sends whose answer was not read, and refusals' }),
    sends: z.number().int(),
    refusals: z.record(z.string(), z.number().int()),
    costCents: z.number().int(),
    estimated: z.boolean().openapi({ description: "Part of costCents is an estimate not yet reconciled with Zavu" }),
    estimatedCents: z.number().int(),
    correctedCents: z
      .number()
      .int()
      .openapi({ description: "What reconciliation with Zavu's totalSpent added (or removed)" }),
    delivered: z
      .number()
      .int()
      .openapi({ description: "Zavu's message.delivered events, counted on the UTC day of the event" }),
    failed: z
      .number()
      .int()
      .openapi({ description: "Zavu's message.failed events, counted on the UTC day of the event" }),
  })
  .openapi("UsageRecord");

export const UsageTotals = z
  .object({
    sends: z.number().int(),
    refusals: z.number().int().openapi({ description: "Refusals of every code" }),
    delivered: z.number().int(),
    failed: z.number().int(),
    costCents: z.number().int(),
  })
  .openapi("UsageTotals");

export const MonthlyQuery = z.object({
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "a month as YYYY-MM"),
  format: z.enum(["json", "csv"]).default("json"),
});
