import { apiError } from "../errors";
import { ACCESS_ASSERTION_HEADER } from "./authenticate";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Browsers must prove a change comes from the gateway's own pages. Behind Cloudflare Access a browser
 * carries the person's cookie, which Access turns into an assertion on any request, cross-site ones
 * included: so every state-changing request that comes from a browser (it sends `Origin` or
 * `Sec-Fetch-Site`, or carries an Access assertion or cookie) must send `Origin` equal to the gateway's
 * own origin, or `Sec-Fetch-Site: same-origin` (or `none`: typed by the person); when a browser sends
 * `Sec-Fetch-Site`, it decides. Scripts that send none of these (curl, the typed client, server-to-server
 * calls with a key) are not browsers and go on, and neither is a request with an Authorization header.
 * Throws 403 cross_site_request.
 */
export function requireSameOrigin(request: Request): void {
  if (SAFE.has(request.method)) return;
  const h = request.headers;
  // A Bearer credential cannot come from another site's page: a cross-site request with Authorization
  // needs a CORS preflight, which the gateway never allows. (Behind Access, a script's request carries
  // an assertion from its service token and a key or ADMIN_TOKEN: it is not a browser's.)
  if (/^bearer\s/i.test(h.get("authorization") ?? "")) return; // (a browser attaches only Basic by itself)
  const origin = h.get("origin");
  const site = h.get("sec-fetch-site");
  const browser =
    origin !== null ||
    site !== null ||
    h.has(ACCESS_ASSERTION_HEADER) ||
    /(?:^|;\s*)CF_Authorization=/.test(h.get("cookie") ?? "");
  if (!browser) return;
  // Sec-Fetch-Site, when sent, is the browser's own judgement and decides; else Origin must be ours.
  if (site !== null) {
    if (site === "same-origin" || site === "none") return;
  } else if (origin === new URL(request.url).origin) return;
  throw apiError(
    "cross_site_request",
    origin !== null
      ? "This change came from another site's page (its Origin is not the gateway's); it was refused."
      : "This change came from a browser that did not show it came from the gateway's own pages; it was refused.",
  );
}
