import { afterEach, describe, expect, it, vi } from "vitest";
import { elapsedMs, log, type RequestLine } from "./log";

afterEach(() => vi.restoreAllMocks());

const request = (over: Partial<RequestLine> = {}): RequestLine => ({
  kind: "request",
  requestId: "req-12345678",
  tenantId: "tnt_0000000000aaaaaaaaaaaaaaaa",
  method: "POST",
  route: "POST /v1/messages",
  status: 202,
  upstreamStatus: 202,
  latencyMs: 12.3,
  cache: { token: true, tenant: true, key: true },
  refusal: null,
  sampleRate: 1,
  ...over,
});

describe("structured log lines", () => {
  it("writes one JSON object per line with a timestamp first", () => {
    const out = vi.spyOn(console, "log").mockImplementation(() => {});
    log(request());
    expect(out).toHaveBeenCalledTimes(1);
    const text = out.mock.calls[0]![0] as string;
    expect(text).not.toContain("\n");
    expect(text.startsWith('{"at":"')).toBe(true);
    expect(JSON.parse(text)).toEqual({ at: expect.any(String), ...request() });
  });

  it("5xx answers and failed maintenance jobs go to console.error (Workers Logs level error)", () => {
    const out = vi.spyOn(console, "log").mockImplementation(() => {});
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    log(request({ status: 502, upstreamStatus: null, refusal: "upstream_unavailable" }));
    log(request({ status: 402, refusal: "credit_limit_reached" }));
    log({
      kind: "maintenance",
      runId: "r",
      trigger: "cron",
      durationMs: 1,
      subrequests: 1,
      jobs: [{ job: "reseal-keys", outcome: "failed", counts: {}, passComplete: false, error: "internal_error" }],
    });
    expect(err).toHaveBeenCalledTimes(2);
    expect(out).toHaveBeenCalledTimes(1);
  });

  it("elapsedMs rounds to a tenth of a millisecond", () => {
    expect(elapsedMs(100, 112.345)).toBe(12.3);
  });
});
