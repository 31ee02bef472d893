/**
 * Issuers that sign tokens for anyone who asks: every Google account, every Microsoft account or
 * directory, every Apple ID, every GitHub or GitLab CI job. Such an issuer says nothing about whose
 * app a token was made for; only its audience does. A tenant that registers one without an audience
 * would accept any such token in the world, and anyone could send on its credit.
 */

/** Microsoft's personal-accounts tenant: every consumer Microsoft account signs in through it. */
const MSA_CONSUMERS_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad";

const SHARED: Array<{ provider: string; matches: (url: URL) => boolean }> = [
  { provider: "Google", matches: (u) => u.host === "accounts.google.com" && u.pathname === "/" },
  {
    provider: "Microsoft",
    matches: (u) => {
      if (u.host === "sts.windows.net") return /^\/(\{tenantid\}|common|organizations|consumers)\/?$/.test(u.pathname);
      if (u.host === "login.live.com") return true;
      if (u.host !== "login.microsoftonline.com") return false;
      const tenant = u.pathname.split("/")[1] ?? "";
      return ["common", "organizations", "consumers", "{tenantid}", MSA_CONSUMERS_TENANT].includes(tenant);
    },
  },
  { provider: "Apple", matches: (u) => u.host === "appleid.apple.com" && u.pathname === "/" },
  { provider: "GitHub Actions", matches: (u) => u.host === "token.actions.githubusercontent.com" },
  { provider: "GitLab", matches: (u) => u.host === "gitlab.com" && u.pathname === "/" },
];

/** The hosts of every shared issuer above, for a coarse filter in storage. */
export const SHARED_ISSUER_HOSTS = [
  "accounts.google.com",
  "login.microsoftonline.com",
  "sts.windows.net",
  "login.live.com",
  "appleid.apple.com",
  "token.actions.githubusercontent.com",
  "gitlab.com",
] as const;

/**
 * The provider behind `issuer` when it is one that many unrelated parties share, else null. Compared
 * the way a person reads it: host case-insensitive, `{tenantid}` (Microsoft's multi-tenant issuer
 * pattern) and a missing scheme (Google also signs `iss: "accounts.google.com"`) included.
 */
export function sharedIssuerProvider(issuer: string): string | null {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(issuer) ? issuer : `https://${issuer}`);
  } catch {
    return null;
  }
  // URL() percent-encodes braces in the path; the rules above read Microsoft's pattern with them.
  const readable = { host: url.host.toLowerCase(), pathname: decodeURI(url.pathname).toLowerCase() } as URL;
  if (readable.pathname === "") readable.pathname = "/";
  return SHARED.find((s) => s.matches(readable))?.provider ?? null;
}

/**
 * Why an identity with this issuer and audience may not be registered, or null when it may: a shared
 * issuer must name the audience (its client ID) its tokens are issued for. A claim may narrow it further.
 */
export function sharedIssuerProblem(identity: {
  issuer: string;
  audience?: string | readonly string[] | null;
}): string | null {
  const provider = sharedIssuerProvider(identity.issuer);
  if (!provider) return null;
  const audience = identity.audience;
  if (audience !== undefined && audience !== null && audience.length > 0) return null;
  return `${identity.issuer} issues tokens to every ${provider} account or app, so it needs an audience: your app's client ID at ${provider}. Without one, any ${provider} token in the world would be accepted.`;
}
