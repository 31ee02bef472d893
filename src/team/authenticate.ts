import { type JWTPayload, errors as joseErrors, jwtVerify } from "jose";
import { type AccessSettings, config } from "../config";
import { controlPlane } from "../control/binding";
import type { Env } from "../env";
import { apiError } from "../errors";
import { CLOCK_TOLERANCE_SECONDS, MAX_TOKEN_LENGTH } from "../identity/verify";
import { authenticateAdmin } from "../lib/admin-token";
import { bearerCredentials } from "../lib/bearer";
import { sha256Base64Url } from "../lib/encoding";
import type { Role } from "../lib/roles";
import type { IsolateState } from "../state";
import { type CachedPrincipal, TeamRepo } from "../storage/team-repo";
import { normalEmail } from "./staff";

/** Who is calling, and what they may do. */
export interface Principal {
  role: Role;
  /** The audit log's actor: `key:<id> (<name>)`, `staff:<email>` or `admin:<token fingerprint>`, then the note. */
  actor: string;
  kind: "token" | "key" | "staff";
  /** Whether a Cloudflare Access assertion authenticated it (a browser, which must prove its origin). */
  viaAccess: boolean;
}

/** Admin API keys: `zgk_` and 43 base64url characters (256 random bits). */
export const ADMIN_KEY_PREFIX = "zgk_";
/** A key as createAdminKey makes one: the prefix and 32 random bytes, base64url. */
const ADMIN_KEY_SHAPE = /^zgk_[A-Za-z0-9_-]{43}$/;
/** last_used_at is written at most this often per key. */
export const KEY_TOUCH_EVERY_MS = 60_000;

/** The Access header: set by Cloudflare Access on every request it lets through. */
export const ACCESS_ASSERTION_HEADER = "cf-access-jwt-assertion";

export interface AuthRequest {
  env: Env;
  state: IsolateState;
  headers: Headers;
  waitUntil: (p: Promise<unknown>) => void;
  /** X-Admin-Actor (or the console's name): a note beside the actor, never the actor itself. */
  note?: string;
}

/** The note, printable and without brackets: it can never read as another actor ("… (staff:boss@…)"). */
const withNote = (actor: string, note?: string) =>
  note && /^[\x20-\x7e]{1,100}$/.test(note) ? `${actor} (${note.replace(/[()]/g, "")})` : actor;

/**
 * The one authentication of every admin door (the admin API, the console, GET /healthz?deep=1):
 * - `Authorization: Bearer zgk_…`: an admin API key (its role; refused when expired or revoked);
 * - `Authorization: Bearer <ADMIN_TOKEN>`: the bootstrap and break-glass token, role admin;
 * - no Authorization, and Access on: the `Cf-Access-Jwt-Assertion` header, verified (RS256, aud, iss,
 *   exp, nbf), the person's role from the staff table or ACCESS_DEFAULT_ROLE.
 */
export async function authenticate(req: AuthRequest): Promise<Principal> {
  const cfg = config(req.env);
  const authorization = req.headers.get("authorization");
  const assertion = cfg.access ? req.headers.get(ACCESS_ASSERTION_HEADER) : null;
  if (!authorization && assertion) return staffPrincipal(req, cfg.access!, assertion);
  const presented = bearerCredentials(authorization);
  if (presented?.startsWith(ADMIN_KEY_PREFIX)) return keyPrincipal(req, presented);
  if (!authorization && !cfg.adminTokens && cfg.access)
    throw apiError("unauthorized", "Sign in through Cloudflare Access, or send an admin API key as a Bearer token.");
  const actor = await authenticateAdmin(authorization ?? undefined, cfg.adminTokens, req.note);
  return { role: "admin", actor, kind: "token", viaAccess: false };
}

/** A cached principal when this isolate's view of the control plane is fresh, else D1 (cached if nothing raced it). */
async function cached(
  req: AuthRequest,
  key: string,
  load: () => Promise<CachedPrincipal | null>,
): Promise<CachedPrincipal | null> {
  const fresh = await req.state.control.ensureFresh(() => controlPlane(req.env), req.waitUntil);
  const hit = fresh ? req.state.principals.get(key) : undefined;
  if (hit) return hit;
  const epoch = req.state.control.epoch;
  const loaded = await load();
  // A revocation published while D1 was read may predate the read: then it serves this request only.
  if (loaded && fresh && req.state.control.epoch === epoch) req.state.principals.set(key, loaded);
  return loaded;
}

