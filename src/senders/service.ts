import { apiError } from "../errors";
import { bytesToBase64Url } from "../lib/encoding";
import { newRelayId, RELAY_PREFIX, relayIdOf, relayUrl } from "../lib/relay-address";
import type { SignatureVersion } from "../lib/zavu-signature";
import { type Keyring, sealKey } from "../storage/key-vault";
import {
  customerSecretOwner,
  type SenderChange,
  type SenderRecord,
  type SenderRepo,
  upstreamSecretOwner,
} from "../storage/senders-repo";
import { checkVersionChange, upstreamEvents, WEBHOOK_FIELDS, type WebhookInput, webhookInput } from "./validate";

/**
 * Senders through the gateway. A sender's webhook is the gateway's: Zavu posts every sender's events to
 * the gateway's relay (/relay/zavu/{relayId}), signed with Zavu's secret, and the gateway delivers them to
 * the customer's URL signed with a secret of its own (the customer's). So the customer's webhook settings
 * live in tenant_senders, Zavu holds the relay's, and every answer shows the customer's view: their URL,
 * events, active flag and signature version, never the relay's URL and never Zavu's secret.
 */
export type SenderOp = "create" | "list" | "retrieve" | "update" | "delete" | "regenerateSecret";

/** Zavu with the tenant's key, under the edge's header policy (src/edge/proxy.ts upstreamCaller). */
export type UpstreamCall = (
  method: string,
  pathAndQuery: string,
  body?: unknown,
  opts?: { ownCall?: boolean },
) => Promise<Response>;

export interface SenderDeps {
  tenantId: string;
  repo: SenderRepo;
  keyring: Keyring;
  upstream: UpstreamCall;
  /** PUBLIC_BASE_URL, or null: the customer's request's origin. */
  publicBaseUrl: string | null;
  requestOrigin: string;
  allowHttpLoopback: boolean;
  now?: () => number;
}

/** The customer's events when they give a URL and no list. */
export const DEFAULT_CUSTOMER_EVENTS = ["message.inbound", "message.delivered", "message.failed"];

