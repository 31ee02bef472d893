// The baseline: a Worker that forwards the request with a fixed key and does nothing else.
export default {
  fetch(request, env) {
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    headers.set("authorization", `Bearer ${env.UPSTREAM_KEY}`);
    return fetch(`${env.UPSTREAM}${url.pathname}${url.search}`, {
      method: request.method,
      headers,
      body: request.body,
    });
  },
};
