// The admin API's OpenAPI document as the gateway serves it: the deploy bundle (`wrangler deploy
// --dry-run`) run in workerd, asked for GET /admin/v1/openapi.json. Shared by the tests that check the
// document and by `npm run client:generate`, so both read the very same document.
import { convertV4MiniflareOptions, Miniflare } from "miniflare";

/** The document served by the gateway bundle at `script` (index.js of `wrangler deploy --dry-run --outdir`). */
export async function servedAdminDocument(script) {
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      // The gateway writes a log line per admin call; nobody needs it here.
      handleStructuredLogs: () => {},
      workers: [
        {
          name: "gateway",
          modules: true,
          scriptPath: script,
          compatibilityDate: "2026-11-01",
          compatibilityFlags: ["nodejs_compat"],
          d1Databases: { DB: "openapi-db" },
          kvNamespaces: { CACHE: "openapi-kv" },
          durableObjects: Object.fromEntries(
            [
              ["CONTROL", "ControlPlane"],
              ["LEDGER", "SpendLedger"],
              ["USAGE", "UsageShard"],
              ["WEBHOOKS", "WebhookDispatcher"],
            ].map(([binding, className]) => [binding, { className, useSQLite: true }]),
          ),
          // Never used: the document is public and the request touches no storage.
          bindings: {
            ZAVU_API_KEY: "zv_live_openapi_unused",
            KEY_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
            ADMIN_TOKEN: "openapi-unused",
          },
        },
      ],
    }),
  );
  try {
    const res = await mf.dispatchFetch("http://gateway.local/admin/v1/openapi.json");
    if (res.status !== 200) throw new Error(`GET /admin/v1/openapi.json answered ${res.status}: ${await res.text()}`);
    return await res.json();
  } finally {
    await mf.dispose();
  }
}
