import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import { BoundedCache } from "../lib/bounded-cache";
import type { Clock } from "../lib/clock";
import type { Counters } from "../lib/counters";
import { checkJwks, DEFAULT_ALGORITHMS, fetchJwks } from "./jwks";

/** The usable keys of a set, or throws with its first problem (a set that verifies nothing is no set). */
async function usableKeys(value: unknown): Promise<JSONWebKeySet> {
  const { keys, problems } = await checkJwks(value, DEFAULT_ALGORITHMS);
  if (keys.length === 0) throw new Error(problems[0]?.message ?? "no usable keys");
  return { keys };
}

/** A remote JWKS older than this is refreshed in the background on its next use. */
const REMOTE_MAX_AGE_MS = 10 * 60_000;
/** An unknown kid triggers at most one refetch per JWKS per cooldown. */
export const UNKNOWN_KID_COOLDOWN_MS = 30_000;
/** KV keeps the last good JWKS long after max age, so an IdP outage does not lock tenants out. */
const KV_TTL_SECONDS = 7 * 24 * 3600;

interface RemoteState {
  jwks: JSONWebKeySet;
  fetchedAt: number;
  keySet: JWTVerifyGetKey;
  lastAttemptAt: number;
  inflight?: Promise<RemoteState>;
}

export interface RemoteDeps {
  kv: KVNamespace;
  waitUntil: (p: Promise<unknown>) => void;
  /** The deployment's URL policy (ALLOW_HTTP_JWKS): a refresh obeys it as registration did. */
  allowHttpLoopback: boolean;
}

const kvKey = (uri: string) => `jwks:${uri}`;

/**
 * Verification keys, per isolate: inline JWKS imported once per stored document, remote JWKS
 * cached in memory and in KV, refreshed single-flight. Keys only ever verify signatures, so a stale
 * copy can delay a key rollover but never route a token to another tenant.
 */
export class JwksCache {
  private readonly remote: BoundedCache<string, RemoteState>;
  private readonly inline = new WeakMap<JSONWebKeySet, Promise<JWTVerifyGetKey>>();
  private readonly firstLoads = new Map<string, Promise<RemoteState>>();

  constructor(
    private readonly clock: Clock,
    private readonly counters: Counters,
  ) {
    this.remote = new BoundedCache({ maxEntries: 1_000, ttlMs: 24 * 3600_000, clock });
  }

  stats() {
    return this.remote.stats();
  }

  private localSet(jwks: JSONWebKeySet): JWTVerifyGetKey {
    this.counters.keyImports++; // a new key set imports its keys on first use, then keeps them
    return createLocalJWKSet(jwks);
  }

  /** Keys for a tenant whose JWKS is stored inline: judged and built once per stored JWKS object. */
  inlineKeySet(jwks: JSONWebKeySet): JWTVerifyGetKey {
    let set = this.inline.get(jwks);
    if (!set) {
      set = usableKeys(jwks).then((keys) => this.localSet(keys));
      this.inline.set(jwks, set);
    }
    const ready = set;
    return async (header, token) => (await ready)(header, token);
  }

  /** Keys for a tenant whose IdP publishes a jwks_uri. */
  remoteKeySet(uri: string, deps: RemoteDeps): JWTVerifyGetKey {
    return async (header, token) => {
      let state = await this.load(uri, deps);
      const now = this.clock.now();
      if (now - state.fetchedAt > REMOTE_MAX_AGE_MS && now - state.lastAttemptAt > UNKNOWN_KID_COOLDOWN_MS) {
        deps.waitUntil(this.refresh(uri, deps, state).catch(() => undefined));
      }
      try {
        return await state.keySet(header, token);
      } catch (err) {
        const unknownKid = err instanceof errors.JWKSNoMatchingKey;
        if (!unknownKid || now - state.lastAttemptAt < UNKNOWN_KID_COOLDOWN_MS) throw err;
        state = await this.refresh(uri, deps, state);
        return state.keySet(header, token);
      }
    };
  }

  private async download(uri: string, deps: RemoteDeps, previous?: RemoteState): Promise<RemoteState> {
    this.counters.jwksFetches++;
    const now = this.clock.now();
    try {
      const jwks = await usableKeys(await fetchJwks(uri, { allowHttpLoopback: deps.allowHttpLoopback }));
      const state: RemoteState = { jwks, fetchedAt: now, keySet: this.localSet(jwks), lastAttemptAt: now };
      this.remote.set(uri, state);
      this.counters.kvWrites++;
      deps.waitUntil(
        deps.kv.put(kvKey(uri), JSON.stringify({ jwks, fetchedAt: now }), { expirationTtl: KV_TTL_SECONDS }),
      );
      return state;
    } catch (err) {
      if (!previous) throw err;
      previous.lastAttemptAt = now; // keep serving the keys we have; the IdP may be down
      return previous;
    }
  }

  /** One refresh at a time per JWKS: concurrent callers wait on the same fetch. */
  private refresh(uri: string, deps: RemoteDeps, previous?: RemoteState): Promise<RemoteState> {
    if (previous?.inflight) return previous.inflight;
    const p = this.download(uri, deps, previous).finally(() => {
      if (previous) previous.inflight = undefined;
    });
    if (previous) previous.inflight = p;
    return p;
  }

  private async load(uri: string, deps: RemoteDeps): Promise<RemoteState> {
    const cached = this.remote.get(uri);
    if (cached) return cached;
    let pending = this.firstLoads.get(uri);
    if (!pending) {
      pending = (async () => {
        this.counters.kvReads++;
        const stored = await deps.kv.get<{ jwks: JSONWebKeySet; fetchedAt: number }>(kvKey(uri), "json");
        if (stored) {
          const state: RemoteState = { ...stored, keySet: this.localSet(stored.jwks), lastAttemptAt: 0 };
          this.remote.set(uri, state);
          return state;
        }
        return this.refresh(uri, deps);
      })().finally(() => this.firstLoads.delete(uri));
      this.firstLoads.set(uri, pending);
    }
    return pending;
  }
}
