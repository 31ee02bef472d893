import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createCounters } from "../../src/lib/counters";
import { sortableId } from "../../src/lib/ids";
import { LinkRepo } from "../../src/storage/onboarding-links";

// The link's state machine in D1 itself, below the lease and the checks the portal makes first:
// these are what still hold when two isolates race, a lease runs out, or a revocation lands late.
const repo = new LinkRepo(env.DB, createCounters());

async function newLink(opts: { expiresInMs?: number } = {}) {
  const id = sortableId("lnk");
  const now = Date.now();
  await repo
    .insert({
      id,
      secretHash: crypto.randomUUID(),
      purpose: "create",
      tenantId: null,
      name: null,
      externalId: null,
      creditLimit: null,
      metadata: null,
      createdBy: "test",
      createdAt: now,
      expiresAt: now + (opts.expiresInMs ?? 3600_000),
    })
    .run();
  return id;
}

const complete = (id: string, tenantId = "tnt_x", at = Date.now()) =>
  env.DB.batch([repo.completeStatement(id, tenantId, at)]).then(
    () => "completed",
    (err: unknown) => (String(err).includes("CHECK constraint failed") ? "refused" : `error: ${String(err)}`),
  );

describe("onboarding link states in D1", () => {
  it("completes once; a second completion fails the whole batch", async () => {
    const id = await newLink();
    expect(await complete(id, "tnt_first")).toBe("completed");
    expect(await complete(id, "tnt_second")).toBe("refused");
    expect((await repo.get(id))!.tenantId).toBe("tnt_first");
  });

  it("cannot complete a revoked or an expired link, even inside a batch that would otherwise succeed", async () => {
    const revoked = await newLink();
    await repo.revokeStatement(revoked).run();
    expect(await complete(revoked)).toBe("refused");
    expect((await repo.get(revoked))!.status).toBe("revoked");

    const expired = await newLink({ expiresInMs: 1_000 });
    expect(await complete(expired, "tnt_late", Date.now() + 2_000)).toBe("refused");
    expect((await repo.get(expired, Date.now() + 2_000))!.status).toBe("expired");
  });

  it("a revocation never lands while an activation holds the link, and a completed link stays completed", async () => {
    const id = await newLink();
    expect(await repo.claim(id, 60_000)).toBe(true);
    expect(await repo.claim(id, 60_000)).toBe(false); // one activation at a time
    await repo.revokeStatement(id).run();
    expect((await repo.get(id))!.status).toBe("pending");
    expect(await complete(id)).toBe("completed");
    await repo.revokeStatement(id).run();
    expect((await repo.get(id))!.status).toBe("completed");
  });

  it("a lease that runs out frees the link", async () => {
    const id = await newLink();
    const now = Date.now();
    expect(await repo.claim(id, 1_000, now)).toBe(true);
    expect(await repo.claim(id, 1_000, now + 500)).toBe(false);
    expect(await repo.claim(id, 1_000, now + 1_001)).toBe(true);
  });

  it("reopens a create link only when its tenant does not exist", async () => {
    const id = await newLink();
    expect(await complete(id, "tnt_never_written")).toBe("completed");
    await repo.reopen(id, "tnt_never_written");
    expect((await repo.get(id))!.status).toBe("pending");

    const kept = await newLink();
    const tenantId = `tnt_${"k".repeat(26)}`;
    await env.DB.prepare(
      "INSERT INTO tenants (id, name, status, created_at, updated_at) VALUES (?, 'Kept', 'active', 0, 0)",
    )
      .bind(tenantId)
      .run();
    expect(await complete(kept, tenantId)).toBe("completed");
    await repo.reopen(kept, tenantId);
    expect((await repo.get(kept))!.status).toBe("completed");
  });

  it("counts attempts in a fixed window: the limit holds, a refund gives one back, a new window starts over", async () => {
    const id = await newLink();
    const now = Date.now();
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await repo.reserveAttempt(id, 3, 60_000, now));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results[3]).toEqual({ allowed: false, retryAfterMs: 60_000 });
    const first = results[0] as { allowed: true; window: number };
    await repo.refundAttempt(id, first.window);
    expect((await repo.reserveAttempt(id, 3, 60_000, now + 1)).allowed).toBe(true);
    expect((await repo.reserveAttempt(id, 3, 60_000, now + 2)).allowed).toBe(false);
    expect((await repo.reserveAttempt(id, 3, 60_000, now + 60_000)).allowed).toBe(true);
  });
});
