import type { IsolateState } from "./state";

export interface AppVariables {
  requestId: string;
  /** This isolate's state (caches, counters, control-plane view), created once in src/index.ts. */
  state: IsolateState;
}
