import { kekId, resealKey, sealedKekId, sealedPrefix } from "../../storage/key-vault";
import { customerSecretOwner, SenderRepo, upstreamSecretOwner } from "../../storage/senders-repo";
import { TenantScans } from "../../storage/tenants";
import { WebhookRepo } from "../../storage/webhook-repo";
import { audit } from "../../tenants/context";
import type { JobContext, MaintenanceJob } from "../job";

const PAGE = 100;
/** After a complete pass, look again this often (a Worker version still on the old key may have sealed since). */
const RECHECK_MS = 60 * 60_000;

/**
 * Where sealed secrets live: tenants' sub-account keys, webhook endpoints' signing secrets, then
 * senders' secrets (the customer's, and Zavu's for the relay).
 */
interface SealedStore {
  /** The cursor's prefix for this store's part of a pass. */
  name: "tenants" | "webhooks" | "sender-secrets" | "sender-zavu-secrets";
  outside(prefix: string, opts: { after: string; limit: number }): Promise<{ id: string; sealed: string }[]>;
  replaceSealedStatement(id: string, from: string, to: string): D1PreparedStatement;
  /** What the ciphertext is bound to (the associated data it was sealed with). */
  ownerOf(id: string): string;
  /** The audit entry's detail: which row could not be opened. */
  detailOf(id: string): Record<string, string>;
}

function stores(ctx: JobContext, tenants: TenantScans): SealedStore[] {
  const webhooks = new WebhookRepo(ctx.deps.db, ctx.deps.counters);
  const senders = new SenderRepo(ctx.deps.db, ctx.deps.counters);
  return [
    {
      name: "tenants",
      outside: (prefix, opts) => tenants.sealedOutside(prefix, opts),
      replaceSealedStatement: (id, from, to) => tenants.replaceSealedStatement(id, from, to),
      ownerOf: (id) => id,
      detailOf: () => ({}),
    },
    {
      name: "webhooks",
      outside: (prefix, opts) => webhooks.sealedOutside(prefix, opts),
      replaceSealedStatement: (id, from, to) => webhooks.replaceSealedStatement(id, from, to),
      ownerOf: (id) => id,
      detailOf: (id) => ({ webhookId: id }),
    },
    {
      name: "sender-secrets",
      outside: (prefix, opts) => senders.sealedOutside("secret_ciphertext", prefix, opts),
      replaceSealedStatement: (id, from, to) => senders.replaceSealedStatement("secret_ciphertext", id, from, to),
      ownerOf: customerSecretOwner,
      detailOf: () => ({ secret: "sender webhook secret" }),
    },
    {
      name: "sender-zavu-secrets",
      outside: (prefix, opts) => senders.sealedOutside("upstream_secret_ciphertext", prefix, opts),
      replaceSealedStatement: (id, from, to) =>
        senders.replaceSealedStatement("upstream_secret_ciphertext", id, from, to),
      ownerOf: upstreamSecretOwner,
      detailOf: () => ({ secret: "sender relay secret (Zavu's)" }),
    },
  ];
}

/** A cursor is "<store>:<last id>"; a bare id is a tenant id (a pass started before webhooks were re-sealed). */
function parseCursor(all: SealedStore[], cursor: string | null): { store: number; after: string } {
  if (cursor === null) return { store: 0, after: "" };
  const colon = cursor.indexOf(":");
  const store = colon < 0 ? -1 : all.findIndex((s) => s.name === cursor.slice(0, colon));
  return store < 0 ? { store: 0, after: cursor } : { store, after: cursor.slice(colon + 1) };
}

/**
 * Moves every stored secret to the current KEY_ENCRYPTION_KEY: each tenant's sub-account key, each
 * webhook endpoint's signing secret, then each sender's two secrets. It opens one with the key its ciphertext names
 * (KEY_ENCRYPTION_KEY_PREVIOUS during a rotation), seals it again, and writes it back only if the
 * row still holds what was read, so a rotation or repair in between is never overwritten. The
 * plaintext is the same, so traffic and signatures are unaffected. A new pass starts as soon as the
 * current key changes.
 */
export const resealKeys: MaintenanceJob = {
  name: "reseal-keys",
  description:
    "Re-seals every stored sub-account key, webhook secret and sender secret under the current KEY_ENCRYPTION_KEY",
  unitCost: 2, // a page read and its batched write

  async due(state, ctx) {
    if (state.memo.kekId !== (await kekId(ctx.keyring.current))) return true;
    return state.lastPassEndedAt === null || ctx.now - state.lastPassEndedAt >= RECHECK_MS;
  },

  async run(ctx, cursor) {
    const scans = new TenantScans(ctx.deps.db, ctx.deps.counters);
    const all = stores(ctx, scans);
    const prefix = await sealedPrefix(ctx.keyring.current);
    const memo = { kekId: await kekId(ctx.keyring.current) };
    const counts = { resealed: 0, unreadable: 0, changedMeanwhile: 0 };
    let { store, after } = parseCursor(all, cursor);
    let done = 0;

    while (ctx.budget.allows(this.unitCost) && done < ctx.maxItems) {
      const current = all[store]!;
      const page = await current.outside(prefix, { after, limit: Math.min(PAGE, ctx.maxItems - done) });
      if (page.length === 0) {
        if (store === all.length - 1) return { cursor: null, counts, memo };
        store++;
        after = "";
        continue;
      }
      const writes: D1PreparedStatement[] = [];
      const reseals: boolean[] = []; // per write: a re-seal (true) or an audit entry
      for (const { id, sealed } of page) {
        try {
          const resealed = await resealKey(ctx.keyring, current.ownerOf(id), sealed);
          if (!resealed) continue;
          writes.push(current.replaceSealedStatement(id, sealed, resealed));
          reseals.push(true);
        } catch {
          counts.unreadable++;
          const detail = { sealedUnder: sealedKekId(sealed), ...current.detailOf(id) };
          const tenantId = current.name === "tenants" ? id : null;
          writes.push(audit(ctx.deps, "maintenance.reseal.unreadable", tenantId, detail));
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
    return { cursor: `${all[store]!.name}:${after}`, counts, memo };
  },
};
