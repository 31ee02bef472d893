import type { Env } from "../env";
import type { LedgerSubject } from "./spend-ledger";

/** A budget's ledger (Durable Object): the team's, or one tenant's. */
export function ledgerFor(env: Env, subject: LedgerSubject) {
  const name = subject.kind === "team" ? "team" : `tenant:${subject.tenantId}`;
  return env.LEDGER.get(env.LEDGER.idFromName(name));
}
