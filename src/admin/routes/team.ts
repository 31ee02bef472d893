import type { OpenAPIHono } from "@hono/zod-openapi";
import * as z from "../../lib/zod";
import { upstreamFailure } from "../../tenants/lifecycle";
import { type AdminEnv, adminRoute, errors, json } from "./common";

const Team = z
  .object({
    balance: z.number().int().openapi({ description: "The team's balance in cents, from Zavu" }),
    currency: z.string(),
    tenants: z.object({
      provisioning: z.number().int(),
      active: z.number().int(),
      inactive: z.number().int(),
      deactivated: z.number().int(),
    }),
    ledger: z.object({
      available: z.number().int().nullable().openapi({ description: "Cents the gateway may still admit" }),
      estimate: z.number().int().openapi({ description: "The cost it reserves per send (cents)" }),
    }),
  })
  .openapi("Team");

const team = adminRoute({
  method: "get",
  path: "/team",
  summary: "The team's balance (also refreshes the gateway's team spend ledger) and tenants by status",
  responses: {
    200: json(Team, "The team"),
    ...errors("unauthorized", "upstream_error", "upstream_unavailable", "upstream_timeout"),
  },
});

export function registerTeamRoutes(app: OpenAPIHono<AdminEnv>) {
  app.openapi(team, async (c) => {
    const deps = c.var.admin;
    const [{ balance, currency }, tenants] = await Promise.all([
      deps.zavu.teamBalance().catch(upstreamFailure),
      deps.repo.countByStatus(),
    ]);
    const subject = { kind: "team" } as const;
    const ledger = await deps.ledger(subject).snapshot(subject, true);
    return c.json(
      { balance, currency, tenants, ledger: { available: ledger.available, estimate: ledger.estimate } },
      200,
    );
  });
}
