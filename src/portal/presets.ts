/**
 * Identity providers the portal knows: each asks only for what it needs and builds the issuer
 * (and, where discovery is not the way, the JWKS URL) from it.
 */
export interface PresetField {
  name: string;
  label: string;
  /** Where to find it, shown under the field. */
  hint: string;
  placeholder: string;
  /** Cleans what was typed (scheme, trailing slash...) and checks it; returns a problem or the value. */
  parse: (raw: string) => { value: string } | { problem: string };
}

export interface Preset {
  id: string;
  label: string;
  fields: PresetField[];
  issuer: (v: Record<string, string>) => string;
  /** When the provider publishes its keys at a known URL rather than through discovery. */
  jwksUri?: (v: Record<string, string>) => string;
  /** What the audience is at this provider, and a default when it follows from the fields. */
  audienceHint: string;
  audience?: (v: Record<string, string>) => string;
  /** A claim the identity must match, when it follows from the fields (a shared issuer needs one). */
  claim?: (v: Record<string, string>) => { name: string; value: string };
  /** The claim that names one organization when several share the issuer. */
  claimSuggestion?: string;
  note?: string;
}

const HOST = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** A host name, forgiving a pasted scheme or trailing slash. */
function host(label: string): PresetField["parse"] {
  return (raw) => {
    const value = raw
      .trim()
      .toLowerCase()
      .replace(/^https?:\/\//, "")
      .replace(/\/+$/, "");
    return HOST.test(value) ? { value } : { problem: `${label} must be a host name such as example.com` };
  };
}

function matching(re: RegExp, problem: string): PresetField["parse"] {
  return (raw) => {
    const value = raw.trim();
    return re.test(value) ? { value } : { problem };
  };
}

function httpsUrl(label: string): PresetField["parse"] {
  return (raw) => {
    const value = raw.trim().replace(/\/+$/, "");
    try {
      const url = new URL(value);
      if (url.protocol === "https:" && !url.search && !url.hash) return { value };
    } catch {}
    return { problem: `${label} must be an https URL without query or fragment` };
  };
}

/** Issuers keep the provider's exact form: a trailing slash where the provider puts one. */
const keepExact: PresetField["parse"] = (raw) => {
  const value = raw.trim();
  try {
    const url = new URL(value);
    if (url.protocol === "https:" && !url.search && !url.hash) return { value };
  } catch {}
  return { problem: "the issuer must be an https URL, exactly as it appears in your tokens' iss claim" };
};

export const PRESETS: Preset[] = [
  {
    id: "auth0",
    label: "Auth0",
    fields: [
      {
        name: "domain",
        label: "Auth0 domain",
        hint: "Auth0 Dashboard → Applications → your application → Settings → Domain (or your custom domain).",
        placeholder: "acme.eu.auth0.com",
        parse: host("the Auth0 domain"),
      },
    ],
    issuer: (v) => `https://${v.domain}/`,
    audienceHint: "The Identifier of your API (Dashboard → Applications → APIs).",
    claimSuggestion: "org_id",
  },
  {
    id: "okta",
    label: "Okta",
    fields: [
      {
        name: "domain",
        label: "Okta domain",
        hint: "Okta Admin Console, top right menu: your Okta domain.",
        placeholder: "acme.okta.com",
        parse: host("the Okta domain"),
      },
      {
        name: "server",
        label: "Authorization server ID",
        hint: "Security → API → Authorization Servers. Use default unless you made your own.",
        placeholder: "default",
        parse: matching(/^[A-Za-z0-9]{1,40}$/, "the authorization server ID has letters and digits only"),
      },
    ],
    issuer: (v) => `https://${v.domain}/oauth2/${v.server}`,
    audienceHint: "The authorization server's Audience (api://default for the default server).",
    audience: (v) => (v.server === "default" ? "api://default" : ""),
  },
  {
    id: "entra",
    label: "Microsoft Entra ID",
    fields: [
      {
        name: "tenant",
        label: "Directory (tenant) ID",
        hint: "Azure portal → Microsoft Entra ID → Overview → Tenant ID.",
        placeholder: "00000000-0000-0000-0000-000000000000",
        parse: matching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, "the tenant ID is a GUID"),
      },
    ],
    issuer: (v) => `https://login.microsoftonline.com/${v.tenant!.toLowerCase()}/v2.0`,
    audienceHint: "Your app registration's Application (client) ID, or its Application ID URI.",
  },
  {
    id: "google",
    label: "Google",
    // Google signs ID tokens for every app and account under one issuer: the client ID is what
    // makes them yours (src/identity/shared-issuers.ts), so it is asked for, not left optional.
    fields: [
      {
        name: "clientId",
        label: "OAuth client ID",
        hint: "Google Cloud console → APIs & Services → Credentials → your OAuth 2.0 client → Client ID.",
        placeholder: "123456789012-abc123def456.apps.googleusercontent.com",
        parse: matching(
          /^[0-9]{1,30}-[a-z0-9]{1,64}\.apps\.googleusercontent\.com$/,
          "the client ID looks like 123456789012-abc123.apps.googleusercontent.com",
        ),
      },
    ],
    issuer: () => "https://accounts.google.com",
    audienceHint: "Your OAuth 2.0 client ID: Google's tokens carry it as aud.",
    audience: (v) => v.clientId!,
    // A service account can mint a Google ID token for any audience; azp (the client that asked) it cannot.
    claim: (v) => ({ name: "azp", value: v.clientId! }),
    claimSuggestion: "azp",
  },
  {
    id: "cognito",
    label: "AWS Cognito",
    fields: [
      {
        name: "pool",
        label: "User pool ID",
        hint: "Amazon Cognito console → User pools → your pool → User pool ID (it starts with its region).",
        placeholder: "eu-west-1_AbCdEf123",
        parse: matching(/^[a-z]{2}(-[a-z]+)+-\d_[A-Za-z0-9]{1,40}$/, "the user pool ID looks like eu-west-1_AbCdEf123"),
      },
    ],
    issuer: (v) => `https://cognito-idp.${v.pool!.split("_")[0]}.amazonaws.com/${v.pool}`,
    audienceHint: "The app client ID (ID tokens carry it as aud; access tokens have no aud: leave it empty).",
  },
  {
    id: "clerk",
    label: "Clerk",
    fields: [
      {
        name: "domain",
        label: "Frontend API URL",
        hint: "Clerk Dashboard → Configure → API keys → Frontend API URL.",
        placeholder: "clerk.example.com",
        parse: host("the Frontend API URL"),
      },
    ],
    issuer: (v) => `https://${v.domain}`,
    audienceHint: "Clerk session tokens have no aud unless a JWT template sets one: usually leave it empty.",
    claimSuggestion: "org_id",
  },
  {
    id: "firebase",
    label: "Firebase Auth",
    fields: [
      {
        name: "project",
        label: "Project ID",
        hint: "Firebase console → Project settings → General → Project ID.",
        placeholder: "acme-prod",
        parse: matching(/^[a-z][a-z0-9-]{4,29}$/, "a Firebase project ID has 6-30 lower-case letters, digits and -"),
      },
    ],
    issuer: (v) => `https://securetoken.google.com/${v.project}`,
    jwksUri: () => "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com",
    audienceHint: "Firebase ID tokens carry the project ID as aud.",
    audience: (v) => v.project!,
  },
  {
    id: "supabase",
    label: "Supabase Auth",
    fields: [
      {
        name: "project",
        label: "Project reference",
        hint: "Supabase Dashboard → Project Settings → General → Project ID (the subdomain of your project URL).",
        placeholder: "abcdefghijklmnopqrst",
        parse: matching(/^[a-z0-9]{20}$/, "a Supabase project reference has 20 lower-case letters and digits"),
      },
    ],
    issuer: (v) => `https://${v.project}.supabase.co/auth/v1`,
    jwksUri: (v) => `https://${v.project}.supabase.co/auth/v1/.well-known/jwks.json`,
    audienceHint: "Supabase user tokens carry aud authenticated.",
    audience: () => "authenticated",
    note: "Needs asymmetric JWT signing keys (Project Settings → JWT Keys); the legacy shared HS256 secret cannot be used.",
  },
  {
    id: "keycloak",
    label: "Keycloak",
    fields: [
      {
        name: "base",
        label: "Server URL",
        hint: "The address your users sign in at, without /realms/... (add /auth for Keycloak 16 and older).",
        placeholder: "https://sso.example.com",
        parse: httpsUrl("the server URL"),
      },
      {
        name: "realm",
        label: "Realm",
        hint: "The realm's name, top left in the admin console.",
        placeholder: "acme",
        parse: matching(/^[A-Za-z0-9._-]{1,100}$/, "a realm name has letters, digits and . _ -"),
      },
    ],
    issuer: (v) => `${v.base}/realms/${v.realm}`,
    audienceHint: "The client ID your tokens are issued for (add an audience mapper if aud is missing).",
  },
  {
    id: "workos",
    label: "WorkOS",
    fields: [
      {
        name: "client",
        label: "Client ID",
        hint: "WorkOS Dashboard → API Keys → Client ID.",
        placeholder: "client_01H...",
        parse: matching(/^client_[A-Za-z0-9]{10,40}$/, "a WorkOS client ID starts with client_"),
      },
    ],
    issuer: (v) => `https://api.workos.com/user_management/${v.client}`,
    jwksUri: (v) => `https://api.workos.com/sso/jwks/${v.client}`,
    audienceHint: "WorkOS access tokens have no aud by default: usually leave it empty.",
    claimSuggestion: "org_id",
  },
  {
    id: "oidc",
    label: "Any OpenID Connect provider",
    fields: [
      {
        name: "issuer",
        label: "Issuer URL",
        hint: "Exactly the iss claim of your tokens; your provider serves /.well-known/openid-configuration under it.",
        placeholder: "https://login.example.com/",
        parse: keepExact,
      },
    ],
    issuer: (v) => v.issuer!,
    audienceHint: "The aud claim your tokens carry for this API.",
  },
];

