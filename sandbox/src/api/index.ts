import { Hono } from "hono";
import type { SenderStore } from "../senders";
import type { Store } from "../store";
import type { Webhooks } from "../webhooks";
import { messageRoutes } from "./messages";
import { phoneNumberRoutes } from "./phone-numbers";
import { senderRoutes } from "./senders";
import type { Vars } from "./shared";
import { subAccountRoutes } from "./sub-accounts";

export { zavuError } from "./shared";

/** The Zavu API as the sandbox serves it: one module per resource. */
export function zavuApi(store: Store, senders: SenderStore, webhooks: Webhooks): Hono<Vars> {
  const app = new Hono<Vars>();
  app.route("/", subAccountRoutes(store));
  app.route("/", messageRoutes(store, senders, webhooks));
  app.route("/", senderRoutes(senders));
  app.route("/", phoneNumberRoutes(store, senders));
  return app;
}
