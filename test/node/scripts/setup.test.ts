import { type ExecFileException, execFile } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";

/**
 * scripts/setup.mjs against a fake `wrangler` on PATH (fake-wrangler.mjs) that keeps an account's
 * state in a file and logs every call, and a local server standing in for the deployed Worker's
 * /healthz. No Cloudflare account, no network.
 */
const root = resolve(import.meta.dirname, "../../..");
const work = mkdtempSync(join(tmpdir(), "setup-test-"));
const bin = join(work, "bin");
const statePath = join(work, "state.json");
const logPath = join(work, "calls.jsonl");
const MAIN_KEY = "zv_live_main_for_setup_test_0123456789";
const CHOSEN_TOKEN = "admin-token-chosen-by-the-operator-123";
const CHOSEN_KEK = Buffer.alloc(32, 9).toString("base64");

let server: Server;
let healthUrl = "";
const healthCalls: Array<{ path: string; authorization?: string }> = [];

interface FakeState {
  loggedIn: boolean;
  name: string;
  workerExists: boolean;
  secrets: Record<string, string>;
  dbExists: boolean;
  pendingMigrations: string[];
  appliedMigrations: string[];
  bundle: string;
  deployedBundle: string | null;
  deployedTag: string | null;
  versionId: string;
  deploys: number;
  url: string;
}

const readState = (): FakeState => JSON.parse(readFileSync(statePath, "utf8"));
const writeState = (patch: Partial<FakeState>) =>
  writeFileSync(statePath, JSON.stringify({ ...readState(), ...patch }, null, 2));
const calls = (): Array<{ args: string[]; stdinKeys: string[] }> =>
  existsSync(logPath)
    ? readFileSync(logPath, "utf8")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
/** Each call as "verb noun", e.g. "secret bulk", "deploy --dry-run", "deploy". */
const verbs = () =>
  calls().map((c) =>
    c.args[0] === "deploy"
      ? c.args.includes("--dry-run")
        ? "deploy --dry-run"
        : "deploy"
      : c.args
          .filter((a) => !a.startsWith("-"))
          .slice(0, c.args[0] === "d1" ? 3 : 2)
          .join(" "),
  );

function freshAccount() {
  writeFileSync(
    statePath,
    JSON.stringify({
      loggedIn: true,
      name: "zavu-gateway-production",
      workerExists: false,
      secrets: {},
      dbExists: false,
      pendingMigrations: ["0001_init.sql", "0003_maintenance.sql"],
      appliedMigrations: [],
      bundle: "export default {} // v1",
      deployedBundle: null,
      deployedTag: null,
      versionId: "v-0",
      deploys: 0,
      url: healthUrl,
    } satisfies FakeState),
  );
  rmSync(logPath, { force: true });
  healthCalls.length = 0;
}

