import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { transformSync } from "esbuild";
import { expect, it } from "vitest";
import { signZavu } from "../../../src/lib/zavu-signature";

/** docs/customers.md's verification snippet, compiled as a customer would paste it. */
function docsVerify(): (header: string, rawBody: string, secret: string) => boolean {
  const page = readFileSync(resolve(import.meta.dirname, "../../../docs/customers.md"), "utf8");
  const block = [...page.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .find((b) => b.includes("function verify"));
  if (!block) throw new Error("docs/customers.md has no verify() snippet");
  const { code } = transformSync(`${block}\nmodule.exports = verify;`, { loader: "ts", format: "cjs" });
  const module = { exports: {} as unknown };
  new Function("require", "module", code)(createRequire(import.meta.url), module);
  return module.exports as (header: string, rawBody: string, secret: string) => boolean;
}

it("the customers page's snippet verifies what the gateway signs (v2 and v1+v2) and refuses the rest", async () => {
  const verify = docsVerify();
  const secret = "whsec_customer-secret";
  const body = JSON.stringify({ id: "evt_1", type: "message.delivered", data: {} });
  const now = Math.floor(Date.now() / 1000);
  expect(verify(await signZavu(secret, body, "v2", now), body, secret)).toBe(true);
  expect(verify(await signZavu(secret, body, "v1+v2", now), body, secret)).toBe(true);
  expect(verify(await signZavu(secret, body, "v2", now), `${body} `, secret)).toBe(false);
  expect(verify(await signZavu("whsec_other", body, "v2", now), body, secret)).toBe(false);
  expect(verify(await signZavu(secret, body, "v2", now - 600), body, secret)).toBe(false);
  expect(verify(await signZavu(secret, body, "v1", now), body, secret)).toBe(false); // v1 has no timestamp binding
});
