// Test-only entry of a gateway isolate in the multi-isolate bed: the real deploy bundle (build.ts
// resolves the import of src/index below to the bundle wrangler made, ./index.js beside this one),
// with its env bindings wrapped so a test can make the gateway's own dependencies fail: D1, KV and the
// Durable Object namespaces. Never part of the deploy bundle.
//
// Rules are set per isolate at run time: POST /__faults {rules} (replaces them), GET /__faults (rules
// and how often each hit), DELETE /__faults. The Durable Objects run in the isolate of the script that
// defines them (gateway-0), so their own D1 and stub calls follow gateway-0's rules; the harness sets
// the same rules on every isolate.
//
// Failures are made as the runtime makes them: a D1 error is an Error whose message starts with
// "D1_ERROR:"; a Durable Object stub error carries `retryable` / `overloaded` as workerd's do; a KV
// error is "KV GET failed: 503 Service Unavailable".
import type { Env } from "../../../src/env";
import * as real from "../../../src/index";

export type FaultTarget = "DB" | "CACHE" | "CONTROL" | "LEDGER" | "USAGE" | "WEBHOOKS" | "EVENTS";

export interface DependencyFault {
  target: FaultTarget;
  /**
   * fail: an error before the operation (D1: network lost; KV: 503; a DO: "Network connection lost.",
   *   retryable); lost: the operation takes effect and then its answer is lost (D1 and DO only);
   * delay: the operation runs after `delayMs`; overloaded / reset: a Durable Object's errors;
   * hang: nothing for `delayMs` (default 30 s), then the DO's timeout error.
   */
  mode: "fail" | "lost" | "delay" | "overloaded" | "reset" | "hang";
  /** Share of matching operations hit (default 1). */
  rate?: number;
  /** A regular expression on the SQL (DB), the key (CACHE) or the method name (DOs). */
  match?: string;
  delayMs?: number;
  /** Only calls made from the isolate's handlers ("edge") or from inside Durable Objects ("do"); default both. */
  where?: "edge" | "do";
}

interface Active extends DependencyFault {
  pattern: RegExp | null;
  hits: number;
}

let rules: Active[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function decide(target: FaultTarget, subject: string, where: "edge" | "do"): Active | null {
  for (const rule of rules) {
    if (rule.target !== target) continue;
    if (rule.where && rule.where !== where) continue;
    if (rule.pattern && !rule.pattern.test(subject)) continue;
    if (rule.rate !== undefined && Math.random() >= rule.rate) continue;
    rule.hits++;
    return rule;
  }
  return null;
}

const d1Error = () => new Error("D1_ERROR: Network connection lost.");

function doError(rule: Active): Error {
  if (rule.mode === "overloaded") {
    return Object.assign(new Error("Durable Object is overloaded. Too many requests queued."), {
      overloaded: true,
      retryable: false,
    });
  }
  if (rule.mode === "reset") {
    return Object.assign(new Error("Durable Object reset because its code was updated."), { retryable: true });
  }
  if (rule.mode === "hang") {
    return Object.assign(
      new Error("Durable Object storage operation exceeded timeout which caused object to be reset."),
      { retryable: true },
    );
  }
  return Object.assign(new Error("Network connection lost."), { retryable: true });
}

/** Runs `op` under the rule (null: untouched). */
async function underRule<T>(rule: Active | null, op: () => Promise<T>, error: () => Error): Promise<T> {
  if (!rule) return op();
  if (rule.mode === "delay") {
    await sleep(rule.delayMs ?? 2_000);
    return op();
  }
  if (rule.mode === "hang") {
    await sleep(rule.delayMs ?? 30_000);
    throw error();
  }
  if (rule.mode === "lost") {
    await op();
    throw error();
  }
  throw error();
}

// ---- D1 ---------------------------------------------------------------------------------------

const statementSql = new WeakMap<object, { sql: string; real: D1PreparedStatement }>();

function wrapStatement(stmt: D1PreparedStatement, sql: string, where: "edge" | "do"): D1PreparedStatement {
  const run =
    <T>(op: () => Promise<T>) =>
    () =>
      underRule(decide("DB", sql, where), op, d1Error);
  const wrapped = {
    bind: (...values: unknown[]) => wrapStatement(stmt.bind(...values), sql, where),
    first: (column?: string) => run(() => (column === undefined ? stmt.first() : stmt.first(column)))(),
    all: () => run(() => stmt.all())(),
    run: () => run(() => stmt.run())(),
    raw: (options?: { columnNames?: boolean }) => run(() => stmt.raw(options as never))(),
  } as unknown as D1PreparedStatement;
  statementSql.set(wrapped, { sql, real: stmt });
  return wrapped;
}

function wrapD1(db: D1Database, where: "edge" | "do"): D1Database {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => wrapStatement(target.prepare(sql), sql, where);
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => {
          const parts = statements.map((s) => statementSql.get(s) ?? { sql: "", real: s });
          // One transaction: a fault on any of its statements fails (or loses) all of it.
          const rule = parts.map((p) => decide("DB", p.sql, where)).find((r) => r !== null) ?? null;
          return underRule(rule, () => target.batch(parts.map((p) => p.real)), d1Error);
        };
      }
      if (prop === "exec") {
        return (sql: string) => underRule(decide("DB", sql, where), () => target.exec(sql), d1Error);
      }
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

// ---- KV ---------------------------------------------------------------------------------------

function wrapKv(kv: KVNamespace, where: "edge" | "do"): KVNamespace {
  return new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop);
      if (typeof value !== "function") return value;
      const op = String(prop);
      return (...args: unknown[]) => {
        const key = typeof args[0] === "string" ? args[0] : "";
        const error = () =>
          new Error(`KV ${op.replace("getWithMetadata", "get").toUpperCase()} failed: 503 Service Unavailable`);
        return underRule(decide("CACHE", key, where), async () => Reflect.apply(value, target, args) as unknown, error);
      };
    },
  });
}

