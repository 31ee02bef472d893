import type { Env } from "../env";

/** The deployment's one control plane. */
export const controlPlane = (env: Env) => env.CONTROL.get(env.CONTROL.idFromName("global"));
