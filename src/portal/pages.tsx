import type { Child } from "hono/jsx";
import type { KeySummary } from "../identity/discovery";
import type { LinkRecord } from "../storage/onboarding-links";
import { Document, when } from "../ui/document";
import type { TokenReport } from "./checks";
import type { PortalForm } from "./form";
import { PRESETS, type Preset } from "./presets";

export type Stage = "provider" | "settings" | "keys" | "tested" | "done";

export interface PortalView {
  nonce: string;
  link: LinkRecord;
  /** identity links: the tenant being reconfigured. */
  tenantName: string | null;
  form: PortalForm;
  preset?: Preset;
  stage: Stage;
  fieldProblems?: Record<string, string>;
  /** A failed step's message, shown where that step's form is. */
  error?: { stage: Stage; message: string };
  discovered?: { keys: KeySummary[]; algorithms: string[] };
  report?: TokenReport;
  done?: { tenant: { id: string; name: string; status: string }; gatewayUrl: string };
}

const STEP_LABELS: Array<[Stage, string]> = [
  ["provider", "Provider"],
  ["settings", "Keys"],
  ["keys", "Test"],
  ["tested", "Activate"],
];

function Frame(props: { nonce: string; title: string; children: Child }) {
  return (
    <Document
      title={`${props.title} · Zavu gateway`}
      nonce={props.nonce}
      header={
        <header class="bar">
          <div class="in">
            <span class="brand">Zavu gateway · customer setup</span>
          </div>
        </header>
      }
    >
      <main id="main" class="narrow" tabindex={-1}>
        {props.children}
      </main>
    </Document>
  );
}

/** Hidden copies of what earlier steps gathered; `except` names the fields the current form shows. */
function Carry(props: { form: PortalForm; upTo: Stage; except?: string[] }) {
  const { form } = props;
  const skip = new Set(props.except ?? []);
  const order: Stage[] = ["provider", "settings", "keys", "tested", "done"];
  const reached = (s: Stage) => order.indexOf(props.upTo) >= order.indexOf(s);
  const pairs: Array<[string, string]> = [["provider", form.provider]];
  if (reached("settings")) {
    for (const [k, v] of Object.entries(form.fields)) pairs.push([`f_${k}`, v]);
    pairs.push(["jwksText", form.jwksText]);
  }
  if (reached("keys")) pairs.push(["issuer", form.issuer], ["jwksUri", form.jwksUri], ["algorithms", form.algorithms]);
  if (reached("tested"))
    pairs.push(
      ["audience", form.audience],
      ["claimName", form.claimName],
      ["claimValue", form.claimValue],
      ["token", form.token],
    );
  return (
    <>
      {pairs
        .filter(([k, v]) => v && !skip.has(k))
        .map(([k, v]) => (
          <input type="hidden" name={k} value={v} />
        ))}
    </>
  );
}

function ErrorBox(props: { view: PortalView; stage: Stage }) {
  const e = props.view.error;
  if (!e || e.stage !== props.stage) return null;
  return (
    <div class="alert" role="alert" id="step-error" tabindex={-1} autofocus>
      {e.message}
    </div>
  );
}