export function presetById(id: string | undefined): Preset | undefined {
  return PRESETS.find((p) => p.id === id);
}

export interface PresetResult {
  issuer?: string;
  jwksUri?: string;
  audience?: string;
  claim?: { name: string; value: string };
  values: Record<string, string>;
  problems: Record<string, string>;
}

/** Builds the issuer (and JWKS URL, default audience) from what the customer typed for a preset. */
export function applyPreset(preset: Preset, raw: Record<string, string | undefined>): PresetResult {
  const values: Record<string, string> = {};
  const problems: Record<string, string> = {};
  for (const field of preset.fields) {
    const typed = (raw[field.name] ?? "").slice(0, 500);
    if (!typed.trim()) {
      problems[field.name] = `${field.label} is required`;
      values[field.name] = typed;
      continue;
    }
    const parsed = field.parse(typed);
    if ("problem" in parsed) {
      problems[field.name] = parsed.problem;
      values[field.name] = typed;
    } else values[field.name] = parsed.value;
  }
  if (Object.keys(problems).length > 0) return { values, problems };
  return {
    values,
    problems,
    issuer: preset.issuer(values),
    jwksUri: preset.jwksUri?.(values),
    audience: preset.audience?.(values) || undefined,
    claim: preset.claim?.(values),
  };
}
