#!/usr/bin/env node
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
// npm run demo (with `npm run dev` running): onboards a demo tenant through the admin API (the typed
// client, clients/admin) with a locally generated signing key, makes it a sender whose webhook is the
// sandbox's receiver, sends one message through the gateway to the sandbox, and prints the delivery
// receipt that came back through the gateway's relay (its signature checked); then a ready JWT, a curl
// line and an SDK snippet, the console's URL and an onboarding link, with what to paste in the portal.
import { createAdminClient, unwrap } from "@zavu-gateway/admin-client";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

const root = resolve(import.meta.dirname, "..");
const gateway = process.env.GATEWAY_URL ?? `http://127.0.0.1:${process.env.GATEWAY_PORT ?? 8787}`;
const sandbox = process.env.SANDBOX_URL ?? `http://127.0.0.1:${process.env.SANDBOX_PORT ?? 8788}`;

function adminToken() {
  try {
    const vars = readFileSync(resolve(root, ".dev.vars"), "utf8");
    const token = /^ADMIN_TOKEN=(.+)$/m.exec(vars)?.[1]?.split(",")[0]?.trim();
    if (token) return token;
  } catch {}
  throw new Error("No ADMIN_TOKEN in .dev.vars: start the gateway with `npm run dev` first.");
}

/** A customer's call with its JWT (the SDK would do; plain fetch keeps the demo's output short). */
async function call(method, path, { token, body, headers } = {}) {
  const res = await fetch(`${gateway}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { "content-type": "application/json" } : {}),
      ...headers,
    },
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

// Two-way: a sender whose webhook is the sandbox's receiver (the customer's URL, as the customer
// sees it); Zavu (the sandbox) posts the message's events to the gateway's relay, which signs them
// with the sender's own secret and delivers them there.
const hook = `demo-${suffix}`;
const sender = await call("POST", "/v1/senders", {
  token: jwt,
  body: {
    name: "Demo support line",
    webhookUrl: `${sandbox}/__sandbox/hooks/${hook}`,
    webhookEvents: ["message.queued", "message.sent", "message.delivered", "message.failed"],
  },
});
const sent = await call("POST", "/v1/messages", {
  token: jwt,
  body: { to: "+15551234567", text: "Hello from the Zavu gateway demo" },
  headers: { "zavu-sender": sender.id },
});
const receipt = await deliveryReceipt(hook, sent.message.id);

/** Waits for the message.delivered event at the sandbox's receiver; checks its X-Zavu-Signature (v2). */
async function deliveryReceipt(name, messageId) {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const res = await fetch(`${sandbox}/__sandbox/hooks?name=${name}`);
    const { items } = await res.json();
    const hit = items.find((h) => {
      const e = JSON.parse(h.body);
      return e.type === "message.delivered" && e.data?.messageId === messageId;
    });
    if (hit) {
      const header = hit.headers["x-zavu-signature"] ?? "";
      const parts = Object.fromEntries(header.split(",").map((p) => p.split("=", 2)));
      const expected = createHmac("sha256", sender.webhook.secret).update(`${parts.t}.${hit.body}`).digest("hex");
      const valid = parts.v2?.length === 64 && timingSafeEqual(Buffer.from(parts.v2), Buffer.from(expected));
      return { event: JSON.parse(hit.body), header, valid, all: items.length };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("No delivery receipt reached the sandbox's receiver within 15 s (is `npm run dev` running both?)");
}

console.log(`
Demo tenant ${tenant.id} (${tenant.name}) is active: sub-account ${tenant.subAccountId}, key ${tenant.keyPrefix}...
A message went through the gateway to the sandbox: ${sent.message.id} (${sent.message.status}, $${sent.message.costTotal})

Its delivery receipt came back through the gateway's relay to sender ${sender.id}'s webhook
(${sender.webhook.url}), ${receipt.all} events so far:
  ${JSON.stringify(receipt.event)}
  X-Zavu-Signature: ${receipt.header}  (${receipt.valid ? "valid" : "INVALID"} for the sender's secret)
  Delivery log: GET ${gateway}/admin/v1/tenants/${tenant.id}/event-deliveries

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
