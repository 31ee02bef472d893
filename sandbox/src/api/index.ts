import { Hono } from "hono";
import type { Store } from "../store";
import { messageRoutes } from "./messages";
import type { Vars } from "./shared";
import { subAccountRoutes } from "./sub-accounts";

export { zavuError } from "./shared";

/** The Zavu API as the sandbox serves it: one module per resource. */
export function zavuApi(store: Store): Hono<Vars> {
  const app = new Hono<Vars>();
  app.route("/", subAccountRoutes(store));
  app.route("/", messageRoutes(store));
  return app;
}
