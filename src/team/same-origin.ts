import { apiError } from "../errors";
import { ACCESS_ASSERTION_HEADER } from "./authenticate";

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Browsers must prove a change comes from the gateway's own pages. Behind Cloudflare Access a browser
 * carries the person's cookie, which Access turns into an assertion on any request, cross-site ones
 * included: so every state-changing request that comes from a browser (it sends `Origin` or
 * `Sec-Fetch-Site`, or carries an Access assertion or cookie) must send `Origin` equal to the gateway's
 * own origin, or `Sec-Fetch-Site: same-origin` (or `none`: typed by the person). Scripts that send none
 * of these (curl, the typed client, server-to-server calls with a key) are not browsers and go on.
 * Throws 403 cross_site_request.
 */
export function requireSameOrigin(request: Request): void {
  if (SAFE.has(request.method)) return;
  const h = request.headers;
  const origin = h.get("origin");
  const site = h.get("sec-fetch-site");
  const browser =
    origin !== null ||
    site !== null ||
    h.has(ACCESS_ASSERTION_HEADER) ||
    /(?:^|;\s*)CF_Authorization=/.test(h.get("cookie") ?? "");
  if (!browser) return;
  if (origin !== null) {
    if (origin === new URL(request.url).origin) return;
  } else if (site === "same-origin" || site === "none") return;
  throw apiError(
    "cross_site_request",
    origin !== null
      ? "This change came from another site's page (its Origin is not the gateway's); it was refused."
      : "This change came from a browser that did not show it came from the gateway's own pages; it was refused.",
  );
}
