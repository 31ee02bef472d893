#!/usr/bin/env node
// The registry mirror this project is built on serves only some platforms' binaries of
// packages such as workerd and Biome, so npm leaves the others out of package-lock.json and
// `npm ci` then refuses the lock. This adds an entry for every optional platform package a
// locked package names but the lock lacks: version, os, cpu (and libc) only, with no
// integrity, so npm resolves it by name and version on the platform that needs it. Linux CI
// never installs them. Run after regenerating the lock.
import { readFileSync, writeFileSync } from "node:fs";

const OS = {
  darwin: "darwin",
  linux: "linux",
  win32: "win32",
  windows: "win32",
  android: "android",
  freebsd: "freebsd",
};
const CPU = { x64: "x64", 64: "x64", arm64: "arm64", arm: "arm", ia32: "ia32" };

/** os/cpu/libc from a platform package's name, e.g. cli-linux-x64-musl, workerd-darwin-arm64. */
function platformOf(name) {
  const parts = name.split("/").pop().split("-");
  const os = parts.map((p) => OS[p]).find(Boolean);
  const cpu = parts.map((p) => CPU[p]).findLast(Boolean);
  if (!os || !cpu) return null;
  const libc = os === "linux" ? (parts.includes("musl") ? "musl" : "glibc") : undefined;
  return { os: [os], cpu: [cpu], ...(libc ? { libc: [libc] } : {}) };
}

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
let added = 0;
for (const [key, entry] of Object.entries(lock.packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const platform = platformOf(dep);
    if (!platform) continue;
    const nested = `${key}/node_modules/${dep}`;
    const hoisted = `node_modules/${dep}`;
    if (lock.packages[nested] || lock.packages[hoisted]) continue;
    lock.packages[hoisted] = { version, ...(entry.dev ? { dev: true } : {}), optional: true, ...platform };
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
writeFileSync(path, `${JSON.stringify({ ...lock, packages: sorted }, null, 2)}\n`);
console.log(`package-lock.json: added ${added} platform entries`);
