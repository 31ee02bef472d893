import { apiError } from "../errors";
import type { IdentityInput } from "../identity/register";

/**
 * Everything the portal's HTML forms carry. Each step posts what the earlier steps gathered
 * (as hidden fields) plus its own, and the server checks all of it again: the page keeps no
 * state of its own.
 */
export interface PortalForm {
  provider: string;
  /** The preset's own fields (domain, tenant id, ...), as typed. */
  fields: Record<string, string>;
  /** A pasted JWKS, used instead of discovery. */
  jwksText: string;
  /** Set by discovery. */
  issuer: string;
  jwksUri: string;
  algorithms: string;
  audience: string;
  claimName: string;
  claimValue: string;
  token: string;
  name: string;
}

const LIMITS: Record<string, number> = { jwksText: 32_768, token: 16_384 };

export function readForm(body: Record<string, unknown>): PortalForm {
  const text = (key: string) => {
    const v = body[key];
    return typeof v === "string" ? v.slice(0, LIMITS[key] ?? 1_000) : "";
  };
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key.startsWith("f_") && typeof value === "string") fields[key.slice(2)] = value.slice(0, 500);
  }
  return {
    provider: text("provider"),
    fields,
    jwksText: text("jwksText").trim(),
    issuer: text("issuer").trim(),
    jwksUri: text("jwksUri").trim(),
    algorithms: text("algorithms").trim(),
    audience: text("audience").trim(),
    claimName: text("claimName").trim(),
    claimValue: text("claimValue").trim(),
    token: text("token").replace(/\s+/g, ""),
    name: text("name").trim(),
  };
}

export function parseJwksText(jwksText: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(jwksText);
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) return parsed;
  } catch {}
  throw apiError("invalid_request", 'The pasted JWKS is not a JSON object like {"keys": [...]}.');
}

/** The identity, in the admin API's shape, that the form describes. */
export function identityFrom(form: PortalForm): IdentityInput {
  if (!form.issuer) throw apiError("invalid_request", "Find your provider's keys first.");
  if (form.claimName && !form.claimValue)
    throw apiError("invalid_request", "Give the claim's value, or no claim name.");
  if (form.claimValue && !form.claimName) throw apiError("invalid_request", "Give the claim's name, or no value.");
  if (form.claimName && !/^[A-Za-z0-9_:/.-]{1,100}$/.test(form.claimName)) {
    throw apiError("invalid_request", "The claim name may use letters, digits and _ : / . - (at most 100).");
  }
  const algorithms = form.algorithms ? form.algorithms.split(",").filter(Boolean) : [];
  return {
    issuer: form.issuer,
    ...(form.audience ? { audience: form.audience } : {}),
    ...(form.jwksText ? { jwks: parseJwksText(form.jwksText) } : { jwksUri: form.jwksUri }),
    ...(algorithms.length > 0 ? { algorithms } : {}),
    ...(form.claimName ? { claim: { name: form.claimName, value: form.claimValue } } : {}),
  };
}
