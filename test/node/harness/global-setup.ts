import { buildAll } from "./build";

/** Once per `vitest run`: the bundles every node test file starts its workerd with. */
export default async function setup(): Promise<void> {
  await buildAll();
}
