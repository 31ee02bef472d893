import type { Config } from "../config";
import { apiError } from "../errors";
import type { Counters } from "../lib/counters";
import { SenderService } from "../senders/service";
import { SenderRepo } from "../storage/senders-repo";
import { type ForwardOptions, jsonBodyOf, upstreamCaller } from "./proxy";
import type { AllowedRoute } from "./routes";

export interface GatewayRouteDeps {
  db: D1Database;
  counters: Counters;
  cfg: Pick<Config, "keyring" | "publicBaseUrl" | "allowHttpJwks" | "maxBodyBytes">;
  tenantId: string;
  forward: ForwardOptions;
  /** Zavu refused the tenant's stored key: the edge reloads it next time. */
  onUpstreamAuthFailed(): void;
  /** The last status Zavu answered (for the request log). */
  trace: { upstreamStatus: number | null };
}

/**
 * The customer routes the gateway answers itself (AllowedRoute.byGateway): the senders service, and the
 * refusal of what only the reseller may do. Neither is a send, and neither spends.
 */
export async function answerByGateway(
  route: AllowedRoute,
  request: Request,
  url: URL,
  deps: GatewayRouteDeps,
): Promise<Response> {
  if (route.kind === "reseller-only") throw apiError("phone_numbers_managed_by_reseller");
  const call = upstreamCaller(request, deps.forward);
  const service = new SenderService({
    tenantId: deps.tenantId,
    repo: new SenderRepo(deps.db, deps.counters),
    keyring: deps.cfg.keyring,
    publicBaseUrl: deps.cfg.publicBaseUrl,
    requestOrigin: url.origin,
    allowHttpLoopback: deps.cfg.allowHttpJwks,
    upstream: async (method, path, body, opts) => {
      const res = await call(method, path, body, opts);
      deps.trace.upstreamStatus = res.status;
      if (res.status === 401) {
        deps.onUpstreamAuthFailed();
        await res.body?.cancel();
        throw apiError("upstream_auth_failed");
      }
      return res;
    },
  });
  // /v1/senders/{id}[/webhook/secret]: the id is the fourth segment (the route's pattern vetted it).
  const id = url.pathname.split("/")[3] ?? null;
  return service.handle(route.sender!, id, url.search, () => jsonBodyOf(request, deps.cfg.maxBodyBytes));
}
