// Outbound service for the tests: every fetch() the gateway (or a test) makes lands here
// and is routed by host to the Zavu sandbox or the test identity provider. Nothing leaves
// the machine.
export default {
  fetch(request, env) {
    const host = new URL(request.url).hostname;
    if (host === "zavu.sandbox") return env.SANDBOX.fetch(request);
    // A host whose connections fail, as when Zavu is unreachable.
    if (host === "down.sandbox") throw new Error("simulated connection refused (expected: upstream_unavailable test)");
    if (host === "idp.test" || host === "idp2.test") return env.IDP.fetch(request);
    return Response.json({ code: "no_network", message: `tests have no route to ${host}` }, { status: 502 });
  },
};
