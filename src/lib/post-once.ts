/** What one POST to a receiver came to, for a delivery log: "HTTP 500", "timeout", never a secret. */
export interface PostResult {
  ok: boolean;
  status: number | null;
  error: string | null;
}

/**
 * One signed POST to a receiver (an alert webhook, a customer's event URL): redirects are not
 * followed, the body of the answer is dropped, any 2xx counts as delivered.
 */
export async function postOnce(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<PostResult> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      redirect: "manual",
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const timeout = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    return { ok: false, status: null, error: timeout ? "timeout" : "connection failed" };
  }
  await res.body?.cancel().catch(() => undefined);
  if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, error: null };
  const redirect = res.status >= 300 && res.status < 400;
  return {
    ok: false,
    status: res.status,
    error: redirect ? `HTTP ${res.status} (redirects are not followed)` : `HTTP ${res.status}`,
  };
}
