/**
 * What a thrown value is, for logs and audit entries: its `code` when it has one (ours, Zavu's, jose's
 * ERR_JWT_EXPIRED), else its name. The bundle is minified without keep_names (wrangler.toml), so a
 * library class that names itself after its constructor (jose's errors) has a minified name.
 */
export function errorName(err: unknown): string {
  if (!(err instanceof Error)) return "unknown";
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && code !== "" ? code : err.name;
}
