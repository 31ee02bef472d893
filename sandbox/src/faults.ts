/**
 * Fault injection: rules that add latency to, or replace the response of, matching requests.
 *
 * `path` is a glob: `*` matches within one segment, `**` across segments.
 * `afterEffect: true` lets the request take effect first and then loses its response
 * (the "created upstream but the reply never arrived" case).
 *
 * Two faults of the connection rather than the answer, carried out by the test router in front of the
 * sandbox (test/workers/upstream-router.mjs; a Worker cannot drop its own TCP connection):
 * `reset: true` resets the connection instead of answering (after the request took effect when
 * `afterEffect` is true, before it otherwise); `bodyDelayMs` sends the status and headers at once and the
 * body that many ms later.
 */
export interface FaultRule {
  id: string;
  method?: string;
  path: string;
  latencyMs?: number;
  status?: number;
  code?: string;
  message?: string;
  /** How many matching requests it applies to; absent = all. */
  count?: number;
  /** Probability in [0, 1] that a matching request is hit; absent = 1. */
  rate?: number;
  afterEffect?: boolean;
  reset?: boolean;
  bodyDelayMs?: number;
}

/** The header by which the sandbox asks the router for a connection fault (never reaches the gateway). */
export const CONNECTION_FAULT_HEADER = "x-sandbox-connection-fault";

export interface FaultDecision {
  latencyMs: number;
  /** Reset the connection instead of answering; `afterEffect`: once the request took effect. */
  reset?: { afterEffect: boolean };
  bodyDelayMs?: number;
  failure?: { status: number; code: string; message: string; afterEffect: boolean };
}

interface ActiveRule extends FaultRule {
  pattern: RegExp;
}

export class Faults {
  private rules: ActiveRule[] = [];
  private seq = 0;

  add(rule: Omit<FaultRule, "id">): FaultRule {
    const id = `fault_${++this.seq}`;
    const active = { ...rule, id, pattern: globToRegExp(rule.path) };
    this.rules.push(active);
    return { ...rule, id };
  }

  list(): FaultRule[] {
    return this.rules.map(({ pattern: _pattern, ...rule }) => rule);
  }

  clear(): void {
    this.rules = [];
  }

  /** Decides what happens to one request, consuming counted rules. */
  decide(method: string, path: string): FaultDecision {
    const decision: FaultDecision = { latencyMs: 0 };
    for (const rule of this.rules) {
      if (rule.method && rule.method.toUpperCase() !== method) continue;
      if (!rule.pattern.test(path)) continue;
      if (rule.count !== undefined && rule.count <= 0) continue;
      if (rule.rate !== undefined && Math.random() >= rule.rate) continue;
      if (rule.count !== undefined) rule.count -= 1;
      decision.latencyMs += rule.latencyMs ?? 0;
      if (rule.reset && !decision.reset) decision.reset = { afterEffect: rule.afterEffect ?? false };
      if (rule.bodyDelayMs) decision.bodyDelayMs = Math.max(decision.bodyDelayMs ?? 0, rule.bodyDelayMs);
      if (rule.status && !decision.failure) {
        decision.failure = {
          status: rule.status,
          code: rule.code ?? (rule.status >= 500 ? "internal_error" : "injected_fault"),
          message: rule.message ?? `Injected fault ${rule.id}`,
          afterEffect: rule.afterEffect ?? false,
        };
      }
    }
    this.rules = this.rules.filter((r) => r.count === undefined || r.count > 0);
    return decision;
  }
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .split("**")
    .map((part) =>
      part
        .split("*")
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join("[^/]*"),
    )
    .join(".*");
  return new RegExp(`^${escaped}$`);
}