interface Sender {
  id: string;
  webhook?: { url?: string; events?: string[]; active?: boolean; signatureVersion?: SignatureVersion; secret?: string };
  [field: string]: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

const notFound = () => apiError("not_found", "Sender not found.");

/** A customer's signing secret: 32 random bytes, `whsec_` and base64url. */
export function newCustomerSecret(): string {
  return `whsec_${bytesToBase64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
}

/** The customer's view of a sender's webhook: from its row, never the relay's, never a secret. */
export function customerWebhook(row: SenderRecord | null | undefined): Sender["webhook"] | undefined {
  if (!row || row.webhookUrl === null || row.webhookUrl.includes(RELAY_PREFIX)) return undefined;
  return {
    url: row.webhookUrl,
    events: row.webhookEvents,
    active: row.webhookActive,
    signatureVersion: row.signatureVersion,
  };
}

/** The sender as Zavu sent it, its `webhook` replaced by the customer's (absent when they have none). */
export function customerView(sender: Sender, row: SenderRecord | null | undefined, secret?: string): Sender {
  const { webhook: _relay, ...rest } = sender;
  const webhook = customerWebhook(row);
  return webhook ? { ...rest, webhook: secret ? { ...webhook, secret } : webhook } : rest;
}

async function readSender(res: Response): Promise<Sender | null> {
  const body = await res.json().catch(() => null);
  return isObject(body) && typeof body.id === "string" ? (body as Sender) : null;
}

function withoutWebhookFields(body: Record<string, unknown>): Record<string, unknown> {
  const out = { ...body };
  for (const f of WEBHOOK_FIELDS) delete out[f];
  return out;
}

const senderPath = (id: string) => `/v1/senders/${encodeURIComponent(id)}`;

export class SenderService {
  private readonly now: () => number;

  constructor(private readonly deps: SenderDeps) {
    this.now = deps.now ?? Date.now;
  }

  async handle(op: SenderOp, id: string | null, search: string, body: () => Promise<unknown>): Promise<Response> {
    switch (op) {
      case "create":
        return this.create(await objectBody(body));
      case "list":
        return this.list(search);
      case "retrieve":
        return this.retrieve(id!);
      case "update":
        return this.update(id!, await objectBody(body));
      case "delete":
        return this.remove(id!);
      case "regenerateSecret":
        return this.regenerateSecret(id!);
    }
  }

  private relay(relayId: string): string {
    return relayUrl(this.deps.publicBaseUrl, this.deps.requestOrigin, relayId);
  }

  private ownHosts(): string[] {
    const hosts = [new URL(this.deps.requestOrigin).host];
    if (this.deps.publicBaseUrl) hosts.push(new URL(this.deps.publicBaseUrl).host);
    return hosts;
  }

  private input(body: Record<string, unknown>, update: boolean): WebhookInput {
    return webhookInput(body, { allowHttpLoopback: this.deps.allowHttpLoopback, update, ownHosts: this.ownHosts() });
  }

  /** The relay's webhook, as Zavu is asked for it: the customer's events and the delivery outcomes, v2. */
  private relayWebhook(relayId: string, customerEvents: string[]) {
    return {
      webhookUrl: this.relay(relayId),
      webhookEvents: upstreamEvents(customerEvents),
      webhookSignatureVersion: "v2" as const,
    };
  }

  /** This tenant's row for a Zavu sender id; another tenant's row is a 404 exactly like an unknown id. */
  private async ownRow(senderId: string): Promise<SenderRecord | null> {
    const row = await this.deps.repo.bySenderId(senderId);
    if (row && row.tenantId !== this.deps.tenantId) throw notFound();
    return row;
  }

  private sealed(relayId: string, customerSecret: string, upstreamSecret: string | undefined) {
    return Promise.all([
      sealKey(this.deps.keyring, customerSecretOwner(relayId), customerSecret),
      upstreamSecret ? sealKey(this.deps.keyring, upstreamSecretOwner(relayId), upstreamSecret) : null,
    ]);
  }

  /**
   * The row first (no Zavu id yet), then the sender upstream pointed at the relay, then the row completed
   * with Zavu's id and both secrets, sealed. Zavu refusing removes the row and its answer goes back as it is.
   */
  private async create(body: Record<string, unknown>): Promise<Response> {
    const hook = this.input(body, false);
    const events = hook.events ?? (hook.url ? DEFAULT_CUSTOMER_EVENTS : []);
    const now = this.now();
    const relayId = newRelayId();
    const row: SenderRecord = {
      relayId,
      tenantId: this.deps.tenantId,
      senderId: null,
      webhookUrl: hook.url ?? null,
      webhookEvents: events,
      webhookActive: true,
      signatureVersion: hook.signatureVersion ?? "v2",
      secretCiphertext: null,
      upstreamSecretCiphertext: null,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    };
    await this.deps.repo.insert(row);
    // A timeout, a lost answer or a 5xx: Zavu may have made the sender, pointed at this row's relay. The
    // row stays (a relay without a sender id answers 404), so a retry with the same Idempotency-Key, which
    // Zavu answers with that sender, completes it below.
    const res = await this.deps.upstream("POST", "/v1/senders", {
      ...withoutWebhookFields(body),
      ...this.relayWebhook(relayId, events),
    });
    if (!res.ok) {
      if (res.status < 500) await this.deps.repo.remove(relayId); // Zavu refused: nothing was made
      return res;
    }
    const sender = await readSender(res);
    if (!sender) {
      await this.deps.repo.remove(relayId);
      throw apiError("upstream_error", "Zavu's answer to creating the sender could not be read.");
    }
    // A replay of an earlier create (the same Idempotency-Key): that sender's row stands, this one goes.
    const earlier = await this.deps.repo.bySenderId(sender.id);
    if (earlier) {
      await this.deps.repo.remove(relayId);
      if (earlier.tenantId !== this.deps.tenantId) throw apiError("internal_error");
      return json(res.status, customerView(sender, earlier));
    }
    // Zavu's replay of a create whose answer was lost: its sender points at that attempt's relay, whose row
    // (this tenant's, never completed) is the one to complete.
    const pointed = relayIdOf(sender.webhook?.url);
    let target = row;
    if (pointed && pointed !== relayId) {
      const first = await this.deps.repo.byRelayId(pointed);
      if (!first || first.tenantId !== this.deps.tenantId || first.senderId !== null) {
        await this.deps.repo.remove(relayId);
        throw apiError("upstream_error", "Zavu's sender points at a relay this request did not make.");
      }
      await this.deps.repo.remove(relayId);
      target = first;
    }
    if (!sender.webhook?.secret) {
      // Without Zavu's secret no event could ever be verified: undo rather than keep a sender that is deaf.
      await this.undoCreate(sender.id, target.relayId);
      throw apiError("upstream_error", "Zavu's answer to creating the sender carried no webhook secret.");
    }
    const secret = newCustomerSecret();
    try {
      const [secretCiphertext, upstreamSecretCiphertext] = await this.sealed(
        target.relayId,
        secret,
        sender.webhook.secret,
      );
      await this.deps.repo.update(target.relayId, { senderId: sender.id, secretCiphertext, upstreamSecretCiphertext });
    } catch (err) {
      // Zavu has a sender the gateway could not record: undo it rather than leave one nobody can verify.
      await this.undoCreate(sender.id, target.relayId);
      throw err;
    }
    // The customer's secret is in this answer only when they gave a URL; otherwise regenerate shows one.
    return json(res.status, customerView(sender, { ...target, senderId: sender.id }, secret));
  }

  private async undoCreate(senderId: string, relayId: string): Promise<void> {
    await this.deps
      .upstream("DELETE", senderPath(senderId), undefined, { ownCall: true })
      .then((r) => r.body?.cancel())
      .catch(() => undefined);
    await this.deps.repo.remove(relayId).catch(() => undefined);
  }

  /** Zavu's page as it is (cursor and all), each sender's webhook the customer's. */
  private async list(search: string): Promise<Response> {
    const res = await this.deps.upstream("GET", `/v1/senders${search}`);
    if (!res.ok) return res;
    const page = await res.json().catch(() => null);
    if (!isObject(page) || !Array.isArray(page.items)) {
      throw apiError("upstream_error", "Zavu's list of senders could not be read.");
    }
    const ids = (page.items as unknown[]).flatMap((s) => (isObject(s) && typeof s.id === "string" ? [s.id] : []));
    const found: SenderRecord[] = [];
    for (let i = 0; i < ids.length; i += 90) found.push(...(await this.deps.repo.bySenderIds(ids.slice(i, i + 90))));
    const rows = new Map(found.filter((r) => r.tenantId === this.deps.tenantId).map((r) => [r.senderId!, r]));
    const items = (page.items as unknown[]).map((s) =>
      isObject(s) && typeof s.id === "string" ? customerView(s as Sender, rows.get(s.id)) : s,
    );
    return json(res.status, { ...page, items });
  }

  private async retrieve(id: string): Promise<Response> {
    const row = await this.ownRow(id);
    const res = await this.deps.upstream("GET", senderPath(id));
    if (!res.ok) return res;
    const sender = await readSender(res);
    if (!sender) throw apiError("upstream_error", "Zavu's sender could not be read.");
    return json(res.status, customerView(sender, row));
  }

  /**
   * The customer's webhook fields are stored (webhookUrl null removes theirs, webhookActive pauses
   * delivery to them; the relay stays registered and active upstream); the others go to Zavu, with the
   * relay's webhook when the events change. A sender of this tenant that the gateway has no row for (made
   * before, or Zavu's default) is adopted: see adopt().
   */
  private async update(id: string, body: Record<string, unknown>): Promise<Response> {
    const hook = this.input(body, true);
    const existing = await this.ownRow(id);
    if (existing?.deletedAt) throw notFound();
    if (!existing) return this.adopt(id, body, hook);
    checkVersionChange(existing.signatureVersion, hook.signatureVersion);
    // A URL given to a sender that had neither one nor events: the events a new sender with a URL gets.
    if (hook.url && !hook.events && existing.webhookEvents.length === 0) hook.events = DEFAULT_CUSTOMER_EVENTS;
    const upstreamBody: Record<string, unknown> = withoutWebhookFields(body);
    if (hook.events) Object.assign(upstreamBody, this.relayWebhook(existing.relayId, hook.events));
    const res = await this.deps.upstream("PATCH", senderPath(id), upstreamBody);
    if (!res.ok) return res;
    const sender = await readSender(res);
    if (!sender) throw apiError("upstream_error", "Zavu's sender could not be read.");
    const change: SenderChange = {
      webhookUrl: hook.url,
      webhookEvents: hook.events,
      webhookActive: hook.active,
      signatureVersion: hook.signatureVersion,
    };
    const row = { ...existing, ...definedOnly(change) };
    if (hasAny(change)) await this.deps.repo.update(existing.relayId, change);
    return json(res.status, customerView(sender, row));
  }

  /**
   * Adoption: the gateway takes over a sender of this tenant it has no row for. A row is made (with a new
   * customer secret and Zavu's new relay secret, both sealed) and the sender's upstream webhook is pointed at
   * the relay. The customer's webhook is what this update gives, else what the sender had upstream (when
   * that URL passes the policy). The answer is the customer's view WITHOUT a secret (an update never shows
   * one, as Zavu's does not): the customer calls regenerateWebhookSecret to get the gateway's secret, which
   * signs every event from then on (Zavu's old secret no longer does). Zavu refusing (e.g. 404: not this
   * tenant's sender) removes the row and its answer goes back as it is.
   */
  private async adopt(id: string, body: Record<string, unknown>, hook: WebhookInput): Promise<Response> {
    const current = await this.deps.upstream("GET", senderPath(id));
    if (!current.ok) return current;
    const before = await readSender(current);
    if (!before) throw apiError("upstream_error", "Zavu's sender could not be read.");
    const had = before.webhook;
    const hadUrl =
      had?.url && !had.url.includes(RELAY_PREFIX) && this.input({ webhookUrl: had.url }, true).url ? had.url : null;
    const version = hook.signatureVersion ?? had?.signatureVersion ?? "v2";
    checkVersionChange(had?.signatureVersion ?? "v2", hook.signatureVersion);
    const events = hook.events ?? (had?.events?.filter((e) => typeof e === "string") as string[] | undefined) ?? [];
    const now = this.now();
    const relayId = newRelayId();
    const row: SenderRecord = {
      relayId,
      tenantId: this.deps.tenantId,
      senderId: null,
      webhookUrl: hook.url === undefined ? hadUrl : hook.url,
      webhookEvents: events,
      webhookActive: hook.active ?? had?.active ?? true,
      signatureVersion: version,
      secretCiphertext: null,
      upstreamSecretCiphertext: null,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
    };
    await this.deps.repo.insert(row);
    try {
      // Zavu's own rule: a v1 webhook moves to v2 through v1+v2.
      if (had?.signatureVersion === "v1") {
        const step = await this.deps.upstream(
          "PATCH",
          senderPath(id),
          { ...this.relayWebhook(relayId, events), webhookSignatureVersion: "v1+v2" },
          { ownCall: true },
        );
        if (!step.ok) {
          await this.deps.repo.remove(relayId);
          return step;
        }
        await step.body?.cancel();
      }
      const res = await this.deps.upstream("PATCH", senderPath(id), {
        ...withoutWebhookFields(body),
        ...this.relayWebhook(relayId, events),
        webhookActive: true,
      });
      if (!res.ok) {
        await this.deps.repo.remove(relayId);
        return res;
      }
      const sender = await readSender(res);
      if (!sender) throw apiError("upstream_error", "Zavu's sender could not be read.");
      // Zavu's secret for the relay: only a regeneration shows it once the webhook exists.
      const rotated = await this.deps.upstream("POST", `${senderPath(id)}/webhook/secret`, undefined, {
        ownCall: true,
      });
      const upstreamSecret = rotated.ok
        ? ((await rotated.json().catch(() => null)) as { secret?: unknown } | null)
        : null;
      if (!rotated.ok) await rotated.body?.cancel();
      const [secretCiphertext, upstreamSecretCiphertext] = await this.sealed(
        relayId,
        newCustomerSecret(),
        typeof upstreamSecret?.secret === "string" ? upstreamSecret.secret : sender.webhook?.secret,
      );
      await this.deps.repo.update(relayId, { senderId: sender.id, secretCiphertext, upstreamSecretCiphertext });
      return json(res.status, customerView(sender, { ...row, senderId: sender.id }));
    } catch (err) {
      await this.deps.repo.remove(relayId).catch(() => undefined);
      throw err;
    }
  }

  /** Zavu deletes; on its 2xx or 404 the row is marked deleted (the relay then answers 410). */
  private async remove(id: string): Promise<Response> {
    const row = await this.ownRow(id);
    if (row?.deletedAt) throw notFound();
    const res = await this.deps.upstream("DELETE", senderPath(id));
    if (row && (res.ok || res.status === 404)) await this.deps.repo.update(row.relayId, { deletedAt: this.now() });
    return res;
  }

  /**
   * A new customer secret, replacing the old at once. Zavu's own secret (the relay's) is not rotated: it
   * signs only what Zavu sends the gateway and never leaves it, while the secret the customer verifies
   * with is the gateway's. A sender without a row is adopted first.
   */
  private async regenerateSecret(id: string): Promise<Response> {
    let row = await this.ownRow(id);
    if (row?.deletedAt) throw notFound();
    if (!row) {
      const adopted = await this.adopt(id, {}, {});
      if (!adopted.ok) return adopted;
      await adopted.body?.cancel();
      row = await this.ownRow(id);
      if (!row) throw notFound();
    }
    const secret = newCustomerSecret();
    await this.deps.repo.update(row.relayId, {
      secretCiphertext: await sealKey(this.deps.keyring, customerSecretOwner(row.relayId), secret),
    });
    return json(200, { secret });
  }
}

async function objectBody(read: () => Promise<unknown>): Promise<Record<string, unknown>> {
  const body = await read();
  if (body === null) return {};
  if (!isObject(body)) throw apiError("invalid_request", "The request body must be a JSON object.");
  return body;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const hasAny = (change: SenderChange) => Object.values(change).some((v) => v !== undefined);
