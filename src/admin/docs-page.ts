/**
 * The browsable admin API reference (Scalar), served on the origin where the admin token is used,
 * so it loads one exact file with Subresource Integrity and runs under a policy that allows
 * nothing else: no inline script, no other script host, requests to this origin only.
 *
 * To upgrade: `npm pack @scalar/api-reference@<version>`, then
 * `openssl dgst -sha384 -binary package/dist/browser/standalone.js | openssl base64 -A`.
 */
export const SCALAR_VERSION = "1.72.1";
export const SCALAR_SCRIPT = `https://cdn.jsdelivr.net/npm/@scalar/api-reference@${SCALAR_VERSION}/dist/browser/standalone.js`;
export const SCALAR_INTEGRITY = "sha384-U11tb2XnKvmwt8RlTvnwUnYgrN+ur4Xyh9htLhjajWNR/Oyl5AX5DEz00qRmlrmK";

/** Off: anything that would call a third party (fonts, telemetry, the AI agent) or keep the token in storage. */
const SCALAR_CONFIGURATION = {
  withDefaultFonts: false,
  telemetry: false,
  persistAuth: false,
  agent: { disabled: true },
  showDeveloperTools: "never",
};

export const DOCS_CSP = [
  "default-src 'none'",
  `script-src ${SCALAR_SCRIPT}`,
  "style-src 'self' 'unsafe-inline'", // the reference injects its own stylesheet at run time
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const escapeAttribute = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The page: configuration as inert data (read by the script, never executed), then the pinned script. */
export function docsPage(openApiUrl: string, title: string): Response {
  const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${escapeAttribute(title)}</title>
  </head>
  <body>
    <script id="api-reference" type="application/json" data-url="${escapeAttribute(openApiUrl)}" data-configuration="${escapeAttribute(JSON.stringify(SCALAR_CONFIGURATION))}"></script>
    <script src="${SCALAR_SCRIPT}" integrity="${SCALAR_INTEGRITY}" crossorigin="anonymous" referrerpolicy="no-referrer"></script>
  </body>
</html>
`;
  return new Response(html, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": DOCS_CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cross-origin-opener-policy": "same-origin",
      "cache-control": "no-store",
    },
  });
}
