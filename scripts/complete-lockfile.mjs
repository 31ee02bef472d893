#!/usr/bin/env node
// The registry mirror this project is built on serves workerd's Linux binaries but not its
// darwin/windows ones, so npm leaves them out of package-lock.json and `npm ci` then refuses
// the lock. This adds their entries (optional, per-platform, resolved by name and version like
// every entry here), mirroring the Linux sibling. Run after regenerating the lock.
import { readFileSync, writeFileSync } from "node:fs";

const PLATFORMS = { "darwin-64": ["darwin", "x64"], "darwin-arm64": ["darwin", "arm64"], "windows-64": ["win32", "x64"] };
const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
let added = 0;
for (const [key, entry] of Object.entries(lock.packages)) {
  if (!key.endsWith("@cloudflare/workerd-linux-64")) continue;
  for (const [suffix, [os, cpu]] of Object.entries(PLATFORMS)) {
    const sibling = key.replace(/workerd-linux-64$/, `workerd-${suffix}`);
    if (lock.packages[sibling]) continue;
    lock.packages[sibling] = { ...entry, os: [os], cpu: [cpu] };
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))));
writeFileSync(path, JSON.stringify({ ...lock, packages: sorted }, null, 2) + "\n");
console.log(`package-lock.json: added ${added} platform entries`);
