// A test identity provider: serves JWKS documents that tests publish, counts fetches,
// and can be told to fail (an IdP outage).
const documents = new Map(); // path -> { body, status, delayMs }
const fetches = new Map(); // path -> count

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/__idp/publish" && request.method === "POST") {
      const { path, jwks, status = 200, redirectTo } = await request.json();
      documents.set(path, { body: JSON.stringify(jwks === undefined ? {} : jwks), status, redirectTo });
      return Response.json({ ok: true });
    }
    if (url.pathname === "/__idp/stats") {
      return Response.json(Object.fromEntries(fetches));
    }
    fetches.set(url.pathname, (fetches.get(url.pathname) ?? 0) + 1);
    const doc = documents.get(url.pathname);
    if (!doc) return new Response("not found", { status: 404 });
    if (doc.redirectTo) return Response.redirect(doc.redirectTo, 302);
    return new Response(doc.body, { status: doc.status, headers: { "content-type": "application/json" } });
  },
};
