import type { Env } from "../env";
import { ledgerFor } from "./binding";
import type { LedgerSubject } from "./spend-ledger";

/**
 * A send that failed and that Zavu charged nothing for (its message.failed event has costTotal 0):
 * the estimate the gateway counted for it is released from the tenant's ledger (only when the tenant
 * has a credit limit and a sub-account: otherwise it has no ledger) and from the team's. `sentAt` is
 * the message's creation (unix ms, Zavu's createdAt): a send created before a ledger's last refresh
 * started is in Zavu's own figures already and is not credited there. The daily quota is not touched:
 * a failed send still used one of the day's sends. `messageId`, when given, makes a repeat harmless;
 * without it, the caller must call once per message (the relay deduplicates events by id).
 */
export async function releaseFailedSend(
  env: Env,
  tenant: { id: string; subAccountId: string | null; creditLimit: number | null },
  sentAt: number,
  messageId?: string,
): Promise<void> {
  const subjects: LedgerSubject[] = [{ kind: "team" }];
  if (tenant.creditLimit && tenant.subAccountId) {
    subjects.push({ kind: "tenant", tenantId: tenant.id, subAccountId: tenant.subAccountId });
  }
  await Promise.all(subjects.map((subject) => ledgerFor(env, subject).creditFailedSend(subject, sentAt, messageId)));
}
