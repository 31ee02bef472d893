import { config } from "../config";
import type { Env } from "../env";
import { ApiError, apiError, toErrorResponse } from "../errors";
import { elapsedMs, log } from "../lib/log";
import { readLimited } from "../lib/read-limited";
import { RELAY_ID, RELAY_PREFIX } from "../lib/relay-address";
import { requestIdFor } from "../lib/request-id";
import { SIGNATURE_HEADER, verifyZavu } from "../lib/zavu-signature";
import type { IsolateState } from "../state";
import { auditStatement } from "../storage/audit";
import { openKey } from "../storage/key-vault";
import { type RelayTarget, SenderRepo, upstreamSecretOwner } from "../storage/senders-repo";
import { tenantEvents } from "./binding";
import { parseEvent, type ZavuEvent } from "./event";

/** Zavu's events are small JSON documents; anything larger is not one. */
const MAX_EVENT_BYTES = 256 * 1024;

interface Trace {
  tenantId: string | null;
  senderId: string | null;
  event: ZavuEvent | null;
  duplicate: boolean;
}

/**
 * POST /relay/zavu/{relayId}: an event Zavu posts for one sender. Checked (the relay id, Zavu's
 * signature with the sender's sealed secret, the sender and project it names) and queued durably in
 * the tenant's event log before Zavu gets its 2xx; the customer's receiver is called afterwards.
 */
export async function handleRelay(request: Request, env: Env, state: IsolateState): Promise<Response> {
  const startedAt = performance.now();
  const requestId = requestIdFor(request);
  const trace: Trace = { tenantId: null, senderId: null, event: null, duplicate: false };
  let response: Response;
  let refusal: string | null = null;
  try {
    response = await receive(request, env, state, requestId, trace);
  } catch (err) {
    const path = new URL(request.url).pathname;
    response = toErrorResponse(err, requestId, path.startsWith(RELAY_PREFIX) ? RELAY_PREFIX : path);
    refusal = err instanceof ApiError ? err.code : "internal_error";
    state.counters.relayRefusals++;
  }
  response.headers.set("x-request-id", requestId);
  const { logSampleRate } = config(env);
  const always = refusal !== null || response.status >= 400;
  if (always || Math.random() < logSampleRate) {
    log({
      kind: "relay",
      requestId,
      tenantId: trace.tenantId,
      senderId: trace.senderId,
      eventId: trace.event?.id ?? null,
      type: trace.event?.type ?? null,
      status: response.status,
      refusal,
      duplicate: trace.duplicate,
      latencyMs: elapsedMs(startedAt),
      sampleRate: always ? 1 : logSampleRate,
    });
  }
  return response;
}

async function receive(
  request: Request,
  env: Env,
  state: IsolateState,
  requestId: string,
  trace: Trace,
): Promise<Response> {
  const url = new URL(request.url);
  const relayId = url.pathname.slice(RELAY_PREFIX.length);
  if (request.method !== "POST") throw apiError("not_found", "The relay takes POST only.");
  if (!RELAY_ID.test(relayId) || state.unknownRelays.get(relayId)) throw apiError("not_found", "No such relay.");
  const target = await new SenderRepo(env.DB, state.counters).relayTarget(relayId);
  if (!target) state.unknownRelays.set(relayId, true);
  if (!target || target.sender.senderId === null) throw apiError("not_found", "No such relay.");
  const { sender } = target;
  trace.tenantId = sender.tenantId;
  trace.senderId = sender.senderId;
  if (sender.deletedAt !== null) throw apiError("sender_deleted");

  const bytes = request.body ? await readLimited(request.body, MAX_EVENT_BYTES) : new Uint8Array();
  if (!bytes) throw apiError("payload_too_large", `An event is at most ${MAX_EVENT_BYTES} bytes.`);
  const body = new TextDecoder().decode(bytes);
  const secret = await upstreamSecret(env, state, sender);
  const problem = await verifyZavu(request.headers.get(SIGNATURE_HEADER), secret, body, Math.floor(Date.now() / 1000), {
    requireV2: true, // the gateway registers every sender's relay with v2 (adoption passes through v1+v2)
  });
  if (problem) throw apiError("invalid_signature", `X-Zavu-Signature: ${problem}.`);

  const event = parseEvent(body);
  if (!event)
    throw apiError(
      "invalid_request",
      "The body is not a Zavu event ({id, type, timestamp, senderId, projectId, data}).",
    );
  trace.event = event;
  if (event.senderId !== sender.senderId || !target.tenant || event.projectId !== target.tenant.subAccountId) {
    await refuseForeign(env, target, event, requestId);
    throw apiError("event_not_for_sender");
  }
  const { duplicate } = await tenantEvents(env, sender.tenantId).accept({
    tenantId: sender.tenantId,
    relayId,
    senderId: sender.senderId!,
    eventId: event.id,
    type: event.type,
    payload: body,
    // What this lookup just read: the event relay decides the first attempt on it, not on another read.
    seen: { sender, tenant: target.tenant },
  });
  trace.duplicate = duplicate;
  state.counters.relayEvents++;
  return Response.json({ received: true, duplicate });
}

/** Zavu's secret for this sender, opened once per isolate per ciphertext (a rotated secret is a new ciphertext). */
async function upstreamSecret(env: Env, state: IsolateState, sender: RelayTarget["sender"]): Promise<string> {
  const sealed = sender.upstreamSecretCiphertext;
  if (!sealed) throw apiError("invalid_signature", "X-Zavu-Signature: this sender has no secret yet.");
  const cached = state.relaySecrets.get(sealed);
  if (cached) return cached;
  let secret: string;
  try {
    secret = await openKey(config(env).keyring, upstreamSecretOwner(sender.relayId), sealed);
  } catch {
    throw apiError("internal_error", "The gateway could not open this sender's stored secret.");
  }
  state.relaySecrets.set(sealed, secret);
  return secret;
}

/** A correctly signed event about another sender or project: nothing is delivered, and the reseller can see it. */
async function refuseForeign(env: Env, target: RelayTarget, event: ZavuEvent, requestId: string): Promise<void> {
  await env.DB.batch([
    auditStatement(env.DB, {
      actor: "relay",
      action: "relay.event_refused",
      tenantId: target.sender.tenantId,
      requestId,
      detail: {
        senderId: target.sender.senderId,
        eventId: event.id,
        type: event.type,
        eventSenderId: event.senderId,
        eventProjectId: event.projectId,
      },
    }),
  ]);
}
