import type { ContentfulStatusCode } from "hono/utils/http-status";

/** An error the gateway answers with, as Zavu does: `{code, message, details?}`. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export function errorBody(code: string, message: string, details?: unknown): string {
  return JSON.stringify(details === undefined ? { code, message } : { code, message, details });
}

export function errorResponse(err: ApiError, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("content-type", "application/json; charset=utf-8");
  return new Response(errorBody(err.code, err.message, err.details), { status: err.status, headers: h });
}

/** The one place an exception becomes a response: ApiErrors as they are, anything else a bare 500. */
export function toErrorResponse(err: unknown, requestId: string, path: string): Response {
  if (err instanceof ApiError) return errorResponse(err);
  // Log the kind of failure only: messages from lower layers could quote request data.
  console.error(
    JSON.stringify({ level: "error", requestId, error: err instanceof Error ? err.name : typeof err, path }),
  );
  return errorResponse(new ApiError(500, "internal_error", "The gateway failed to handle this request."));
}
