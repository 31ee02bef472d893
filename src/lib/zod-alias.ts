/**
 * What `zod` resolves to in the Worker bundle (wrangler.toml, [alias]); never imported by name.
 *
 * @hono/zod-openapi installs `.openapi()` with `extendZodWithOpenApi(z)`, passing zod's `z` namespace
 * as a value: a bundler must then keep every export of zod, among them `z.locales` (64 languages
 * the gateway never uses; zod's messages are its English ones, set by zod itself) and the JSON Schema
 * import and the schema compiler, about 68 KiB gzipped of the bundle. Here `z` is what that call reads,
 * `ZodType`, and every other export is zod's own, so an import of names (src/lib/zod.ts) keeps only
 * what it uses. `import { z } from "zod"` (or from @hono/zod-openapi) would get this `z`: biome.json
 * forbids both.
 */
import { ZodType } from "zod/v4";

export * from "zod/v4";
export const z = { ZodType };