function Field(props: {
  name: string;
  label: string;
  value: string;
  hint?: string;
  placeholder?: string;
  problem?: string;
  required?: boolean;
  autofocus?: boolean;
  multiline?: boolean;
}) {
  const id = `in-${props.name}`;
  const described = [props.hint ? `${id}-hint` : "", props.problem ? `${id}-err` : ""].filter(Boolean).join(" ");
  const common = {
    id,
    name: props.name,
    placeholder: props.placeholder,
    required: props.required,
    autofocus: props.autofocus,
    "aria-invalid": props.problem ? "true" : undefined,
    "aria-describedby": described || undefined,
  };
  return (
    <div>
      <label for={id}>{props.label}</label>
      {props.multiline ? (
        <textarea {...common} spellcheck={false}>
          {props.value}
        </textarea>
      ) : (
        <input type="text" {...common} value={props.value} autocomplete="off" spellcheck={false} />
      )}
      {props.hint ? (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {props.problem ? (
        <p class="field-error" id={`${id}-err`}>
          {props.problem}
        </p>
      ) : null}
    </div>
  );
}

function ProviderStep(props: { view: PortalView }) {
  const { view } = props;
  if (view.preset && view.stage !== "provider") {
    return (
      <section class="card" aria-labelledby="provider-h">
        <h2 id="provider-h">1. Identity provider: {view.preset.label}</h2>
        <a href="?">Choose another provider</a>
      </section>
    );
  }
  return (
    <section class="card" aria-labelledby="provider-h">
      <h2 id="provider-h">1. Which identity provider signs your users in?</h2>
      <form method="get">
        <fieldset>
          <legend>Identity provider</legend>
          <div class="providers">
            {PRESETS.map((p, i) => (
              <label>
                <input type="radio" name="provider" value={p.id} required checked={i === 0} autofocus={i === 0} />
                <span>{p.label}</span>
              </label>
            ))}
          </div>
        </fieldset>
        <div class="actions">
          <button type="submit">Continue</button>
        </div>
      </form>
    </section>
  );
}

function SettingsStep(props: { view: PortalView }) {
  const { view } = props;
  const preset = view.preset!;
  const { form } = view;
  const current = view.stage === "settings";
  return (
    <section class="card" aria-labelledby="settings-h" id="settings">
      <h2 id="settings-h">2. Find your provider's signing keys</h2>
      <ErrorBox view={view} stage="settings" />
      {preset.note ? <p class="hint">{preset.note}</p> : null}
      <form method="post">
        <Carry form={form} upTo="provider" />
        {preset.fields.length === 0 ? <p>Nothing to fill in: {preset.label} has one issuer for everyone.</p> : null}
        {preset.fields.map((f, i) => (
          <Field
            name={`f_${f.name}`}
            label={f.label}
            value={form.fields[f.name] ?? ""}
            hint={f.hint}
            placeholder={f.placeholder}
            problem={view.fieldProblems?.[f.name]}
            required
            autofocus={current && i === 0}
          />
        ))}
        <details open={form.jwksText ? true : undefined}>
          <summary>Or paste your JWKS (public keys) instead of discovering it</summary>
          <Field
            name="jwksText"
            label="JWKS (JSON)"
            value={form.jwksText}
            hint='Public keys only: {"keys": [{"kty": "EC", "kid": "...", ...}]}. Leave empty to fetch them.'
            multiline
          />
        </details>
        <div class="actions">
          <button type="submit" name="step" value="discover">
            Find keys
          </button>
        </div>
      </form>
    </section>
  );
}

function KeysTable(props: { keys: KeySummary[] }) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="muted">Public signing keys found</caption>
        <thead>
          <tr>
            <th scope="col">Key id (kid)</th>
            <th scope="col">Type</th>
            <th scope="col">Algorithm</th>
          </tr>
        </thead>
        <tbody>
          {props.keys.map((k) => (
            <tr>
              <td>
                <code>{k.kid ?? "(none)"}</code>
              </td>
              <td>{k.crv ? `${k.kty} ${k.crv}` : k.kty}</td>
              <td>{k.alg ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function TestStep(props: { view: PortalView }) {
  const { view } = props;
  const { form } = view;
  const preset = view.preset!;
  const fresh = view.stage === "keys";
  return (
    <section class="card" aria-labelledby="keys-h" id="keys">
      <h2 id="keys-h" tabindex={-1}>
        3. Test the connection with a real token
      </h2>
      <dl class="facts">
        <dt>Issuer</dt>
        <dd>
          <code>{form.issuer}</code>
        </dd>
        <dt>Keys from</dt>
        <dd>{form.jwksText ? "the JWKS you pasted" : <code>{form.jwksUri}</code>}</dd>
        <dt>Algorithms</dt>
        <dd>{form.algorithms.split(",").join(", ") || "any asymmetric"}</dd>
      </dl>
      {view.discovered ? <KeysTable keys={view.discovered.keys} /> : null}
      <ErrorBox view={view} stage="keys" />
      <form method="post">
        <Carry form={form} upTo="keys" />
        <Field
          name="audience"
          label="Audience (optional)"
          value={form.audience}
          hint={`${preset.audienceHint} Tokens must then carry it in aud.`}
          autofocus={fresh && !view.error}
        />
        <div class="row">
          <Field
            name="claimName"
            label="Organization claim (optional)"
            value={form.claimName}
            placeholder={preset.claimSuggestion ?? "org_id"}
            hint={`Only when several customers share this issuer: the claim that names your organization${preset.claimSuggestion ? ` (${preset.label} uses ${preset.claimSuggestion})` : ""}.`}
          />
          <Field name="claimValue" label="Its value for your organization" value={form.claimValue} />
        </div>
        <Field
          name="token"
          label="A token from your provider"
          value={form.token}
          hint="Sign in to your app and copy an access or ID token. It is checked and then forgotten: nothing is stored."
          required
          multiline
        />
        <div class="actions">
          <button type="submit" name="step" value="test">
            Test connection
          </button>
        </div>
      </form>
    </section>
  );
}

function Result(props: { view: PortalView }) {
  const { view } = props;
  const report = view.report!;
  const creating = view.link.purpose === "create";
  return (
    <section class="card" aria-labelledby="result-h" id="result">
      <h2 id="result-h" tabindex={-1} autofocus={!report.ok}>
        {report.ok ? "4. The token passes every check" : "The token does not pass yet"}
      </h2>
      <ul class="checks">
        {report.checks.map((c) => (
          <li class={c.ok ? (c.warning ? "warn" : "pass") : "fail"}>
            <span class="mark">{c.ok ? (c.warning ? "! Warning" : "✓ Passed") : "✗ Failed"}</span>{" "}
            <strong>{c.name}</strong>
            {c.reason ? <span> — {c.reason}</span> : null}
          </li>
        ))}
      </ul>
      {report.claims ? (
        <details>
          <summary>Decoded claims</summary>
          <pre>{JSON.stringify(report.claims, null, 2)}</pre>
        </details>
      ) : null}
      {report.ok ? (
        <>
          <ErrorBox view={view} stage="tested" />
          <form method="post">
            <Carry form={view.form} upTo="tested" />
            {creating ? (
              <Field
                name="name"
                label="Your organization's name"
                value={view.form.name || view.link.name || ""}
                required
                autofocus={!view.error}
              />
            ) : (
              <p>This replaces the identity configuration of {view.tenantName}. Tokens of the old one stop working.</p>
            )}
            <div class="actions">
              <button type="submit" name="step" value="complete" autofocus={!creating && !view.error}>
                {creating ? "Activate" : "Replace identity provider"}
              </button>
            </div>
          </form>
        </>
      ) : null}
    </section>
  );
}

function Done(props: { view: PortalView }) {
  const { tenant, gatewayUrl } = props.view.done!;
  const sdk = `import Zavudev from "@zavudev/sdk";

// apiKey: a token from your identity provider, as you just tested
const zavu = new Zavudev({ apiKey: token, baseURL: "${gatewayUrl}" });
const { message } = await zavu.messages.send({ to: "+15551234567", text: "Hello" });`;
  const curl = `curl --compressed ${gatewayUrl}/v1/messages \\
  -H "Authorization: Bearer $TOKEN" \\
  -H "Content-Type: application/json" \\
  -d '{"to": "+15551234567", "text": "Hello"}'`;
  return (
    <section class="card" aria-labelledby="done-h">
      <h2 id="done-h" tabindex={-1} autofocus>
        {props.view.link.purpose === "create" ? "You are live" : "Identity provider replaced"}
      </h2>
      <p class="notice" role="status">
        {tenant.name} is {tenant.status}. Your apps call the gateway with tokens from your own provider.
      </p>
      <dl class="facts">
        <dt>Gateway URL</dt>
        <dd>
          <code id="gateway-url">{gatewayUrl}</code>
        </dd>
        <dt>Account</dt>
        <dd>
          <code>{tenant.id}</code>
        </dd>
      </dl>
      <h3>With the Zavu SDK</h3>
      <pre>{sdk}</pre>
      <h3>With curl</h3>
      <pre>{curl}</pre>
    </section>
  );
}

export function PortalPage(props: { view: PortalView }) {
  const { view } = props;
  const title =
    view.link.purpose === "create"
      ? `Connect ${view.form.name || view.link.name || "your organization"} to the Zavu gateway`
      : `Replace the identity provider of ${view.tenantName}`;
  const index = { provider: 0, settings: 1, keys: 2, tested: 3, done: 4 }[view.stage];
  return (
    <Frame nonce={view.nonce} title="Set up your identity provider">
      <h1>{title}</h1>
      {view.stage === "done" ? (
        <Done view={view} />
      ) : (
        <>
          <p class="muted">
            Your users' own sign-in will authorize your apps' messages: no API key to copy. This link works once and
            expires {when(view.link.expiresAt)}.
          </p>
          <ol class="steps" aria-label="Progress">
            {STEP_LABELS.map(([stage, label], i) => (
              <li aria-current={stage === STEP_LABELS[index]?.[0] ? "step" : undefined}>
                {i + 1}. {label}
              </li>
            ))}
          </ol>
          <ProviderStep view={view} />
          {view.preset && view.stage !== "provider" ? <SettingsStep view={view} /> : null}
          {view.stage === "keys" || view.stage === "tested" ? <TestStep view={view} /> : null}
          {view.report ? <Result view={view} /> : null}
        </>
      )}
    </Frame>
  );
}

/** Expired, used, revoked, unknown or rate-limited: a clear page that offers nothing to submit. */
export function StopPage(props: { nonce: string; title: string; message: string }) {
  return (
    <Frame nonce={props.nonce} title={props.title}>
      <h1>{props.title}</h1>
      <p class="alert" role="alert">
        {props.message}
      </p>
      <p class="muted">Nothing was changed. If you need a new link, ask the company that sent you this one.</p>
    </Frame>
  );
}
