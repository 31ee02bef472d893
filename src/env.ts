/**
 * Bindings, vars and secrets of the gateway Worker. `Cloudflare.Env` is generated from
 * wrangler.toml by `npm run types` (worker-configuration.d.ts; CI checks it is current). Only
 * what wrangler.toml does not declare is added here.
 */
export interface Env extends Cloudflare.Env {
  /** The KEY_ENCRYPTION_KEY before the current one, set only while stored keys are re-sealed. */
  KEY_ENCRYPTION_KEY_PREVIOUS?: string;
  /** The estimated cost of a send (cents) before any real cost was seen; default 5. */
  SEND_COST_ESTIMATE_CENTS?: string;
  /** Multiplies the webhook retry schedule (default 1: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h); tests make it short. */
  WEBHOOK_RETRY_SCALE?: string;
  /** How long a daily-quota lease lives far from the quota, in seconds (default 600); tests make it short. */
  QUOTA_LEASE_SECONDS?: string;
}
