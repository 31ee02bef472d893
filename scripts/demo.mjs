#!/usr/bin/env node
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
// npm run demo (with `npm run dev` running): onboards a demo tenant through the admin API (the typed
// client, clients/admin) with a locally generated signing key, sends one message through the gateway
// to the sandbox, and prints a ready JWT, a curl line and an SDK snippet; then the console's URL and
// an onboarding link, with what to paste in the portal to complete it.
import { createAdminClient, unwrap } from "@zavu-gateway/admin-client";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

const root = resolve(import.meta.dirname, "..");
const gateway = process.env.GATEWAY_URL ?? `http://127.0.0.1:${process.env.GATEWAY_PORT ?? 8787}`;

function adminToken() {
  try {
    const vars = readFileSync(resolve(root, ".dev.vars"), "utf8");
    const token = /^ADMIN_TOKEN=(.+)$/m.exec(vars)?.[1]?.split(",")[0]?.trim();
    if (token) return token;
  } catch {}
  throw new Error("No ADMIN_TOKEN in .dev.vars: start the gateway with `npm run dev` first.");
}

/** A customer's call with its JWT (the SDK would do; plain fetch keeps the demo's output short). */
async function call(method, path, { token, body } = {}) {
  const res = await fetch(`${gateway}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

const suffix = Math.random().toString(36).slice(2, 8);
const issuer = `https://demo-idp.example/${suffix}`;
const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
const publicJwk = { ...(await exportJWK(publicKey)), kid: `demo-${suffix}`, alg: "ES256", use: "sig" };

const admin = createAdminClient({ baseUrl: gateway, token: adminToken(), actor: "npm run demo" });

let tenant;
try {
  ({ tenant } = await unwrap(
    admin.POST("/tenants", {
      body: {
        name: `Demo customer ${suffix}`,
        externalId: `demo-${suffix}`,
        creditLimit: 10_000,
        identity: { issuer, audience: "zavu-gateway", jwks: { keys: [publicJwk] } },
      },
    }),
  ));
} catch (err) {
  console.error(`Could not onboard the demo customer at ${gateway}: ${err.message}\nIs \`npm run dev\` running?`);
  process.exit(1);
}

const jwt = await new SignJWT({ sub: "demo-user" })
  .setProtectedHeader({ alg: "ES256", kid: publicJwk.kid })
  .setIssuer(issuer)
  .setAudience("zavu-gateway")
  .setIssuedAt()
  .setExpirationTime("1h")
  .sign(privateKey);

// Keep the demo signing key so more tokens can be minted; .wrangler/ is git-ignored.
mkdirSync(resolve(root, ".wrangler/demo"), { recursive: true });
writeFileSync(
  resolve(root, `.wrangler/demo/${tenant.id}.private.jwk.json`),
  JSON.stringify({ issuer, ...(await exportJWK(privateKey)), kid: publicJwk.kid }),
  { mode: 0o600 },
);

// A second, not yet onboarded customer: an onboarding link for the portal, and what its admin would
// paste there (issuer, public JWKS, a test token) to go live without an identity provider of their own.
const prospect = await generateKeyPair("ES256", { extractable: true });
const prospectIssuer = `https://prospect-idp.example/${suffix}`;
const prospectJwk = { ...(await exportJWK(prospect.publicKey)), kid: `prospect-${suffix}`, alg: "ES256", use: "sig" };
const prospectToken = await new SignJWT({ sub: "prospect-admin" })
  .setProtectedHeader({ alg: "ES256", kid: prospectJwk.kid })
  .setIssuer(prospectIssuer)
  .setAudience("zavu-gateway")
  .setIssuedAt()
  .setExpirationTime("1h")
  .sign(prospect.privateKey);
const { link } = await unwrap(
  admin.POST("/onboarding-links", {
    body: { name: `Prospect ${suffix}`, externalId: `prospect-${suffix}`, creditLimit: 5_000, expiresInHours: 24 },
  }),
);

const sent = await call("POST", "/v1/messages", {
  token: jwt,
  body: { to: "+15551234567", text: "Hello from the Zavu gateway demo" },
});

console.log(`
Demo tenant ${tenant.id} (${tenant.name}) is active: sub-account ${tenant.subAccountId}, key ${tenant.keyPrefix}...
A message went through the gateway to the sandbox: ${sent.message.id} (${sent.message.status}, $${sent.message.costTotal})

JWT (valid 1 hour):
${jwt}

curl:
curl -s --compressed ${gateway}/v1/messages -H "Authorization: Bearer ${jwt}" -H "Content-Type: application/json" -d '{"to":"+15551234567","text":"Hi"}'

SDK (npm install @zavudev/sdk):
import Zavudev from "@zavudev/sdk";
const zavu = new Zavudev({ apiKey: process.env.JWT, baseURL: "${gateway}" });
const { message } = await zavu.messages.send({ to: "+15551234567", text: "Hi" });
console.log(message.id, await zavu.balance.retrieve());

Console (the reseller's view; sign in with ADMIN_TOKEN from .dev.vars):
  ${gateway}/console

Onboarding link for a new customer (single use, 24 hours):
  ${link.url}
  In the portal pick "Any OpenID Connect provider", issuer ${prospectIssuer}
  open "Or paste your JWKS" and paste: ${JSON.stringify({ keys: [prospectJwk] })}
  audience: zavu-gateway, and this token (valid 1 hour) as the test token:
  ${prospectToken}
`);
