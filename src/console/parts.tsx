import type { Child } from "hono/jsx";
import { money } from "../ui/document";

/** What an action reports back on the page it re-renders. */
export interface Flash {
  notice?: string;
  error?: string;
  /** A link just created: its URL (with the secret) is shown this once. */
  newLink?: { id: string; url: string; expiresAt: string };
}

/** A fragment's root: its title for the tab, and a heading the script focuses. */
export function Screen(props: { title: string; heading?: Child; flash?: Flash; children: Child }) {
  const f = props.flash ?? {};
  return (
    <section data-title={props.title}>
      <h1 tabindex={-1} data-focus={f.error || f.notice || f.newLink ? undefined : true}>
        {props.heading ?? props.title}
      </h1>
      {f.error ? (
        <p class="alert" role="alert" tabindex={-1} data-focus>
          {f.error}
        </p>
      ) : null}
      {f.notice ? (
        <p class="notice" role="status" tabindex={-1} data-focus={f.error ? undefined : true}>
          {f.notice}
        </p>
      ) : null}
      {f.newLink ? <NewLink link={f.newLink} /> : null}
      {props.children}
    </section>
  );
}

export function NewLink(props: { link: NonNullable<Flash["newLink"]> }) {
  return (
    <div class="notice" role="status">
      <label for="new-link-url">Onboarding link (shown once: copy it now and send it to the customer)</label>
      <div class="copy">
        <input id="new-link-url" type="text" readonly value={props.link.url} data-focus tabindex={0} />
        <button type="button" data-copy="new-link-url">
          Copy link
        </button>
      </div>
      <p class="hint">
        {props.link.id} · expires {props.link.expiresAt.replace("T", " ").slice(0, 16)} UTC · single use
      </p>
    </div>
  );
}

/** Spend against the credit limit, as a meter (no inline style: the CSP forbids it). */
export function SpendBar(props: { spent: number | null; limit: number | null; id: string }) {
  if (props.spent === null) return <span class="muted">no data yet</span>;
  if (!props.limit) return <span>{money(props.spent)} (no cap)</span>;
  const label = `${money(props.spent)} of ${money(props.limit)}`;
  return (
    <span>
      <meter
        id={`spend-${props.id}`}
        min={0}
        max={props.limit}
        low={props.limit * 0.5}
        high={props.limit * 0.8}
        optimum={0}
        value={Math.min(props.spent, props.limit)}
        aria-label={`Spend: ${label}`}
      />{" "}
      {label}
    </span>
  );
}

/** The column heads of a usage row's counts: sends, cost and the delivery outcomes. */
export function OutcomeHeads() {
  return (
    <>
      {["Sends", "Cost", "Delivered", "Failed"].map((name) => (
        <th scope="col" class="num">
          {name}
        </th>
      ))}
    </>
  );
}
