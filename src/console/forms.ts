import { apiError } from "../errors";
import { nameProblem } from "../lib/visible-text";

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