// ---- Durable Objects ----------------------------------------------------------------------------

function wrapStub(target: FaultTarget, stub: DurableObjectStub, where: "edge" | "do"): DurableObjectStub {
  return new Proxy(stub, {
    get(object, prop) {
      if (prop === "then") return undefined;
      const value = Reflect.get(object, prop);
      if (typeof prop !== "string" || typeof value !== "function" || prop === "id" || prop === "name") return value;
      return (...args: unknown[]) => {
        const rule = decide(target, prop, where);
        // Untouched calls keep workerd's own promise (RPC pipelining included). Reflect.apply: on an RPC
        // stub, `.apply` would be a remote method.
        if (!rule) return Reflect.apply(value, object, args);
        return underRule(
          rule,
          () => Promise.resolve(Reflect.apply(value, object, args)),
          () => doError(rule),
        );
      };
    },
  });
}

function wrapNamespace(target: FaultTarget, ns: DurableObjectNamespace, where: "edge" | "do"): DurableObjectNamespace {
  return new Proxy(ns, {
    get(object, prop) {
      const value = Reflect.get(object, prop);
      if (prop === "get" || prop === "getByName") {
        return (...args: unknown[]) => wrapStub(target, Reflect.apply(value, object, args), where);
      }
      return typeof value === "function" ? value.bind(object) : value;
    },
  });
}

const NAMESPACES = ["CONTROL", "LEDGER", "USAGE", "WEBHOOKS", "EVENTS"] as const;

/** The env with every dependency behind the rules (one wrapped env per underlying env and side). */
const wrapped = new WeakMap<object, Env>();
function wrapEnv(env: Env, where: "edge" | "do"): Env {
  const cached = where === "edge" ? wrapped.get(env) : undefined;
  if (cached) return cached;
  const out = { ...env, DB: wrapD1(env.DB, where), CACHE: wrapKv(env.CACHE, where) } as Env;
  for (const name of NAMESPACES) {
    (out as unknown as Record<string, unknown>)[name] = wrapNamespace(name, env[name] as never, where);
  }
  if (where === "edge") wrapped.set(env, out);
  return out;
}

// ---- the control endpoint and the entry -----------------------------------------------------

async function control(request: Request): Promise<Response> {
  if (request.method === "POST") {
    const body = (await request.json()) as { rules?: DependencyFault[] };
    rules = (body.rules ?? []).map((r) => ({ ...r, pattern: r.match ? new RegExp(r.match) : null, hits: 0 }));
  } else if (request.method === "DELETE") {
    rules = [];
  }
  return Response.json({ rules: rules.map(({ pattern: _p, ...r }) => r) });
}

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    if (new URL(request.url).pathname === "/__faults") return control(request);
    return real.default.fetch(request, wrapEnv(env, "edge"), ctx);
  },
  scheduled(controller: ScheduledController, env: Env, ctx: ExecutionContext) {
    return real.default.scheduled(controller, wrapEnv(env, "edge"), ctx);
  },
} satisfies ExportedHandler<Env>;

// The real Durable Object classes, over the same wrapped dependencies.
type Ctor<T> = new (ctx: DurableObjectState, env: Env) => T;
function faulty<T>(Base: Ctor<T>): Ctor<T> {
  return class extends (Base as Ctor<object>) {
    constructor(ctx: DurableObjectState, env: Env) {
      super(ctx, wrapEnv(env, "do"));
    }
  } as Ctor<T>;
}
export const ControlPlane = faulty(real.ControlPlane);
export const SpendLedger = faulty(real.SpendLedger);
export const UsageShard = faulty(real.UsageShard);
export const WebhookDispatcher = faulty(real.WebhookDispatcher);
export const TenantEvents = faulty(real.TenantEvents);
