import { admin } from "../helpers/admin";

/** Creates an admin API key through the admin API (with ADMIN_TOKEN); returns its id and secret. */
export async function newKey(role: "viewer" | "operator" | "admin", name = `${role} key`, expiresInDays?: number) {
  const res = await admin("POST", "/api-keys", { body: { name, role, ...(expiresInDays ? { expiresInDays } : {}) } });
  if (res.status !== 201) throw new Error(`key not created: ${res.status} ${res.text}`);
  return { id: res.body.apiKey.id as string, secret: res.body.secret as string, body: res.body };
}