function setup(
  args: string[],
  env: Record<string, string> = {},
  [file, argv]: [string, string[]] = [process.execPath, [join(root, "scripts/setup.mjs"), ...args]],
) {
  return new Promise<{ code: number; out: string }>((done) => {
    execFile(
      file,
      argv,
      {
        cwd: root,
        encoding: "utf8",
        env: {
          PATH: `${bin}:${process.env.PATH}`,
          HOME: work,
          FAKE_WRANGLER_STATE: statePath,
          FAKE_WRANGLER_LOG: logPath,
          ...env,
        },
      },
      (err: ExecFileException | null, stdout: string, stderr: string) =>
        done({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

const withKeys = { ZAVU_API_KEY: MAIN_KEY, ADMIN_TOKEN: CHOSEN_TOKEN, KEY_ENCRYPTION_KEY: CHOSEN_KEK };

/** The setup in a terminal (a pseudo-terminal from util-linux `script`), as an operator runs it. */
function setupInTerminal(args: string[], env: Record<string, string>) {
  const command = [process.execPath, join(root, "scripts/setup.mjs"), ...args].map((a) => `'${a}'`).join(" ");
  return setup([], env, ["script", ["-qec", command, "/dev/null"]]);
}

beforeAll(async () => {
  const { mkdirSync } = await import("node:fs");
  mkdirSync(bin);
  const fake = join(bin, "wrangler");
  writeFileSync(
    fake,
    `#!/bin/sh\nexec "${process.execPath}" "${join(import.meta.dirname, "fake-wrangler.mjs")}" "$@"\n`,
  );
  chmodSync(fake, 0o755);
  server = createServer((req, res) => {
    healthCalls.push({ path: req.url ?? "", authorization: req.headers.authorization });
    const state = readState();
    if (req.url === "/healthz") return res.end(JSON.stringify({ status: "ok", version: "0.1.0" }));
    if (req.url === "/healthz?deep=1") {
      const ok = req.headers.authorization === `Bearer ${state.secrets.ADMIN_TOKEN?.split(",")[0]}`;
      res.statusCode = ok ? 200 : 401;
      return res.end(
        JSON.stringify(
          ok
            ? { status: "ok", checks: { d1: { ok: true }, kv: { ok: true }, zavu: { ok: true }, keys: { ok: true } } }
            : { code: "unauthorized", message: "no" },
        ),
      );
    }
    res.statusCode = 404;
    res.end("{}");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const address = server.address();
  healthUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
});

afterAll(() => {
  server.close();
  rmSync(work, { recursive: true, force: true });
});

beforeEach(freshAccount);

describe("npm run setup -- --dry-run", () => {
  it("prints every step with its exact command and rule, and runs nothing", async () => {
    const { code, out } = await setup(["--env", "production", "--dry-run"], withKeys);
    expect(code).toBe(0);
    expect(calls()).toEqual([]);
    expect(healthCalls).toEqual([]);
    const commands = out
      .split("\n")
      .filter((l) => l.trim().startsWith("$ wrangler"))
      .map((l) => l.trim());
    expect(commands).toEqual([
      "$ wrangler whoami --json",
      "$ wrangler secret list --format json --env production",
      "$ wrangler secret bulk --env production",
      "$ wrangler d1 migrations list DB --remote --env production",
      "$ wrangler d1 migrations apply DB --remote --env production",
      "$ wrangler deploy --dry-run --outdir <temporary directory> --env production",
      "$ wrangler deployments status --json --env production",
      "$ wrangler versions view <current version id> --json --env production",
      '$ wrangler deploy --tag setup-<fingerprint> --message "npm run setup" --env production',
      "$ wrangler d1 migrations apply DB --remote --env production",
    ]);
    expect(out).toContain('environment "production" (Worker zavu-gateway-production)');
    expect(out).toContain("only when missing: replacing it would leave every sealed key unreadable");
    expect(out).toContain("GET <url>/healthz");
    // Secrets from the environment are never echoed.
    expect(out).not.toContain(MAIN_KEY);
    expect(out).not.toContain(CHOSEN_TOKEN);
    expect(out).not.toContain(CHOSEN_KEK);
  });

  it("without --env plans the top-level Worker; an unknown environment is refused", async () => {
    const top = await setup(["--dry-run"]);
    expect(top.code).toBe(0);
    expect(top.out).toContain("(Worker zavu-gateway)");
    expect(top.out).toContain("$ wrangler secret bulk\n");
    const bad = await setup(["--dry-run", "--env", "prod"]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("wrangler.toml has no [env.prod] environment");
  });
});

describe("npm run setup on a fresh account", () => {
  it("sets the three secrets in one bulk call on stdin, deploys (creating D1 and KV), migrates, checks health", async () => {
    const { code, out } = await setup(["--env", "production"], withKeys);
    expect(code, out).toBe(0);
    expect(verbs()).toEqual([
      "whoami",
      "secret list",
      "secret bulk",
      "d1 migrations list",
      "deploy --dry-run",
      "deployments status",
      "versions view",
      "deploy",
      "d1 migrations apply", // after the deploy created the database
    ]);
    const bulk = calls().find((c) => c.args[1] === "bulk")!;
    expect(bulk.stdinKeys.sort()).toEqual(["ADMIN_TOKEN", "KEY_ENCRYPTION_KEY", "ZAVU_API_KEY"]);
    const perWorker = calls().filter((c) => c.args[0] !== "whoami");
    expect(perWorker.every((c) => c.args.join(" ").includes("--env production"))).toBe(true);

    const state = readState();
    expect(state.secrets.ZAVU_API_KEY).toBe(MAIN_KEY);
    expect(state.secrets.ADMIN_TOKEN).toBe(CHOSEN_TOKEN);
    expect(state.secrets.KEY_ENCRYPTION_KEY).toBe(CHOSEN_KEK);
    expect(state.appliedMigrations).toEqual(["0001_init.sql", "0003_maintenance.sql"]);
    expect(state.deployedTag).toMatch(/^setup-[0-9a-f]{16}$/);

    // Nothing secret on any command line, nor in what the script printed.
    const argv = calls().flatMap((c) => c.args);
    for (const secret of Object.values(state.secrets)) {
      expect(argv.some((a) => a.includes(secret))).toBe(false);
      expect(out).not.toContain(secret);
    }
    // Health: the shallow check, then the deep one with the admin token in a header.
    expect(healthCalls).toEqual([
      { path: "/healthz", authorization: undefined },
      { path: "/healthz?deep=1", authorization: `Bearer ${CHOSEN_TOKEN}` },
    ]);
    expect(out).toMatch(/zavu\s+ok/);
    // The bundle's temporary directory is gone.
    expect(readdirSync(tmpdir()).filter((d) => d.startsWith("zavu-setup-"))).toEqual([]);
  });

  it("a second run changes nothing: no secret, no migration, no deploy; health is checked again", async () => {
    expect((await setup(["--env", "production"], withKeys)).code).toBe(0);
    const before = readState();
    rmSync(logPath);
    const { code, out } = await setup(["--env", "production", "--url", healthUrl], {});
    expect(code, out).toBe(0);
    expect(verbs()).toEqual([
      "whoami",
      "secret list",
      "d1 migrations list",
      "deploy --dry-run",
      "deployments status",
      "versions view",
    ]);
    expect(readState()).toEqual(before);
    expect(out).toContain("none missing: nothing set");
    expect(out).toContain("skipped: this exact bundle and configuration are deployed");
    expect(healthCalls.at(-1)?.path).toBe("/healthz"); // no admin token known to this run: shallow only
  });

  it("changes only what is missing: one lost secret, a new migration (applied before the deploy), new code", async () => {
    expect((await setup(["--env", "production"], withKeys)).code).toBe(0);
    const { ZAVU_API_KEY: _gone, ...kept } = readState().secrets;
    const kek = kept.KEY_ENCRYPTION_KEY;
    writeState({ secrets: kept, pendingMigrations: ["0004_next.sql"], bundle: "export default {} // v2" });
    rmSync(logPath);

    const { code, out } = await setup(["--env", "production"], { ZAVU_API_KEY: MAIN_KEY });
    expect(code, out).toBe(0);
    expect(verbs()).toEqual([
      "whoami",
      "secret list",
      "secret bulk",
      "d1 migrations list",
      "d1 migrations apply", // before the new code goes out
      "deploy --dry-run",
      "deployments status",
      "versions view",
      "deploy",
    ]);
    expect(calls().find((c) => c.args[1] === "bulk")!.stdinKeys).toEqual(["ZAVU_API_KEY"]);
    const state = readState();
    expect(state.secrets.KEY_ENCRYPTION_KEY).toBe(kek); // never regenerated
    expect(state.appliedMigrations.at(-1)).toBe("0004_next.sql");
    expect(state.deployedBundle).toBe("export default {} // v2");
    expect(state.deploys).toBe(2);
  });
});

describe("npm run setup in a terminal", () => {
  it("generates the admin token and the key-encryption key, sets them on stdin, and shows them once at the end", async () => {
    const { code, out } = await setupInTerminal(["--env", "production"], { ZAVU_API_KEY: MAIN_KEY });
    expect(code, out).toBe(0);
    const { ADMIN_TOKEN: token, KEY_ENCRYPTION_KEY: kek } = readState().secrets;
    expect(Buffer.from(kek!, "base64")).toHaveLength(32);
    expect(Buffer.from(token!, "base64url")).toHaveLength(32);
    expect(out.split(`ADMIN_TOKEN=${token}`)).toHaveLength(2); // shown exactly once
    expect(out.split(`KEY_ENCRYPTION_KEY=${kek}`)).toHaveLength(2);
    expect(out.indexOf(`ADMIN_TOKEN=${token}`)).toBeGreaterThan(out.indexOf("Health"));
    expect(out).not.toContain(MAIN_KEY);
    expect(
      calls()
        .flatMap((c) => c.args)
        .some((a) => a.includes(token!) || a.includes(kek!)),
    ).toBe(false);
    expect(healthCalls.at(-1)).toEqual({ path: "/healthz?deep=1", authorization: `Bearer ${token}` });
  });
});

describe("npm run setup refuses before changing anything", () => {
  it("when not logged in", async () => {
    writeState({ loggedIn: false });
    const { code, out } = await setup(["--env", "production"], withKeys);
    expect(code).toBe(1);
    expect(out).toContain("npx wrangler login");
    expect(verbs()).toEqual(["whoami"]);
  });

  it("when the Zavu main key is missing and nobody can be asked (no terminal)", async () => {
    const { ZAVU_API_KEY: _none, ...given } = withKeys;
    const { code, out } = await setup(["--env", "production"], given);
    expect(code).toBe(1);
    expect(out).toContain("ZAVU_API_KEY is not set on the Worker");
    expect(verbs()).toEqual(["whoami", "secret list"]);
    expect(readState().secrets).toEqual({});
  });

  it("when a secret would have to be generated outside a terminal, where it could not be shown", async () => {
    for (const missing of ["ADMIN_TOKEN", "KEY_ENCRYPTION_KEY"] as const) {
      const { [missing]: _left, ...given } = withKeys;
      const { code, out } = await setup(["--env", "production"], given);
      expect(code).toBe(1);
      expect(out).toContain(`${missing} is not set on the Worker`);
      expect(readState().secrets).toEqual({});
    }
  });

  it("when the key-encryption key given is not 32 bytes", async () => {
    const { code, out } = await setup(["--env", "production"], { ...withKeys, KEY_ENCRYPTION_KEY: "c2hvcnQ=" });
    expect(code).toBe(1);
    expect(out).toContain("base64 of exactly 32 bytes");
    expect(verbs()).not.toContain("secret bulk");
  });

  it("when the key given is a sub-account key", async () => {
    const sub = "zv_live_sub_abcdef0123456789";
    const { code, out } = await setup(["--env", "production"], { ...withKeys, ZAVU_API_KEY: sub });
    expect(code).toBe(1);
    expect(out).toContain("must be a Zavu main-account key");
    expect(out).not.toContain(sub);
    expect(verbs()).not.toContain("secret bulk");
  });
});
