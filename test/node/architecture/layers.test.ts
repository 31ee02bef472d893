import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative, sep } from "node:path";
import { expect, it } from "vitest";

/**
 * The architecture as the folders draw it, lowest first. A module may import from its own layer or
 * any lower one, never from a higher one; test files are exempt.
 */
const LAYERS: string[][] = [
  ["lib", "env", "errors", "version", "config"],
  ["storage", "upstream", "control"],
  ["identity", "spend", "limits", "usage", "alerts", "senders"],
  ["state", "app-types"],
  ["tenants", "edge", "relay", "health", "ui", "team"],
  ["portal", "console", "maintenance"],
  ["admin"],
  ["app", "app-shell"],
  ["index"],
];

const SRC = join(import.meta.dirname, "../../../src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [path] : [];
  });
}

/** The top folder (or top-level file) of a module under src/: its unit in the layering. */
function unitOf(path: string): string {
  const [first, second] = relative(SRC, path).split(sep);
  return second === undefined ? first!.replace(/\.tsx?$/, "") : first!;
}

function layerOf(unit: string): number {
  const layer = LAYERS.findIndex((units) => units.includes(unit));
  if (layer < 0)
    throw new Error(`src/${unit} has no layer: add it to LAYERS in ${relative(process.cwd(), import.meta.filename)}`);
  return layer;
}

it("no module imports from a layer above its own", () => {
  const upward: string[] = [];
  for (const file of files(SRC)) {
    const text = readFileSync(file, "utf8");
    // Static imports and re-exports, and dynamic import() (a module loaded on first use is still a dependency).
    const specifiers = [
      ...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+"(\.{1,2}\/[^"]+)"/gm),
      ...text.matchAll(/\bimport\(\s*"(\.{1,2}\/[^"]+)"\s*\)/g),
    ];
    for (const match of specifiers) {
      const target = normalize(join(dirname(file), match[1]!));
      if (relative(SRC, target).startsWith("..")) continue; // package.json and the like
      const from = unitOf(file);
      const to = unitOf(target);
      if (layerOf(to) > layerOf(from)) upward.push(`src/${relative(SRC, file)} imports ${match[1]} (${from} -> ${to})`);
    }
  }
  expect(upward).toEqual([]);
});

it("every folder under src/ has its place in the layers", () => {
  const units = new Set(files(SRC).map(unitOf));
  for (const unit of units) expect(() => layerOf(unit)).not.toThrow();
});
