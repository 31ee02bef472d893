import { describe, expect, it } from "vitest";
import { gatewayFetch } from "../helpers/gateway";

/** CSP directives as a map of name -> sources. */
function parseCsp(header: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of header.split(";")) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name) directives.set(name.toLowerCase(), sources);
  }
  return directives;
}

async function sha256Source(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return `'sha256-${btoa(String.fromCharCode(...digest))}'`;
}

describe("/admin/v1/docs: no unpinned third-party code on the origin where the admin token is used", () => {
  it("serves the reference with a strict Content-Security-Policy", async () => {
    const res = await gatewayFetch("/admin/v1/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const csp = res.headers.get("content-security-policy");
    expect(csp).toBeTruthy();
    const d = parseCsp(csp!);
    expect(d.get("default-src")).toEqual(["'none'"]);
    expect(d.get("base-uri")).toEqual(["'none'"]);
    expect(d.get("form-action")).toEqual(["'none'"]);
    expect(d.get("frame-ancestors")).toEqual(["'none'"]);
    expect(d.get("connect-src")).toEqual(["'self'"]);
    const scripts = d.get("script-src") ?? [];
    expect(scripts.length).toBeGreaterThan(0);
    for (const source of scripts) {
      // Each script source is one exact, versioned file, or the hash of one inline script: no host-wide,
      // wildcard, unsafe-inline or unsafe-eval source.
      expect(source).toMatch(/^(https:\/\/[^*\s]+@\d+\.\d+\.\d+\/[^*\s]+\.js|'sha(256|384|512)-[A-Za-z0-9+/=]+')$/);
    }
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    await res.text();
  });

  it("loads only pinned scripts with Subresource Integrity, and runs no inline script the policy does not name", async () => {
    const res = await gatewayFetch("/admin/v1/docs");
    const html = await res.text();
    const d = parseCsp(res.headers.get("content-security-policy") ?? "");
    const allowed = d.get("script-src") ?? [];
    const tags = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(tags.length).toBeGreaterThan(0);
    let external = 0;
    for (const [, attributes, content] of tags) {
      const src = /\bsrc="([^"]+)"/.exec(attributes!)?.[1];
      if (src) {
        external++;
        expect(src).toMatch(/@\d+\.\d+\.\d+\//); // an exact version, never a range or "latest"
        expect(attributes).toMatch(/\bintegrity="sha384-[A-Za-z0-9+/]{64}"/);
        expect(attributes).toMatch(/\bcrossorigin="anonymous"/);
        expect(allowed).toContain(src);
        continue;
      }
      const type = /\btype="([^"]+)"/.exec(attributes!)?.[1];
      if (type === "application/json") continue; // data, never executed
      expect(allowed, "an inline script must be named by its hash").toContain(await sha256Source(content!));
    }
    expect(external).toBeGreaterThan(0);
    expect(html).toContain("/admin/v1/openapi.json");
  });
});
