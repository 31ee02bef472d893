import type { MiddlewareHandler } from "hono";
import { NONCE, secureHeaders } from "hono/secure-headers";

/**
 * Headers for the console and the portal. Scripts and styles run only with this response's
 * nonce (the portal runs no script at all), nothing may frame the pages, and no URL (the
 * portal's holds a secret) leaves in a Referer. Nothing is cached.
 */
export function pageSecurity(opts: { script: boolean; trustedTypesPolicy?: string }): MiddlewareHandler {
  const headers = secureHeaders({
    contentSecurityPolicy: {
      defaultSrc: ["'none'"],
      scriptSrc: opts.script ? [NONCE] : ["'none'"],
      styleSrc: [NONCE],
      imgSrc: ["'self'", "data:"],
      connectSrc: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      ...(opts.trustedTypesPolicy
        ? { requireTrustedTypesFor: ["'script'"], trustedTypes: [opts.trustedTypesPolicy] }
        : {}),
    },
    referrerPolicy: "no-referrer",
    xFrameOptions: "DENY",
    crossOriginOpenerPolicy: "same-origin",
    crossOriginResourcePolicy: "same-origin",
    permissionsPolicy: { camera: [], microphone: [], geolocation: [], payment: [] },
  });
  return async (c, next) => {
    await headers(c, next);
    c.header("cache-control", "no-store");
  };
}
