import { expect } from "vitest";
import { admin } from "./admin";
import { gatewayFetch } from "./gateway";
import { publishJwks, type TestIdp } from "./idp";

/** Creates an onboarding link through the admin API; returns it and the secret from its URL. */
export async function createLink(body: Record<string, unknown> = {}) {
  const res = await admin("POST", "/onboarding-links", { body });
  expect(res.status, res.text).toBe(201);
  const url = new URL(res.body.link.url);
  return { link: res.body.link, url: res.body.link.url as string, secret: url.pathname.split("/").pop()! };
}

export interface PortalResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Calls the portal's JSON API with a link's secret. */
export async function portal<T = any>(secret: string, path = "", body?: unknown): Promise<PortalResult<T>> {
  const res = await gatewayFetch(`/onboard/v1/${secret}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/**
 * Serves an OpenID provider on the test IdP: https://idp.test/<name> as issuer, its discovery
 * document and its JWKS. Returns the issuer.
 */
export async function publishIssuer(idp: TestIdp, name: string, opts: { issuerInDoc?: string } = {}) {
  const jwksUri = await publishJwks(`/${name}/jwks.json`, idp.jwks());
  await publishJwks(`/${name}/.well-known/openid-configuration`, {
    issuer: opts.issuerInDoc ?? idp.issuer,
    jwks_uri: jwksUri,
    id_token_signing_alg_values_supported: [idp.alg],
  });
  return { issuer: idp.issuer, jwksUri };
}

/** Posts an HTML form to the portal page, as a browser would. */
export async function postForm(secret: string, fields: Record<string, string>) {
  return gatewayFetch(`/onboard/${secret}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
}
