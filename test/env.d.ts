import type { D1Migration } from "cloudflare:test";

// The gateway's own bindings come from worker-configuration.d.ts (`npm run types`); the tests add theirs.
declare global {
  namespace Cloudflare {
    interface Env {
      KEY_ENCRYPTION_KEY_PREVIOUS?: string;
      TEST_MIGRATIONS: D1Migration[];
      SCHEMA_SQL: string;
      SCHEMA_CHECK_DB: D1Database;
      SANDBOX: Fetcher;
      IDP: Fetcher;
    }
    interface GlobalProps {
      mainModule: typeof import("../src/index");
    }
  }
}
