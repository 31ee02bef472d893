/**
 * Issuers that sign tokens for anyone who asks: every Google account, every Microsoft account or
 * directory, every Apple ID, every GitHub or GitLab CI job. Such an issuer says nothing about whose
 * app a token was made for. Registered without more, a tenant would accept any such token in the
 * world, and anyone could send on its credit. So each needs an audience (the client ID its tokens
 * are issued for), and where the party asking for a token chooses its audience (a CI job names any
 * `aud` it likes; a Google service account can mint an ID token for any audience), a claim too,
 * one that only the tenant's own tokens carry.
 */

interface SharedIssuer {
  provider: string;
  matches: (url: { host: string; pathname: string }) => boolean;
  /** Claims whose value only the tenant's own tokens carry; one must be registered when set. */
  pins?: readonly string[];
}

/** Microsoft's personal-accounts tenant: every consumer Microsoft account signs in through it. */
const MSA_CONSUMERS_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad";
const MICROSOFT_SHARED_TENANTS = ["common", "organizations", "consumers", "{tenantid}", MSA_CONSUMERS_TENANT];

const SHARED: readonly SharedIssuer[] = [
  {
    provider: "Google",
    matches: (u) => u.host === "accounts.google.com" && u.pathname === "/",
    // azp: the OAuth client that asked (a service account's token carries its own id there); hd: the
    // Workspace domain; email or sub: one account.
    pins: ["azp", "hd", "email", "sub"],
  },
  {
    provider: "Microsoft",
    matches: (u) =>
      ((u.host === "login.microsoftonline.com" || u.host === "sts.windows.net") &&
        MICROSOFT_SHARED_TENANTS.includes(u.pathname.split("/")[1] ?? "")) ||
      u.host === "login.live.com",
  },
  { provider: "Apple", matches: (u) => u.host === "appleid.apple.com" && u.pathname === "/" },
  { provider: "Facebook", matches: (u) => u.host === "www.facebook.com" || u.host === "facebook.com" },
  { provider: "LinkedIn", matches: (u) => u.host === "www.linkedin.com" && u.pathname.startsWith("/oauth") },
  { provider: "Salesforce", matches: (u) => u.host === "login.salesforce.com" || u.host === "test.salesforce.com" },
  { provider: "Twitch", matches: (u) => u.host === "id.twitch.tv" },
  {
    provider: "GitHub Actions",
    matches: (u) => u.host === "token.actions.githubusercontent.com",
    // Ids, not names: a name can be registered again by someone else after a rename.
    pins: ["repository_owner_id", "repository_id"],
  },
  {
    provider: "GitLab",
    matches: (u) => u.host === "gitlab.com" && u.pathname === "/",
    pins: ["namespace_id", "project_id"],
  },
  {
    provider: "Terraform Cloud",
    matches: (u) => u.host === "app.terraform.io",
    pins: ["terraform_organization_id", "terraform_workspace_id"],
  },
];

/** The hosts of every shared issuer above, for a coarse filter in storage. */
export const SHARED_ISSUER_HOSTS = [
  "accounts.google.com",
  "login.microsoftonline.com",
  "sts.windows.net",
  "login.live.com",
  "appleid.apple.com",
  "facebook.com",
  "linkedin.com",
  "salesforce.com",
  "id.twitch.tv",
  "token.actions.githubusercontent.com",
  "gitlab.com",
  "app.terraform.io",
] as const;

function sharedIssuer(issuer: string): SharedIssuer | null {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(issuer) ? issuer : `https://${issuer}`);
  } catch {
    return null;
  }
  // URL() percent-encodes braces in the path; the rules above read Microsoft's pattern with them.
  let pathname = url.pathname;
  try {
    pathname = decodeURI(pathname);
  } catch {
    // a malformed escape: judged as written
  }
  const readable = { host: url.hostname.toLowerCase(), pathname: pathname.toLowerCase() || "/" };
  return SHARED.find((s) => s.matches(readable)) ?? null;
}

/**
 * The provider behind `issuer` when it is one that many unrelated parties share, else null. Compared
 * the way a person reads it: host case-insensitive, any port, `{tenantid}` (Microsoft's multi-tenant
 * issuer pattern) and a missing scheme (Google also signs `iss: "accounts.google.com"`) included.
 */
export function sharedIssuerProvider(issuer: string): string | null {
  return sharedIssuer(issuer)?.provider ?? null;
}

export interface SharedIssuerProblem {
  /** What the identity lacks: the portal shows it on that check. */
  check: "audience" | "claim";
  message: string;
}

/**
 * Why an identity with this issuer, audience and claim may not be registered, or null when it may:
 * a shared issuer must name the audience its tokens are issued for, and, where the asker chooses
 * the audience, a claim that pins the tenant's own tokens.
 */
export function sharedIssuerProblem(identity: {
  issuer: string;
  audience?: string | readonly string[] | null;
  claim?: { name: string } | null;
}): SharedIssuerProblem | null {
  const shared = sharedIssuer(identity.issuer);
  if (!shared) return null;
  const { provider, pins } = shared;
  const audience = identity.audience;
  if (audience === undefined || audience === null || audience.length === 0) {
    return {
      check: "audience",
      message: `${identity.issuer} issues tokens to every ${provider} account or app, so it needs an audience: your app's client ID at ${provider}. Without one, any ${provider} token in the world would be accepted.`,
    };
  }
  if (pins && !(identity.claim && pins.includes(identity.claim.name))) {
    return {
      check: "claim",
      message: `${identity.issuer} signs tokens for any audience whoever asks names, so it also needs a claim that only your tokens carry: one of ${pins.join(", ")}. Without one, anyone could get a ${provider} token for your audience.`,
    };
  }
  return null;
}
