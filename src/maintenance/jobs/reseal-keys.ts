import { audit } from "../../admin/deps";
import { kekId, resealKey, sealedKekId, sealedPrefix } from "../../storage/key-vault";
import { TenantScans } from "../../storage/tenant-scans";
import type { MaintenanceJob } from "../job";

const PAGE = 100;
/** After a complete pass, look again this often (a Worker version still on the old key may have sealed since). */
const RECHECK_MS = 60 * 60_000;

/**
 * Moves every stored key to the current KEY_ENCRYPTION_KEY: opens it with the key its ciphertext
 * names (KEY_ENCRYPTION_KEY_PREVIOUS during a rotation), seals it again, and writes it back only
 * if the row still holds what was read, so a rotation or repair in between is never overwritten.
 * The plaintext is the same key, so traffic is unaffected. A new pass starts as soon as the
 * current key changes.
 */
export const resealKeys: MaintenanceJob = {
  name: "reseal-keys",
  description: "Re-seals every stored sub-account key under the current KEY_ENCRYPTION_KEY",
  unitCost: 2, // a page read and its batched write

  async due(state, ctx) {
    if (state.memo.kekId !== (await kekId(ctx.keyring.current))) return true;
    return state.lastPassEndedAt === null || ctx.now - state.lastPassEndedAt >= RECHECK_MS;
  },

  async run(ctx, cursor) {
    const scans = new TenantScans(ctx.deps.db, ctx.deps.counters);
    const prefix = await sealedPrefix(ctx.keyring.current);
    const memo = { kekId: await kekId(ctx.keyring.current) };
    const counts = { resealed: 0, unreadable: 0, changedMeanwhile: 0 };
    let after = cursor ?? "";
    let done = 0;

    while (ctx.budget.allows(this.unitCost) && done < ctx.maxItems) {
      const page = await scans.sealedOutside(prefix, { after, limit: Math.min(PAGE, ctx.maxItems - done) });
      if (page.length === 0) return { cursor: null, counts, memo };
      const writes: D1PreparedStatement[] = [];
      const reseals: boolean[] = []; // per write: a re-seal (true) or an audit entry
      for (const { id, sealed } of page) {
        try {
          const resealed = await resealKey(ctx.keyring, id, sealed);
          if (!resealed) continue;
          writes.push(scans.replaceSealedStatement(id, sealed, resealed));
          reseals.push(true);
        } catch {
          counts.unreadable++;
          writes.push(audit(ctx.deps, "maintenance.reseal.unreadable", id, { sealedUnder: sealedKekId(sealed) }));
          reseals.push(false);
        }
      }
      for (const [i, result] of (await scans.batch(writes)).entries()) {
        if (!reseals[i]) continue;
        if (result.meta.changes === 1) counts.resealed++;
        else counts.changedMeanwhile++;
      }
      done += page.length;
      after = page[page.length - 1]!.id;
    }
    return { cursor: after, counts, memo };
  },
};
