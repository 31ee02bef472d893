import { decodeJwt, decodeProtectedHeader, type JWTPayload, type JWTVerifyGetKey } from "jose";
import type { ControlPlaneApi } from "../control/control-sync";
import { type ChangeEvent, TENANT_CACHE_TTL_MS } from "../control/events";
import { apiError } from "../errors";
import { BoundedCache } from "../lib/bounded-cache";
import type { Clock } from "../lib/clock";
import type { Counters } from "../lib/counters";
import type { EdgeTenant, TenantRepo } from "../storage/tenants";
import type { JwksCache, RemoteDeps } from "./key-sets";
import { MAX_TOKEN_LENGTH, TokenRejected, verifyToken } from "./verify";

/** A tenant as this isolate keeps it between D1 reads. Replaced (never mutated) when it changes. */
export interface TenantEntry {
  readonly tenant: EdgeTenant;
  /** The decrypted sub-account key, opened on first use. */
  apiKey?: Promise<string>;
}

/** What resolution needs from the request: D1, the control plane's view, and the request's waitUntil. */
export interface ResolveContext {
  repo: TenantRepo;
  /** Whether this isolate's caches may be used (the control plane was reached within the bound). */
  fresh: boolean;
  /** The epoch of the control plane this isolate has applied, and what changed since a given one. */
  control: {
    epoch: number;
    changedSince(epoch: number, tenantId: string | null, issuer: string | null): boolean;
    /** Waits for a control-plane sync that starts after the call (see ControlSync.catchUp). */
    catchUp?(plane: () => ControlPlaneApi): Promise<void>;
  };
  /** The control plane, for a catch-up (the same function the request's freshness check was given). */
  plane?: () => ControlPlaneApi;
  remote: RemoteDeps;
  /** Filled in for the request log: which caches answered. */
  hits?: { token?: boolean; tenant?: boolean };
}

interface IssuerIndex {
  /** The claim that tells this issuer's tenants apart ('' when it has one tenant and no claim). */
  claimName: string;
  /** claim value -> tenant id. */
  tenants: Map<string, string>;
  /** Claim values that matched no tenant (bounded: garbage cannot grow it without limit). */
  misses: Set<string>;
}

const MAX_CACHED_TOKEN = 4 * 1024;
const MAX_MISSES_PER_ISSUER = 1_000;
/** D1 lookups of issuers the registry does not list: this many a second per isolate, in bursts of UNKNOWN_LOOKUP_BURST. */
const UNKNOWN_LOOKUPS_PER_SECOND = 1;
const UNKNOWN_LOOKUP_BURST = 3;
/** An issuer D1 said nobody holds is asked again after this long even without an event (a delayed publication). */
const UNREGISTERED_TTL_MS = 30_000;

const unauthorized = (message: string) => apiError("unauthorized", message);

function claimValue(payload: JWTPayload, name: string): string {
  if (!name) return "";
  const v = payload[name];
  return typeof v === "string" ? v : "";
}

/**
 * Token -> tenant, for one isolate. Everything cached here is dropped by the control plane's events
 * (see ControlSync): a tenant's entry when the tenant changes, an issuer's index when its registrations
 * change. Verified tokens point at the entry they were verified under and count only while that very
 * entry is current, so dropping an entry also retires its tokens. Issuers and claim values are kept in
 * nested maps, so no two registrations can share a cache key.
 */
export class TenantResolver {
  private readonly tenants: BoundedCache<string, TenantEntry>;
  private readonly issuers: BoundedCache<string, IssuerIndex>;
  /**
   * Tokens already verified, never kept past `exp`. Keyed by the token itself: V8 hashes the string
   * natively and a hit compares it exactly, where a SHA-256 of each token cost 60 µs of CPU per request
   * (measured). Bounded by bytes as well as entries.
   */
  private readonly verified: BoundedCache<string, TenantEntry>;
  /** Every registered issuer (null until first needed); issuers changed since are in `dirtyIssuers`. */
  private registry: Set<string> | null = null;
  private registryLoad: Promise<void> | null = null;
  /** Counts resets: a registry read started before the last one is not kept. */
  private registryGeneration = 0;
  private readonly dirtyIssuers = new Set<string>();
  /**
   * Issuers D1 said no tenant holds, since no event named them: asked again once an event does (a
   * registration publishes one), or after 30 s when a registration's publication was delayed. Without it,
   * the apps of a deactivated tenant, whose identity was given back, would spend the lookups below
   * and keep a tenant created moments ago in another isolate waiting for its event.
   */
  private readonly unregistered: BoundedCache<string, true>;
  private lookups = UNKNOWN_LOOKUP_BURST;
  private readonly issuerChecks = new Map<string, Promise<boolean>>();
  private lookupsAt = 0;

