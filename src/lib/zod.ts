/**
 * zod, with `.openapi()` on every schema: import it as `import * as z from "../lib/zod"`. The import of
 * @hono/zod-openapi installs the method before any schema here is built. In the Worker bundle, `zod`
 * is src/lib/zod-alias.ts (which see), so only the parts of zod that the gateway uses are bundled.
 */
import "@hono/zod-openapi";

export * from "zod";
