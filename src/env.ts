import type { ControlPlane } from "./control/control-plane";
import type { SpendLedger } from "./spend/spend-ledger";

/** Bindings, secrets and vars of the gateway Worker (see wrangler.toml). */
export interface Env {
  DB: D1Database;
  CACHE: KVNamespace;
  /** The control plane: one instance ("global") logging security-relevant changes for every isolate. */
  CONTROL: DurableObjectNamespace<ControlPlane>;
  /** Spend ledgers: one per tenant with a credit limit, one for the team balance. */
  LEDGER: DurableObjectNamespace<SpendLedger>;
  /** The reseller's Zavu main-account key. */
  ZAVU_API_KEY: string;
  /** Base64 of 32 random bytes: the AES-256-GCM key that seals sub-account keys. */
  KEY_ENCRYPTION_KEY: string;
  /** Admin bearer token; two comma-separated tokens are accepted during a rotation. */
  ADMIN_TOKEN: string;
  ZAVU_API_BASE: string;
  ALLOW_HTTP_JWKS?: string;
  EXTRA_ALLOWED_ROUTES?: string;
  UPSTREAM_TIMEOUT_MS?: string;
  MAX_BODY_BYTES?: string;
  /** The estimated cost of a send (cents) before any real cost was seen; default 5. */
  SEND_COST_ESTIMATE_CENTS?: string;
}
