import { describe, expect, it } from "vitest";
import { applyPreset, PRESETS, presetById } from "./presets";

const build = (id: string, values: Record<string, string>) => applyPreset(presetById(id)!, values);

describe("provider presets", () => {
  it("cover the providers the issue names, each with a hint for every field", () => {
    expect(PRESETS.map((p) => p.label)).toEqual([
      "Auth0",
      "Okta",
      "Microsoft Entra ID",
      "Google",
      "AWS Cognito",
      "Clerk",
      "Firebase Auth",
      "Supabase Auth",
      "Keycloak",
      "WorkOS",
      "Any OpenID Connect provider",
    ]);
    for (const p of PRESETS) for (const f of p.fields) expect(f.hint.length).toBeGreaterThan(20);
  });

  it("build each provider's exact issuer from what it asks for", () => {
    expect(build("auth0", { domain: "https://Acme.EU.auth0.com/" }).issuer).toBe("https://acme.eu.auth0.com/");
    expect(build("okta", { domain: "acme.okta.com", server: "default" })).toMatchObject({
      issuer: "https://acme.okta.com/oauth2/default",
      audience: "api://default",
    });
    expect(build("entra", { tenant: "72F988BF-86F1-41AF-91AB-2D7CD011DB47" }).issuer).toBe(
      "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
    );
    expect(build("google", { clientId: "123456789012-abc123.apps.googleusercontent.com" })).toMatchObject({
      issuer: "https://accounts.google.com",
      audience: "123456789012-abc123.apps.googleusercontent.com",
      claim: { name: "azp", value: "123456789012-abc123.apps.googleusercontent.com" },
    });
    // Google signs for every app under one issuer: without the client ID there is no identity to build.
    const missing = build("google", {});
    expect(missing.issuer).toBeUndefined();
    expect(missing.problems).toEqual({ clientId: "OAuth client ID is required" });
    expect(build("cognito", { pool: "eu-west-1_AbCdEf123" }).issuer).toBe(
      "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123",
    );
    expect(build("clerk", { domain: "clerk.acme.com" }).issuer).toBe("https://clerk.acme.com");
    expect(build("firebase", { project: "acme-prod" })).toMatchObject({
      issuer: "https://securetoken.google.com/acme-prod",
      jwksUri: "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com",
      audience: "acme-prod",
    });
    expect(build("supabase", { project: "abcdefghijklmnopqrst" })).toMatchObject({
      issuer: "https://abcdefghijklmnopqrst.supabase.co/auth/v1",
      jwksUri: "https://abcdefghijklmnopqrst.supabase.co/auth/v1/.well-known/jwks.json",
      audience: "authenticated",
    });
    expect(build("keycloak", { base: "https://sso.acme.com/", realm: "staff" }).issuer).toBe(
      "https://sso.acme.com/realms/staff",
    );
    expect(build("workos", { client: "client_01HABCDEFGHJK" })).toMatchObject({
      issuer: "https://api.workos.com/user_management/client_01HABCDEFGHJK",
      jwksUri: "https://api.workos.com/sso/jwks/client_01HABCDEFGHJK",
    });
    expect(build("oidc", { issuer: "https://login.acme.com/" }).issuer).toBe("https://login.acme.com/");
  });

  it("refuse what cannot be right, field by field, and keep what was typed", () => {
    const bad = build("okta", { domain: "not a host", server: "" });
    expect(bad.issuer).toBeUndefined();
    expect(bad.problems).toEqual({
      domain: "the Okta domain must be a host name such as example.com",
      server: "Authorization server ID is required",
    });
    expect(bad.values.domain).toBe("not a host");
    expect(build("oidc", { issuer: "http://login.acme.com" }).problems.issuer).toMatch(/https URL/);
    expect(build("keycloak", { base: "https://sso.acme.com?x=1", realm: "a" }).problems.base).toMatch(/https URL/);
    expect(build("entra", { tenant: "contoso.onmicrosoft.com" }).problems.tenant).toBe("the tenant ID is a GUID");
    expect(build("auth0", { domain: "a".repeat(600) }).issuer).toBeUndefined();
  });
});
