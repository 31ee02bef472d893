import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import { BoundedCache } from "../lib/bounded-cache";
import { counters } from "../storage/counters";
import { fetchJwks, usableJwks } from "./jwks";

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

const remote = new BoundedCache<string, RemoteState>(1_000, 24 * 3600_000);
const inlineSets = new WeakMap<JSONWebKeySet, JWTVerifyGetKey>();

export function remoteJwksCacheStats() {
  return { size: remote.size, max: remote.maxEntries };
}

function localSet(jwks: JSONWebKeySet): JWTVerifyGetKey {
  counters.keyImports++; // a new key set imports its keys on first use, then keeps them
  return createLocalJWKSet(jwks);
}

/** Keys for a tenant whose JWKS is stored inline: built once per stored JWKS object. */
export function inlineKeySet(jwks: JSONWebKeySet): JWTVerifyGetKey {
  let set = inlineSets.get(jwks);
  if (!set) {
    set = localSet(usableJwks(jwks));
    inlineSets.set(jwks, set);
  }
  return set;
}

export interface RemoteDeps {
  kv: KVNamespace;
  waitUntil: (p: Promise<unknown>) => void;
}

const kvKey = (uri: string) => `jwks:${uri}`;

async function download(uri: string, deps: RemoteDeps, previous?: RemoteState): Promise<RemoteState> {
  counters.jwksFetches++;
  const now = Date.now();
  try {
    const jwks = usableJwks(await fetchJwks(uri));
    const state: RemoteState = { jwks, fetchedAt: now, keySet: localSet(jwks), lastAttemptAt: now };
    remote.set(uri, state);
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
function refresh(uri: string, deps: RemoteDeps, previous?: RemoteState): Promise<RemoteState> {
  if (previous?.inflight) return previous.inflight;
  const p = download(uri, deps, previous).finally(() => {
    if (previous) previous.inflight = undefined;
  });
  if (previous) previous.inflight = p;
  return p;
}

const firstLoads = new Map<string, Promise<RemoteState>>();

async function load(uri: string, deps: RemoteDeps): Promise<RemoteState> {
  const cached = remote.get(uri);
  if (cached) return cached;
  let pending = firstLoads.get(uri);
  if (!pending) {
    pending = (async () => {
      counters.kvReads++;
      const stored = await deps.kv.get<{ jwks: JSONWebKeySet; fetchedAt: number }>(kvKey(uri), "json");
      if (stored) {
        const state: RemoteState = { ...stored, keySet: localSet(stored.jwks), lastAttemptAt: 0 };
        remote.set(uri, state);
        return state;
      }
      return refresh(uri, deps);
    })().finally(() => firstLoads.delete(uri));
    firstLoads.set(uri, pending);
  }
  return pending;
}

/** Keys for a tenant whose IdP publishes a jwks_uri. */
export function remoteKeySet(uri: string, deps: RemoteDeps): JWTVerifyGetKey {
  return async (header, token) => {
    let state = await load(uri, deps);
    const now = Date.now();
    if (now - state.fetchedAt > REMOTE_MAX_AGE_MS && now - state.lastAttemptAt > UNKNOWN_KID_COOLDOWN_MS) {
      deps.waitUntil(refresh(uri, deps, state).catch(() => undefined));
    }
    try {
      return await state.keySet(header, token);
    } catch (err) {
      const unknownKid = err instanceof errors.JWKSNoMatchingKey;
      if (!unknownKid || now - state.lastAttemptAt < UNKNOWN_KID_COOLDOWN_MS) throw err;
      state = await refresh(uri, deps, state);
      return state.keySet(header, token);
    }
  };
}
