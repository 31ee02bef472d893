import { ApiError, apiError } from "../errors";
import { DiscoveryError, keysOf } from "../identity/discovery";
import type { IdentityInput } from "../identity/register";
import { IdentityInputSchema } from "../tenants/schemas";
import type { TokenReport } from "./checks";
import { complete, discover, linkGone, type OpenLink, testConnection } from "./flow";
import { identityFrom, type PortalForm, parseJwksText } from "./form";
import { PortalPage, type PortalView, type Stage, StopPage } from "./pages";
import { applyPreset, presetById } from "./presets";

type Rendered = { html: string; status: number };

const page = async (view: PortalView, status = 200): Promise<Rendered> => ({
  html: String(await (<PortalPage view={view} />)),
  status,
});

/** The identity the form describes, held to the admin API's own schema. */
function identityOf(form: PortalForm): IdentityInput {
  const result = IdentityInputSchema.safeParse(identityFrom(form));
  if (result.success) return result.data as IdentityInput;
  const issue = result.error.issues[0];
  throw apiError("invalid_request", `${issue?.path.join(".") || "identity"}: ${issue?.message}`);
}

/** Errors the page shows beside the step that failed; the others (404, 410, 429) end on a stop page. */
const shownInline = (err: unknown): err is ApiError => err instanceof ApiError && ![404, 410, 429].includes(err.status);

async function discoverStep(view: PortalView, open: OpenLink): Promise<Rendered> {
  const { form } = view;
  const applied = applyPreset(view.preset!, form.fields);
  form.fields = applied.values;
  if (!applied.issuer) {
    view.fieldProblems = applied.problems;
    view.error = { stage: "settings", message: "Check the highlighted fields." };
    return page(view, 400);
  }
  let found: { issuer: string; jwksUri: string; algorithms: string[]; keys: PortalView["discovered"] & {} };
  if (form.jwksText) {
    try {
      const { keys, algorithms } = await keysOf(parseJwksText(form.jwksText));
      found = { issuer: applied.issuer, jwksUri: "", algorithms, keys: { keys, algorithms } };
    } catch (err) {
      throw err instanceof DiscoveryError ? apiError("invalid_request", err.message) : err;
    }
  } else {
    const result = await discover(open, { issuer: applied.issuer, jwksUri: applied.jwksUri });
    found = { ...result, keys: { keys: result.keys, algorithms: result.algorithms } };
  }
  form.issuer = found.issuer;
  form.jwksUri = found.jwksUri;
  form.algorithms = found.algorithms.join(",");
  if (!form.audience && applied.audience) form.audience = applied.audience;
  if (!form.claimName && applied.claim) {
    form.claimName = applied.claim.name;
    form.claimValue = applied.claim.value;
  }
  view.discovered = found.keys;
  view.stage = "keys";
  return page(view);
}

async function testStep(view: PortalView, open: OpenLink): Promise<Rendered> {
  view.stage = "keys";
  const report = await testConnection(open, { identity: identityOf(view.form), token: view.form.token });
  view.report = report;
  view.stage = report.ok ? "tested" : "keys";
  return page(view);
}

async function completeStep(view: PortalView, open: OpenLink, gatewayUrl: string): Promise<Rendered> {
  view.stage = "tested";
  view.report = { ok: true, checks: [], claims: null };
  try {
    const tenant = await complete(open, {
      name: view.form.name || undefined,
      identity: identityOf(view.form),
      token: view.form.token,
    });
    view.stage = "done";
    view.done = { tenant: { id: tenant.id, name: tenant.name, status: tenant.status }, gatewayUrl };
    return page(view, 201);
  } catch (err) {
    const checks = err instanceof ApiError ? (err.details as { checks?: TokenReport["checks"] })?.checks : undefined;
    if (checks) {
      view.report = { ok: false, checks, claims: null };
      view.stage = "keys";
    }
    throw err;
  }
}

const STEP_STAGE: Record<string, Stage> = { discover: "settings", test: "keys", complete: "tested" };

/**
 * One page of the portal: what the form carried, plus the outcome of the step it asked for.
 * A failed step comes back with the same fields filled in and the reason beside that step.
 */
export async function renderPortal(
  nonce: string,
  open: OpenLink,
  form: PortalForm,
  step: string | null,
  gatewayUrl: string,
): Promise<Rendered> {
  const resumable = open.link.status === "completed" && open.tenant?.status === "provisioning";
  const gone = linkGone(open.link);
  if (gone && !(step === "complete" && resumable)) throw gone;
  const preset = presetById(form.provider);
  const view: PortalView = {
    nonce,
    link: open.link,
    tenantName: open.tenant?.name ?? null,
    form,
    preset,
    stage: preset ? "settings" : "provider",
  };
  if (!preset || !step) return page(view);
  try {
    if (step === "discover") return await discoverStep(view, open);
    if (step === "test") return await testStep(view, open);
    if (step === "complete") return await completeStep(view, open, gatewayUrl);
    return page(view);
  } catch (err) {
    if (!shownInline(err)) throw err;
    const stage = view.stage === "keys" && step === "complete" ? "keys" : (STEP_STAGE[step] ?? "settings");
    view.error = { stage, message: err.message };
    if (stage === "keys" && step !== "complete") view.report = undefined;
    return page(view, err.status);
  }
}

const STOP_TITLES: Record<string, string> = {
  not_found: "This link is not valid",
  link_expired: "This link has expired",
  link_used: "This link has already been used",
  link_revoked: "This link has been revoked",
  rate_limited: "Too many attempts",
};

export function renderStop(nonce: string, err: ApiError) {
  return <StopPage nonce={nonce} title={STOP_TITLES[err.code] ?? "Something went wrong"} message={err.message} />;
}