  constructor(
    private readonly clock: Clock,
    private readonly counters: Counters,
    private readonly jwks: JwksCache,
  ) {
    this.tenants = new BoundedCache({ maxEntries: 10_000, ttlMs: TENANT_CACHE_TTL_MS, clock });
    this.issuers = new BoundedCache({ maxEntries: 10_000, ttlMs: TENANT_CACHE_TTL_MS, clock });
    this.unregistered = new BoundedCache({ maxEntries: 10_000, ttlMs: UNREGISTERED_TTL_MS, clock });
    this.verified = new BoundedCache({
      maxEntries: 20_000,
      ttlMs: TENANT_CACHE_TTL_MS,
      clock,
      weigh: (token) => token.length,
      maxWeight: 16 * 1024 * 1024,
    });
  }

  /** The tenant a customer's JWT proves it belongs to, or a 401. */
  async authenticate(token: string, ctx: ResolveContext): Promise<TenantEntry> {
    if (ctx.fresh) {
      const seen = this.verified.get(token);
      if (seen && this.tenants.get(seen.tenant.id) === seen) {
        if (ctx.hits) ctx.hits.token = true;
        return seen;
      }
    }
    if (ctx.hits) ctx.hits.token = false;
    let payload: JWTPayload;
    try {
      decodeProtectedHeader(token);
      payload = decodeJwt(token);
    } catch {
      throw unauthorized("Token is malformed; expected a signed JWT.");
    }
    if (typeof payload.iss !== "string" || payload.iss === "") throw unauthorized("Token has no iss claim.");
    if (typeof payload.exp !== "number") throw unauthorized("Token has no exp claim; expiring tokens are required.");

    const entry = await this.resolve(payload.iss, payload, ctx);
    if (!entry) throw unauthorized("Token issuer (and claim) is not registered with this gateway.");
    let claims: JWTPayload;
    try {
      claims = await verifyToken(token, entry.tenant.identity, this.keysFor(entry.tenant, ctx.remote), this.counters);
    } catch (err) {
      if (err instanceof TokenRejected) throw unauthorized(err.message);
      throw err;
    }
    const ttl = Math.min(claims.exp! * 1000 - this.clock.now(), TENANT_CACHE_TTL_MS);
    if (ctx.fresh && ttl > 0 && token.length <= MAX_CACHED_TOKEN && this.tenants.get(entry.tenant.id) === entry) {
      this.verified.set(token, entry, ttl);
    }
    return entry;
  }

  private keysFor(tenant: EdgeTenant, remote: RemoteDeps): JWTVerifyGetKey {
    const { identity } = tenant;
    return identity.jwks ? this.jwks.inlineKeySet(identity.jwks) : this.jwks.remoteKeySet(identity.jwksUri!, remote);
  }

  /**
   * The tenant an (unverified) token claims to belong to; the caller verifies the token against
   * it before trusting anything in it. Unknown issuers are refused without touching D1.
   */
  private async resolve(issuer: string, payload: JWTPayload, ctx: ResolveContext): Promise<TenantEntry | null> {
    if (ctx.fresh) {
      if (!(await this.mayBeRegistered(issuer, ctx)) && !(await this.registeredSince(issuer, ctx))) {
        this.counters.unknownIssuerRejections++;
        return null;
      }
      const index = this.issuers.get(issuer);
      if (index) {
        const value = claimValue(payload, index.claimName);
        const id = index.tenants.get(value);
        const entry = id === undefined ? undefined : this.tenants.get(id);
        if (entry) {
          if (ctx.hits) ctx.hits.tenant = true;
          return entry;
        }
        if (id === undefined && index.misses.has(value)) return null;
      }
    }
    const startEpoch = ctx.control.epoch;
    if (ctx.hits) ctx.hits.tenant = false;
    const found = await ctx.repo.findForToken(issuer, JSON.stringify(payload));
    const cacheable = ctx.fresh && !ctx.control.changedSince(startEpoch, found.tenant?.id ?? null, issuer);
    if (!found.tenant) {
      if (cacheable && !found.issuerKnown) {
        this.forgetIssuer(issuer, false);
        this.unregistered.set(issuer, true);
      }
      if (cacheable && found.issuerKnown) {
        const index = this.indexFor(issuer, found.claimName);
        if (index.misses.size >= MAX_MISSES_PER_ISSUER) index.misses.clear();
        index.misses.add(claimValue(payload, found.claimName));
      }
      return null;
    }
    const entry: TenantEntry = { tenant: found.tenant };
    if (cacheable) {
      const claimName = found.tenant.identity.claim?.name ?? "";
      const value = found.tenant.identity.claim?.value ?? "";
      const index = this.indexFor(issuer, claimName);
      index.tenants.set(value, found.tenant.id);
      index.misses.delete(value);
      this.tenants.set(found.tenant.id, entry);
      this.markRegistered(issuer);
    }
    return entry;
  }

