import type { Clock } from "../lib/clock";

/** Zavu's refusals that concern the whole team, not the tenant that happened to send. */
export const TEAM_LIMIT_CODES: ReadonlySet<string> = new Set(["daily_limit_exceeded", "a2p_limit_exceeded"]);
/** How long a team refusal stands when Zavu does not say (Retry-After), and at most. */
const DEFAULT_HOLD_MS = 30_000;
const MAX_HOLD_MS = 5 * 60_000;

interface Hold {
  code: string;
  until: number;
  status: number;
  body: string;
  contentType: string;
}

/**
 * Zavu's 429s for the team (daily_limit_exceeded, a2p_limit_exceeded), remembered briefly in this
 * isolate: while one stands, every tenant's send gets Zavu's answer back, unchanged (status and body,
 * with a Retry-After for the time left), without a call to Zavu. Then one send goes through again.
 */
export class UpstreamHolds {
  private hold: Hold | null = null;
  private replayed = 0;

  constructor(private readonly clock: Clock) {}

  /** Zavu's answer again, while a team refusal stands; null otherwise. */
  replay(): { response: Response; code: string } | null {
    const hold = this.hold;
    if (!hold) return null;
    const now = this.clock.now();
    if (now >= hold.until) {
      this.hold = null;
      return null;
    }
    this.replayed++;
    const response = new Response(hold.body, {
      status: hold.status,
      headers: { "content-type": hold.contentType, "retry-after": String(Math.ceil((hold.until - now) / 1000)) },
    });
    return { response, code: hold.code };
  }

  /** A send's answer: a team refusal starts a hold (Zavu's Retry-After, else 30 s; at most 5 min). */
  remember(code: string, status: number, body: string, headers: Headers): void {
    if (status !== 429 || !TEAM_LIMIT_CODES.has(code)) return;
    const retryAfter = Number(headers.get("retry-after"));
    const ms =
      Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, MAX_HOLD_MS) : DEFAULT_HOLD_MS;
    this.hold = {
      code,
      until: this.clock.now() + ms,
      status,
      body,
      contentType: headers.get("content-type") ?? "application/json",
    };
  }

  stats() {
    const active = this.hold !== null && this.clock.now() < this.hold.until;
    return { active: active ? this.hold!.code : null, replayed: this.replayed };
  }
}
