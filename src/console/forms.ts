import { apiError } from "../errors";
import { PLAN_LIMITS, type PlanLimit, planValueProblem } from "../lib/plan-values";
import { nameProblem } from "../lib/visible-text";
import type { PlanLimits, PlanOverrides } from "../storage/tenants";
import { CreateWebhookSchema } from "../tenants/schemas";

/** A form's text fields (files and repeated names ignored). */
export function fields(body: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v.slice(0, 10_000).trim();
  return out;
}

/** "12.50" USD -> 1250 cents; empty -> null (no cap). */
export function centsFromDollars(raw: string | undefined, label: string): number | null {
  if (!raw) return null;
  if (!/^\d{1,12}(\.\d{1,2})?$/.test(raw))
    throw apiError("invalid_request", `${label}: give an amount in USD, like 250 or 99.50.`);
  return Math.round(Number(raw) * 100);
}

export function metadataFrom(raw: string | undefined): Record<string, unknown> | null {
  if (!raw) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw apiError("invalid_request", 'Metadata: give a JSON object, like {"plan": "pro"}.');
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw apiError("invalid_request", 'Metadata: give a JSON object, like {"plan": "pro"}.');
  }
  if (JSON.stringify(parsed).length > 8192) throw apiError("invalid_request", "Metadata: at most 8 KiB.");
  return parsed as Record<string, unknown>;
}

export function hoursFrom(raw: string | undefined): number {
  const hours = Number(raw || 72);
  if (!Number.isInteger(hours) || hours < 1 || hours > 720) {
    throw apiError("invalid_request", "Expires in: between 1 and 720 hours.");
  }
  return hours;
}

export function nameFrom(raw: string | undefined, label = "Name"): string {
  const problem = nameProblem(raw ?? "");
  if (problem) throw apiError("invalid_request", `${label} ${problem}.`);
  return raw!;
}

export const PLAN_LABELS: Record<PlanLimit, string> = {
  requestsPerSecond: "Requests per second",
  sendsPerMinute: "Sends per minute",
  dailySends: "Sends per UTC day",
};

/**
 * The plan form's limits that differ from those in force: empty is unlimited, anything else a whole
 * number, checked by the admin API's own rule (planValueProblem). Limits not changed are left out, so
 * one that follows the deployment's default keeps following it.
 */
export function planFrom(f: Record<string, string>, current: PlanLimits): PlanOverrides {
  const changes: PlanOverrides = {};
  for (const limit of PLAN_LIMITS) {
    const raw = f[limit];
    if (raw === undefined) continue;
    const label = PLAN_LABELS[limit];
    if (raw !== "" && !/^\d{1,15}$/.test(raw)) {
      throw apiError("invalid_request", `${label}: give a whole number, or nothing for unlimited.`);
    }
    const value = raw === "" ? null : Number(raw);
    const problem = planValueProblem(limit, value);
    if (problem) throw apiError("invalid_request", `${label} ${problem.replace("null (unlimited)", "unlimited")}.`);
    if (value !== current[limit]) changes[limit] = value;
  }
  return changes;
}

/**
 * A webhook registration from its form (name, url, the events ticked), checked by the admin API's
 * schema (CreateWebhookSchema); the alerts service then applies the URL policy.
 */
export function webhookFrom(body: Record<string, unknown>): { name?: string; url: string; events: string[] } {
  const text = (v: unknown) => (typeof v === "string" ? v.trim() : "");
  const raw = body.events;
  const events = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(text).filter(Boolean);
  if (events.length === 0) throw apiError("invalid_request", "Events: tick at least one.");
  const name = text(body.name);
  const parsed = CreateWebhookSchema.safeParse({ name: name || undefined, url: text(body.url), events });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? "");
    const label = field === "url" ? "URL" : field === "events" ? "Events" : "Name";
    throw apiError("invalid_request", `${label}: ${field === "events" ? "unknown event" : issue.message}.`);
  }
  return parsed.data;
}