  /**
   * An issuer the registry does not list may belong to a tenant created moments ago in another
   * isolate (the event reaches this one within the consistency bound). A few such checks a second go
   * to D1 (a token bucket; concurrent requests for one issuer share one check), so a new tenant works
   * at once while a flood of garbage costs at most UNKNOWN_LOOKUPS_PER_SECOND queries a second. Past
   * that allowance (many tenants created at once), the request waits for a control-plane sync that
   * starts after it arrived: the tenant's creation was published before its token could be used.
   */
  private registeredSince(issuer: string, ctx: ResolveContext): Promise<boolean> {
    if (this.unregistered.get(issuer)) return Promise.resolve(false);
    let pending = this.issuerChecks.get(issuer);
    if (!pending) {
      if (this.issuerChecks.size >= 100 || !this.spareLookup()) return this.announcedSince(issuer, ctx);
      const startEpoch = ctx.control.epoch;
      pending = ctx.repo
        .issuerRegistered(issuer)
        .then((registered) => {
          if (!ctx.control.changedSince(startEpoch, null, issuer)) {
            if (registered) this.markRegistered(issuer);
            else this.unregistered.set(issuer, true);
          }
          return registered;
        })
        .finally(() => this.issuerChecks.delete(issuer));
      this.issuerChecks.set(issuer, pending);
    }
    return pending;
  }

  /** While the registry loads, a read that may predate this registration: kept dirty until it lands. */
  private markRegistered(issuer: string): void {
    if (this.registry) {
      this.registry.add(issuer);
      this.dirtyIssuers.delete(issuer);
    } else this.dirtyIssuers.add(issuer);
  }

  private async announcedSince(issuer: string, ctx: ResolveContext): Promise<boolean> {
    if (!ctx.plane || !ctx.control.catchUp) return false;
    await ctx.control.catchUp(ctx.plane);
    // The sync may have been a reset (registry dropped): then the registry is read again.
    return this.mayBeRegistered(issuer, ctx);
  }

  private spareLookup(): boolean {
    const now = this.clock.now();
    const refill = ((now - this.lookupsAt) / 1000) * UNKNOWN_LOOKUPS_PER_SECOND;
    this.lookups = Math.min(UNKNOWN_LOOKUP_BURST, this.lookups + refill);
    this.lookupsAt = now;
    if (this.lookups < 1) return false;
    this.lookups -= 1;
    return true;
  }

  private indexFor(issuer: string, claimName: string): IssuerIndex {
    let index = this.issuers.get(issuer);
    if (!index || index.claimName !== claimName) {
      index = { claimName, tenants: new Map(), misses: new Set() };
      this.issuers.set(issuer, index);
    }
    return index;
  }

  /** Whether an issuer may have tenants: registered when the registry was read, or changed since. */
  private async mayBeRegistered(issuer: string, ctx: ResolveContext): Promise<boolean> {
    if (this.dirtyIssuers.has(issuer)) return true;
    // A read that a reset made stale lands without setting the registry: then this waits for a new one.
    while (!this.registry) {
      if (!this.registryLoad) {
        const load: Promise<void> = this.loadRegistry(ctx).finally(() => {
          if (this.registryLoad === load) this.registryLoad = null;
        });
        this.registryLoad = load;
      }
      await this.registryLoad;
      // Marked while the read was on its way (markRegistered): the read may predate the registration.
      if (this.dirtyIssuers.has(issuer)) return true;
    }
    return this.registry.has(issuer);
  }

  /**
   * Issuers changed while this reads are marked dirty by the events that announce them. A reset drops
   * those marks, so a read started before one is not kept (its issuers may be older than the reset).
   */
  private async loadRegistry(ctx: ResolveContext): Promise<void> {
    const generation = this.registryGeneration;
    const issuers = await ctx.repo.issuers();
    if (generation === this.registryGeneration) this.registry = new Set(issuers);
  }

  private forgetIssuer(issuer: string, dirty: boolean): void {
    this.issuers.delete(issuer);
    if (dirty) {
      this.unregistered.delete(issuer);
      this.dirtyIssuers.add(issuer);
      // Bounded: past this many, reading the registry again is cheaper than checking each one in D1.
      if (this.dirtyIssuers.size > 10_000) this.reset();
    } else {
      this.registry?.delete(issuer);
      this.dirtyIssuers.delete(issuer);
    }
  }

  /** The control plane's events: drop what they name. */
  apply(events: ChangeEvent[]): void {
    for (const event of events) {
      if (event.tenantId) this.tenants.delete(event.tenantId);
      for (const issuer of event.issuers) this.forgetIssuer(issuer, true);
    }
  }

  /** Drops everything this isolate knows about tenants. */
  reset(): void {
    this.tenants.clear();
    this.issuers.clear();
    this.unregistered.clear();
    this.verified.clear();
    this.registry = null;
    this.registryLoad = null;
    this.registryGeneration++;
    this.dirtyIssuers.clear();
  }

  /** A tenant's entry, if this isolate holds one (for the edge's 401-from-Zavu path). */
  forgetTenant(tenantId: string): void {
    this.tenants.delete(tenantId);
  }

  stats() {
    return {
      verifiedTokens: this.verified.stats(),
      tenants: this.tenants.stats(),
      issuers: this.issuers.stats(),
      unregistered: this.unregistered.stats(),
      registry: { size: this.registry?.size ?? 0, dirty: this.dirtyIssuers.size, loaded: this.registry !== null },
    };
  }
}

export { MAX_TOKEN_LENGTH };
