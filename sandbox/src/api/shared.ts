import type { Context } from "hono";
import type { Caller } from "../store";

/** Zavu's error shape. */
export function zavuError(c: Context, status: number, code: string, message: string) {
  return c.json({ code, message }, status as 400);
}

/** What the authentication middleware (state.ts) leaves for the handlers: who is calling. */
export type Vars = { Variables: { caller: Caller } };

export const MAX_PAGE = 100;

export async function jsonBody(c: Context): Promise<Record<string, unknown> | null> {
  try {
    const body = await c.req.json();
    return body && typeof body === "object" && !Array.isArray(body) ? body : null;
  } catch {
    return null;
  }
}

export function parseLimit(raw: string | undefined, fallback: number): number | null {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 && n <= MAX_PAGE ? n : null;
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export function encodeCursor(seq: number): string {
  return btoa(`s:${seq}`).replace(/=+$/, "");
}

export function decodeCursor(raw: string | undefined, fallback: number): number | null {
  if (!raw) return fallback;
  try {
    const match = /^s:(\d+)$/.exec(atob(raw));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** The account a caller acts for: "main", or its sub-account's id. */
export const accountOf = (caller: Caller) => (caller.kind === "main" ? "main" : caller.subAccountId);

export function pageOf<T extends { seq: number }, U>(rows: T[], limit: number, map: (row: T) => U) {
  const page = rows.slice(0, limit);
  const nextCursor = rows.length > limit ? encodeCursor(page[page.length - 1]!.seq) : null;
  return { items: page.map(map), nextCursor };
}
