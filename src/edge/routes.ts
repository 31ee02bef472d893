import type { SenderOp } from "../senders/service";

/**
 * Which customer calls the gateway forwards. Everything else, `/v1/sub-accounts` above all,
 * is refused before it reaches Zavu.
 */
export type RouteKind = "messaging" | "balance" | "senders" | "reseller-only";

export interface AllowedRoute {
  method: string;
  template: string;
  pattern: RegExp;
  kind: RouteKind;
  /** POSTs on messaging routes can cost money: checked against the cached limits first. */
  spending: boolean;
  /** A message send (POST /v1/messages): what sendsPerMinute, dailySends and usage records count. */
  send: boolean;
  /**
   * Answered by the gateway itself rather than the plain proxy: the senders service (kind "senders"),
   * or a refusal of what only the reseller may do (kind "reseller-only"). One flag: one branch on the hot path.
   */
  byGateway: boolean;
  sender?: SenderOp;
}

/**
 * Routes the gateway answers itself. Senders: the customer's webhook is the gateway's (Zavu posts to the
 * relay, the gateway signs for the customer), so these calls are rewritten, not proxied. Buying and
 * releasing numbers costs money outside the credit limit: the reseller does it (admin API, console).
 */
const GATEWAY_ROUTES: Record<string, { kind: RouteKind; sender?: SenderOp }> = {
  "POST /v1/senders": { kind: "senders", sender: "create" },
  "GET /v1/senders": { kind: "senders", sender: "list" },
  "GET /v1/senders/:id": { kind: "senders", sender: "retrieve" },
  "PATCH /v1/senders/:id": { kind: "senders", sender: "update" },
  "DELETE /v1/senders/:id": { kind: "senders", sender: "delete" },
  "POST /v1/senders/:id/webhook/secret": { kind: "senders", sender: "regenerateSecret" },
  "POST /v1/phone-numbers": { kind: "reseller-only" },
  "DELETE /v1/phone-numbers/:id": { kind: "reseller-only" },
};

export const DEFAULT_ROUTES = [
  "POST /v1/messages",
  "GET /v1/messages",
  "GET /v1/messages/:id",
  "GET /v1/messages/:id/attachments",
  "POST /v1/messages/:id/reactions",
  "POST /v1/messages/:id/typing",
  "GET /v1/balance",
  "GET /v1/phone-numbers",
  "GET /v1/phone-numbers/available",
  "GET /v1/phone-numbers/:id",
  ...Object.keys(GATEWAY_ROUTES),
];

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);
/** One path parameter: a plain id, never a dot segment or an encoded separator. */
const PARAM = "(?!\\.{1,2}(?:/|$))[A-Za-z0-9_.~-]{1,128}";

function compile(entry: string): AllowedRoute {
  const match = /^([A-Z]+)\s+(\/v1(?:\/[A-Za-z0-9_:.-]+)+)$/.exec(entry.trim());
  if (!match || !METHODS.has(match[1]!)) throw new Error(`Invalid route entry "${entry}" (expected "METHOD /v1/path")`);
  const [, method, template] = match as unknown as [string, string, string];
  if (/^\/v1\/sub-accounts(\/|$)/.test(template)) throw new Error("/v1/sub-accounts can never be opened to customers");
  const source = template
    .split("/")
    .map((seg) => (seg.startsWith(":") ? PARAM : seg.replace(/[.]/g, "\\.")))
    .join("/");
  const special = GATEWAY_ROUTES[`${method} ${template}`];
  const kind: RouteKind = special?.kind ?? (template === "/v1/balance" ? "balance" : "messaging");
  return {
    method,
    template,
    pattern: new RegExp(`^${source}$`),
    kind,
    spending: method === "POST" && kind === "messaging",
    send: method === "POST" && template === "/v1/messages",
    byGateway: special !== undefined,
    ...(special?.sender ? { sender: special.sender } : {}),
  };
}

/** Default routes plus the reseller's EXTRA_ALLOWED_ROUTES (bad entries are logged and skipped). */
export function compileRoutes(extra: string[]): AllowedRoute[] {
  const routes: AllowedRoute[] = [];
  for (const entry of [...DEFAULT_ROUTES, ...extra]) {
    try {
      routes.push(compile(entry));
    } catch (err) {
      console.error(`EXTRA_ALLOWED_ROUTES: ignoring entry: ${(err as Error).message}`);
    }
  }
  return routes;
}

export function matchRoute(routes: AllowedRoute[], method: string, path: string): AllowedRoute | undefined {
  if (path.includes("%") || path.includes("\\") || path.includes("//")) return undefined;
  return routes.find((r) => r.method === method && r.pattern.test(path));
}

const compiled = new WeakMap<readonly string[], AllowedRoute[]>();

/** The compiled routes for a config's extra entries, once per isolate. */
export function routesFor(extra: readonly string[]): AllowedRoute[] {
  let routes = compiled.get(extra);
  if (!routes) {
    routes = compileRoutes([...extra]);
    compiled.set(extra, routes);
  }
  return routes;
}
