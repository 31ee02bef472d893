import type { Env } from "../env";
import type { LedgerSubject } from "./spend-ledger";

/** A budget's ledger (Durable Object): the team's, one tenant's credit, or one tenant's quota on one day. */
export function ledgerFor(env: Env, subject: LedgerSubject) {
  const name =
    subject.kind === "team"
      ? "team"
      : subject.kind === "quota"
        ? `quota:${subject.tenantId}:${subject.day}`
        : `tenant:${subject.tenantId}`;
  return env.LEDGER.get(env.LEDGER.idFromName(name));
}
