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
