#!/usr/bin/env node
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
// A stand-in for Cloudflare Access on your machine (docs/team.md, "Trying it locally").
//   node scripts/access-dev.mjs serve            serves the team's keys at http://127.0.0.1:8790/cdn-cgi/access/certs
//   node scripts/access-dev.mjs sign <email>     prints an assertion for <email> (valid 1 hour)
// `npm run dev -- --access` runs `serve` beside the gateway and sets ACCESS_TEAM_DOMAIN=127.0.0.1:8790 and
// ACCESS_AUD=local-dev-aud. Send the assertion as Access would: -H "Cf-Access-Jwt-Assertion: <assertion>".
// The key pair is kept in .wrangler/access-dev-key.json (git-ignored), so assertions outlive restarts.
import { createServer } from "node:http";
import { resolve } from "node:path";
import { exportJWK, generateKeyPair, importJWK, SignJWT } from "jose";

export const ACCESS_DEV_PORT = Number(process.env.ACCESS_DEV_PORT ?? 8790);
export const ACCESS_DEV_DOMAIN = `127.0.0.1:${ACCESS_DEV_PORT}`;
export const ACCESS_DEV_AUD = "local-dev-aud";
const root = resolve(import.meta.dirname, "..");
const keyFile = resolve(root, ".wrangler/access-dev-key.json");

async function keys() {
  if (!existsSync(keyFile)) {
    const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
    const kid = `dev-${Date.now().toString(36)}`;
    mkdirSync(resolve(root, ".wrangler"), { recursive: true });
    const stored = { kid, public: await exportJWK(publicKey), private: await exportJWK(privateKey) };
    writeFileSync(keyFile, JSON.stringify(stored), { mode: 0o600 });
  }
  const stored = JSON.parse(readFileSync(keyFile, "utf8"));
  return { ...stored, signer: await importJWK(stored.private, "RS256") };
}

export async function serve() {
  const { kid, public: jwk } = await keys();
  const body = JSON.stringify({ keys: [{ ...jwk, kid, alg: "RS256", use: "sig" }] });
  const server = createServer((req, res) => {
    if (req.url !== "/cdn-cgi/access/certs") return res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/json" }).end(body);
  });
  await new Promise((ok) => server.listen(ACCESS_DEV_PORT, "127.0.0.1", ok));
  return server;
}

export async function sign(email) {
  const { kid, signer } = await keys();
  return new SignJWT({ email, type: "app" })
    .setProtectedHeader({ alg: "RS256", kid })
    .setIssuer(`http://${ACCESS_DEV_DOMAIN}`)
    .setAudience([ACCESS_DEV_AUD])
    .setSubject(email)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(signer);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [command, email] = process.argv.slice(2);
  if (command === "serve") {
    await serve();
    console.log(`Access stand-in: http://${ACCESS_DEV_DOMAIN}/cdn-cgi/access/certs`);
  } else if (command === "sign" && email) {
    console.log(await sign(email));
  } else {
    console.error("usage: node scripts/access-dev.mjs serve | sign <email>");
    process.exit(2);
  }
}
