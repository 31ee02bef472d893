import { mkdirSync, writeFileSync } from "node:fs";
import type { TestProject } from "vitest/node";
import { resetSummary, summary } from "./collect.ts";

interface TaskLike {
  type: string;
  name: string;
  filepath?: string;
  projectName?: string;
  result?: { state?: string };
  tasks?: TaskLike[];
}

const ran = (task: TaskLike): boolean =>
  task.type === "test" ? task.result?.state === "pass" || task.result?.state === "fail" : (task.tasks ?? []).some(ran);

/**
 * The final step of the secret-hygiene scan: after every project has run, sums what each test file
 * reported (test/setup.ts in workerd, test/hygiene/node-setup.ts in Node), prints one line, writes .wrangler/secret-hygiene.json, and fails
 * the run (exit code 1) when a secret was found or when a file that ran reported no scan.
 */
export default function setup(project: TestProject) {
  resetSummary();
  return () => {
    const s = summary();
    const files = (project.vitest.state.getFiles() as unknown as TaskLike[]).filter(ran);
    const reported = new Set(s.tallies.map((t) => t.file));
    const missing = files.map((f) => f.name).filter((name) => !reported.has(name));
    const hits = [...s.tallies.flatMap((t) => t.hits.map((h) => ({ ...h, file: t.file }))), ...s.consoleHits];
    const total = (key: "bodies" | "logLines" | "unscanned") => s.tallies.reduce((n, t) => n + t[key], 0);
    const result = {
      files: s.tallies.length,
      responseBodies: total("bodies"),
      gatewayLogLines: total("logLines"),
      unscannedBodies: total("unscanned"),
      consoleLines: s.consoleLines,
      hits,
      filesWithoutScan: missing,
    };
    mkdirSync(".wrangler", { recursive: true });
    writeFileSync(".wrangler/secret-hygiene.json", `${JSON.stringify(result, null, 2)}\n`);
    console.log(
      `Secret hygiene: ${result.responseBodies} response bodies and ${result.gatewayLogLines} log lines in ${result.files} test files, ` +
        `${result.consoleLines} console lines: ${hits.length} secrets found` +
        (result.unscannedBodies ? ` (${result.unscannedBodies} bodies never finished)` : ""),
    );
    if (hits.length > 0) {
      for (const h of hits)
        console.error(`  secret leak: ${h.secret} in ${h.source}${h.test ? ` (test "${h.test}")` : ""}`);
      process.exitCode = 1;
    }
    if (missing.length > 0) {
      console.error(`  secret hygiene did not run in: ${missing.join(", ")}`);
      process.exitCode = 1;
    }
  };
}
