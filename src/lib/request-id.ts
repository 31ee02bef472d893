const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** The caller's x-request-id when it is a sane token, else a fresh one. */
export function requestIdFor(request: Request): string {
  const incoming = request.headers.get("x-request-id");
  return incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
}
