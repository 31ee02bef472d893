/**
 * A link checker for the project's Markdown: every relative link must name a file or folder that
 * exists, and every `#anchor` a heading of the page it points to, slugged as GitHub does.
 * Links to other sites (http:, https:, mailto:) are not fetched.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** A page's text with fenced code blocks blanked (line breaks kept). */
export function withoutFences(markdown: string): string {
  const blank = (s: string) => s.replace(/[^\n]/g, " ");
  let fence: string | null = null;
  const lines = markdown.split("\n").map((line) => {
    const m = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fence === null) {
      if (!m) return line;
      fence = m[1]!;
      return blank(line);
    }
    if (m && m[1]![0] === fence[0] && m[1]!.length >= fence.length && line.trim() === m[1]) fence = null;
    return blank(line);
  });
  return lines.join("\n");
}

/** A page's text with fenced code blocks and inline code spans blanked (line breaks kept). */
export function withoutCode(markdown: string): string {
  return withoutFences(markdown).replace(/(`+)(?!`)[\s\S]*?[^`]\1(?!`)/g, (s) => s.replace(/[^\n]/g, " "));
}

/** GitHub's anchor for a heading: lowercase, punctuation dropped except '-' and '_', spaces to '-'. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // a link in a heading anchors on its text
    .replace(/[`*]/g, "") // code spans and emphasis marks (underscores stay, as on GitHub)
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
}

/** Every anchor a page offers: its headings' slugs, a repeated slug getting -1, -2, ... */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutFences(markdown).split("\n")) {
    const m = /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

export type Link = { line: number; target: string };

/** Every link and image of a page outside code: inline `[text](target)` and reference definitions. */
export function linksOf(markdown: string): Link[] {
  const text = withoutCode(markdown);
  const lineAt = (index: number) => text.slice(0, index).split("\n").length;
  const links: Link[] = [];
  for (const m of text.matchAll(/!?\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
    links.push({ line: lineAt(m.index), target: m[1]! });
  }
  for (const m of text.matchAll(/^ {0,3}\[[^\]]+\]:[ \t]+<?(\S+?)>?(?:[ \t]+"[^"]*")?[ \t]*$/gm)) {
    links.push({ line: lineAt(m.index), target: m[1]! });
  }
  return links;
}

/** The broken links of the given pages (paths relative to root), as `file:line: target (why)`. */
export function brokenLinks(
  root: string,
  files: string[],
  read = (path: string) => readFileSync(path, "utf8"),
  exists = (path: string) => existsSync(path),
) {
  const broken: string[] = [];
  const anchorCache = new Map<string, Set<string>>();
  const anchors = (path: string) => {
    const known = anchorCache.get(path);
    if (known) return known;
    const found = anchorsOf(read(path));
    anchorCache.set(path, found);
    return found;
  };
  for (const file of files) {
    const from = resolve(root, file);
    for (const { line, target } of linksOf(read(from))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // another site: not fetched
      const hash = target.indexOf("#");
      const pathPart = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
      const anchor = hash < 0 ? null : decodeURIComponent(target.slice(hash + 1));
      const to = pathPart === "" ? from : resolve(dirname(from), pathPart);
      const where = `${file}:${line}: ${target}`;
      if (pathPart.startsWith("/")) broken.push(`${where} (an absolute path does not resolve on GitHub)`);
      else if (!exists(to)) broken.push(`${where} (no such file: ${relative(root, to)})`);
      else if (anchor !== null) {
        if (!to.endsWith(".md") || (existsSync(to) && statSync(to).isDirectory()))
          broken.push(`${where} (an anchor into a non-page)`);
        else if (!anchors(to).has(anchor))
          broken.push(`${where} (no heading with that anchor in ${relative(root, to)})`);
      }
    }
  }
  return broken;
}

/** The project's Markdown pages: README.md, docs/, and the READMEs of the folders that have one. */
export function markdownFiles(root: string): string[] {
  const skip = new Set(["node_modules", ".git", ".wrangler", "dist", "results"]);
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!skip.has(entry.name)) walk(path);
      } else if (entry.name.endsWith(".md")) found.push(path);
    }
  };
  walk("");
  return found.sort();
}
