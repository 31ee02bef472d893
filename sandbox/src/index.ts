import type { SandboxEnv } from "./env";

export { SandboxState } from "./state";

export default {
  fetch(request, env) {
    const team = env.STATE.get(env.STATE.idFromName("team"));
    return team.fetch(request);
  },
} satisfies ExportedHandler<SandboxEnv>;
