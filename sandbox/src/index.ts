import type { SandboxEnv } from "./env";

export { SandboxState } from "./state";

export default {
  async fetch(request, env) {
    const team = env.STATE.get(env.STATE.idFromName("team"));
    // Buffer the body: a refusal sent before the Durable Object reads a streamed body would
    // leave the runtime pumping a request whose response is already gone.
    const body = request.body ? await request.arrayBuffer() : null;
    return team.fetch(new Request(request, { body }));
  },
} satisfies ExportedHandler<SandboxEnv>;
