// Debian's Chromium, headless, driven through playwright-core; a fresh profile per launch. Pages that
// break their CSP or leave a field without a label fail the test; screenshots go to a git-ignored folder.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { expect } from "vitest";
import { root } from "../harness/build";
import { type Cluster, publish } from "../harness/cluster";
import type { NodeIdp } from "../harness/idp";

export const SCREENSHOTS = resolve(root, ".wrangler/screenshots");
const CHROMIUM = "/usr/bin/chromium";

export interface Browser {
  context: BrowserContext;
  /** A new tab; every CSP or Trusted Types violation and script error it reports is collected in `problems`. */
  page(opts?: { width?: number; height?: number }): Promise<Page>;
  problems: string[];
  close(): Promise<void>;
}

export async function launch(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "zavu-chromium-"));
  mkdirSync(SCREENSHOTS, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 900 },
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const problems: string[] = [];
  return {
    context,
    problems,
    async page(opts = {}) {
      const page = await context.newPage();
      await page.setViewportSize({ width: opts.width ?? 1280, height: opts.height ?? 900 });
      page.on("console", (msg) => {
        // A refused script, style or markup sink: the CSP or Trusted Types caught something.
        if (msg.type() === "error" && /Content Security Policy|Trusted ?Type/i.test(msg.text()))
          problems.push(msg.text());
      });
      page.on("pageerror", (err) => problems.push(err.message));
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A full-page screenshot in the git-ignored folder (look at them: they are how the screens really render). */
export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: resolve(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Every visible form control has a label, and the page fits its width (no sideways scrolling). */
export async function expectUsable(page: Page): Promise<void> {
  // Strings, not functions: this project's types describe workerd, not the DOM.
  const unlabelled =
    await page.evaluate(`[...document.querySelectorAll("input:not([type=hidden]), select, textarea, button")]
    .filter((el) => el.offsetParent !== null)
    .filter((el) => el.tagName === "BUTTON"
      ? !(el.textContent.trim() || el.getAttribute("aria-label"))
      : !(el.labels?.length || el.getAttribute("aria-label")))
    .map((el) => el.outerHTML.slice(0, 120))`);
  expect(unlabelled).toEqual([]);
  const overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth");
  expect(overflow).toBeLessThanOrEqual(0);
}

/** An OpenID provider on the test IdP: https://idp.test/<name>, its discovery document and JWKS. */
export async function publishProvider(cluster: Cluster, idp: NodeIdp, name: string, doc: Record<string, unknown> = {}) {
  const jwksUri = await publish(cluster, `/${name}/jwks.json`, idp.jwks());
  await publish(cluster, `/${name}/.well-known/openid-configuration`, {
    issuer: idp.issuer,
    jwks_uri: jwksUri,
    id_token_signing_alg_values_supported: ["ES256"],
    ...doc,
  });
  return jwksUri;
}
