import { raw } from "hono/html";
import type { Child } from "hono/jsx";
import { STYLES } from "./styles";

/** A whole page: the shared stylesheet under this response's nonce, a skip link, and the content. */
export function Document(props: { title: string; nonce: string; header: Child; children: Child; script?: string }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <meta name="robots" content="noindex, nofollow" />
        <link rel="icon" href="data:," />
        <title>{props.title}</title>
        <style nonce={props.nonce}>{raw(STYLES)}</style>
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        {props.header}
        {props.children}
        {props.script ? <script nonce={props.nonce}>{raw(props.script)}</script> : null}
      </body>
    </html>
  );
}

export function money(cents: number | null | undefined): string {
  if (cents === null || cents === undefined) return "—";
  return `$${(cents / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

export function when(iso: string | number | null): string {
  if (iso === null) return "—";
  return `${new Date(iso).toISOString().replace("T", " ").slice(0, 16)} UTC`;
}

export function StatusBadge(props: { status: string }) {
  return <span class={`badge s-${props.status}`}>{props.status}</span>;
}
