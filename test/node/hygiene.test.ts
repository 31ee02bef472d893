import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hitCount, registerSecret, takeHits } from "../hygiene/node-setup";

const LEAK = "bed-secret-0123456789";
let base = "";
const server = createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(req.url === "/leak" ? { oops: LEAK } : { ok: true }));
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("secret hygiene in the node project", () => {
  it("scans answers from local servers for registered secrets", async () => {
    registerSecret("BED_SECRET", LEAK);
    const mark = hitCount();
    expect(await (await fetch(`${base}/ok`)).json()).toEqual({ ok: true });
    expect(await (await fetch(`${base}/leak`)).json()).toEqual({ oops: LEAK });
    await new Promise((resolve) => setTimeout(resolve, 10)); // the copy is read beside the test
    expect(takeHits(mark).map((h) => h.secret)).toEqual(["BED_SECRET"]); // planted on purpose
  });
});