async function keyPrincipal(req: AuthRequest, secret: string): Promise<Principal> {
  // Only the shape keys are made in is looked up: anything else costs no hash and no D1 query.
  if (!ADMIN_KEY_SHAPE.test(secret)) throw apiError("unauthorized", "The admin API key is not valid.");
  const { state } = req;
  const hash = await sha256Base64Url(secret);
  const repo = new TeamRepo(req.env.DB, state.counters);
  const found = await cached(req, `key:${hash}`, async () => {
    const row = await repo.keyByHash(hash);
    return row && { role: row.role, actor: `key:${row.id} (${row.name})`, keyId: row.id, expiresAt: row.expiresAt };
  });
  if (!found) throw apiError("unauthorized", "The admin API key is not valid (revoked, or never issued).");
  const now = state.clock.now();
  if (found.expiresAt !== null && found.expiresAt <= now)
    throw apiError("unauthorized", "This admin API key has expired; ask an admin for a new one.");
  const id = found.keyId!;
  const last = state.keyTouches.get(id);
  if (last === undefined || now - last >= KEY_TOUCH_EVERY_MS) {
    state.keyTouches.set(id, now);
    req.waitUntil(repo.touchKey(id, now, KEY_TOUCH_EVERY_MS).catch(() => undefined));
  }
  return { role: found.role!, actor: withNote(found.actor, req.note), kind: "key", viaAccess: false };
}

async function staffPrincipal(req: AuthRequest, access: AccessSettings, assertion: string): Promise<Principal> {
  const payload = await verifyAccessAssertion(req, access, assertion);
  const email = typeof payload.email === "string" ? normalEmail(payload.email) : null;
  if (!email)
    throw apiError(
      "unauthorized",
      "This Access assertion names no person by a plain address (a service token?): scripts use an admin API key.",
    );
  const found = await cached(req, `staff:${email}`, async () => {
    const row = await new TeamRepo(req.env.DB, req.state.counters).staff(email);
    return { role: row?.role ?? access.defaultRole, actor: `staff:${email}`, expiresAt: null };
  });
  if (!found?.role)
    throw apiError(
      "forbidden",
      `Cloudflare Access let ${email} in, but they have no role here: an admin adds them as staff.`,
    );
  return { role: found.role, actor: withNote(found.actor, req.note), kind: "staff", viaAccess: true };
}

/** Verifies a Cloudflare Access assertion: RS256 only, keys from the team's certs URL (cached like tenants' key sets). */
export async function verifyAccessAssertion(
  req: Pick<AuthRequest, "env" | "state" | "waitUntil">,
  access: AccessSettings,
  assertion: string,
): Promise<JWTPayload> {
  if (assertion.length > MAX_TOKEN_LENGTH) throw apiError("unauthorized", "The Access assertion is too long.");
  const keys = req.state.jwks.remoteKeySet(access.certsUrl, {
    kv: req.env.CACHE,
    waitUntil: req.waitUntil,
    allowHttpLoopback: config(req.env).allowHttpJwks,
  });
  req.state.counters.signatureVerifications++;
  try {
    const { payload } = await jwtVerify(assertion, keys, {
      algorithms: ["RS256"],
      audience: access.aud,
      issuer: access.issuer,
      requiredClaims: ["exp"],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    });
    return payload;
  } catch (err) {
    throw apiError("unauthorized", `The Cloudflare Access assertion was refused: ${reason(err)}.`);
  }
}

function reason(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return "it has expired";
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `its ${err.claim} claim does not match`;
  if (err instanceof joseErrors.JWKSNoMatchingKey) return "no key of the team's key set signed it";
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return "it is not signed with RS256";
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return "its signature does not verify";
  if (err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JWSInvalid) return "it is not a valid JWT";
  return "the team's key set could not be read";
}
