import { existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { anchorsOf, brokenLinks, linksOf, markdownFiles, slug } from "./links";

const root = resolve(import.meta.dirname, "../../..");

describe("the link checker", () => {
  it("slugs headings as GitHub does", () => {
    expect(slug("Alerts (webhooks)")).toBe("alerts-webhooks");
    expect(slug("What runs by itself (the cron, every 5 minutes)")).toBe(
      "what-runs-by-itself-the-cron-every-5-minutes",
    );
    expect(slug("1. The reseller sends a link")).toBe("1-the-reseller-sends-a-link");
    expect(slug("Dependencies, and why")).toBe("dependencies-and-why");
    expect(slug("People: Cloudflare Access")).toBe("people-cloudflare-access");
    expect(slug("`RL_RPS_<n>` and **plans**")).toBe("rl_rps_n-and-plans");
    expect(slug("Many isolates, one truth")).toBe("many-isolates-one-truth");
    expect(slug("A [linked](x.md) heading — with a dash")).toBe("a-linked-heading--with-a-dash");
  });

  it("numbers repeated headings -1, -2 and ignores headings in code blocks", () => {
    const page = "# Title\n\n## Usage\n\n```sh\n# not a heading\n```\n\n## Usage\n\n### Usage\n";
    expect([...anchorsOf(page)]).toEqual(["title", "usage", "usage-1", "usage-2"]);
  });

  it("finds links outside code only, with their lines", () => {
    const page =
      "See [a](a.md#x) and ![img](p.png).\n\n```md\n[not](b.md)\n```\n\n`[nor](c.md)` [ref]: d.md\n[ref]: e.md\n";
    expect(linksOf(page)).toEqual([
      { line: 1, target: "a.md#x" },
      { line: 1, target: "p.png" },
      { line: 8, target: "e.md" },
    ]);
  });

  it("reports a missing file, a missing anchor and an anchor into a non-page, and passes the rest", () => {
    const pages: Record<string, string> = {
      [resolve(root, "README.md")]: "# Top\n\n## Same\n\n## Same\n",
      [resolve(root, "docs/fixture.md")]: [
        "# Fixture",
        "[ok](../README.md#same-1) [ok](#fixture) [ok](../docs/) [ok](https://example.com/#nothing)",
        "[gone](missing.md) [bad anchor](../README.md#same-2) [no page](../package.json#x) [abs](/README.md)",
      ].join("\n"),
    };
    const read = (path: string) => pages[path] ?? readFileSync(path, "utf8");
    const exists = (path: string) => path in pages || existsSync(path);
    expect(brokenLinks(root, ["docs/fixture.md"], read, exists)).toEqual([
      "docs/fixture.md:3: missing.md (no such file: docs/missing.md)",
      "docs/fixture.md:3: ../README.md#same-2 (no heading with that anchor in README.md)",
      "docs/fixture.md:3: ../package.json#x (an anchor into a non-page)",
      "docs/fixture.md:3: /README.md (an absolute path does not resolve on GitHub)",
    ]);
  });
});

describe("the project's Markdown", () => {
  const files = markdownFiles(root);

  it("covers README.md and every page of docs/", () => {
    expect(files).toContain("README.md");
    expect(files.filter((f) => f.startsWith("docs/")).length).toBeGreaterThanOrEqual(10);
  });

  it("has no broken relative link or anchor", () => {
    expect(brokenLinks(root, files)).toEqual([]);
  });

  it("every page of docs/ opens with its title and then who it is for", () => {
    const pages = files.filter((f) => f.startsWith("docs/"));
    const without = pages.filter((f) => !/^# .+\n\nFor .+/.test(readFileSync(resolve(root, f), "utf8")));
    expect(without).toEqual([]);
  });

  it("README.md stays a front page: at most 15 KB (15,360 bytes)", () => {
    expect(statSync(resolve(root, "README.md")).size).toBeLessThanOrEqual(15_360);
  });
});
