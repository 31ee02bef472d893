import { describe, expect, it } from "vitest";
import { PRESETS } from "../portal/presets";
import { sharedIssuerProblem, sharedIssuerProvider } from "./shared-issuers";

const MICROSOFT = "https://login.microsoftonline.com/common/v2.0";

describe("issuers shared by unrelated parties", () => {
  it("are recognised in every form their tokens carry", () => {
    const shared: Array<[string, string]> = [
      ["https://accounts.google.com", "Google"],
      ["accounts.google.com", "Google"],
      ["https://Accounts.Google.com/", "Google"],
      ["https://login.microsoftonline.com/common/v2.0", "Microsoft"],
      ["https://login.microsoftonline.com/organizations/v2.0", "Microsoft"],
      ["https://login.microsoftonline.com/consumers/v2.0", "Microsoft"],
      ["https://login.microsoftonline.com/{tenantid}/v2.0", "Microsoft"],
      ["https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0", "Microsoft"],
      ["https://sts.windows.net/{tenantid}/", "Microsoft"],
      ["https://sts.windows.net/9188040d-6c67-4c5b-b112-36a304b66dad/", "Microsoft"],
      ["https://login.microsoftonline.com/common", "Microsoft"],
      ["https://accounts.google.com:443", "Google"],
      ["https://www.facebook.com", "Facebook"],
      ["https://login.salesforce.com", "Salesforce"],
      ["https://app.terraform.io", "Terraform Cloud"],
      ["https://appleid.apple.com", "Apple"],
      ["https://token.actions.githubusercontent.com", "GitHub Actions"],
      ["https://gitlab.com", "GitLab"],
    ];
    for (const [issuer, provider] of shared) expect(sharedIssuerProvider(issuer), issuer).toBe(provider);
  });

  it("leave issuers of one organisation alone", () => {
    for (const issuer of [
      "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
      "https://securetoken.google.com/acme-prod",
      "https://acme.eu.auth0.com/",
      "https://accounts.google.com.evil.example",
      "https://gitlab.acme.com",
      "not a url",
    ]) {
      expect(sharedIssuerProvider(issuer), issuer).toBeNull();
    }
  });

  it("must name an audience; a claim alone is not enough", () => {
    const problem = (identity: Parameters<typeof sharedIssuerProblem>[0]) => sharedIssuerProblem(identity);
    expect(problem({ issuer: "https://appleid.apple.com" })).toMatchObject({
      check: "audience",
      message: /needs an audience/,
    });
    expect(problem({ issuer: "https://appleid.apple.com", audience: [] })?.check).toBe("audience");
    expect(problem({ issuer: MICROSOFT, claim: { name: "tid" } })?.check).toBe("audience");
    expect(problem({ issuer: MICROSOFT, audience: "api://acme" })).toBeNull();
    expect(problem({ issuer: "https://acme.eu.auth0.com/" })).toBeNull();
  });

  it("where the asker picks the audience (CI jobs, Google service accounts), also a claim that pins the tenant", () => {
    const problem = (identity: Parameters<typeof sharedIssuerProblem>[0]) => sharedIssuerProblem(identity);
    const google = { issuer: "https://accounts.google.com", audience: "1-a.apps.googleusercontent.com" };
    expect(problem(google)).toMatchObject({ check: "claim", message: /one of azp, hd, email, sub/ });
    expect(problem({ ...google, claim: { name: "org" } })?.check).toBe("claim");
    expect(problem({ ...google, claim: { name: "azp" } })).toBeNull();
    expect(problem({ ...google, claim: { name: "hd" } })).toBeNull();
    const github = { issuer: "https://token.actions.githubusercontent.com", audience: "https://gw.example" };
    expect(problem(github)?.check).toBe("claim");
    expect(problem({ ...github, claim: { name: "repository_owner" } })?.check).toBe("claim"); // a name, not an id
    expect(problem({ ...github, claim: { name: "repository_owner_id" } })).toBeNull();
    expect(problem({ issuer: "https://gitlab.com", audience: "x", claim: { name: "namespace_id" } })).toBeNull();
  });

  it("never throws on an issuer that is not a URL or holds a malformed escape", () => {
    for (const issuer of ["https://idp.example.com/%ff", "https://login.microsoftonline.com/%E0%A4%A/v2.0", "::"]) {
      expect(() => sharedIssuerProblem({ issuer }), issuer).not.toThrow();
    }
  });

  it("cover every preset the portal offers that builds a shared issuer: each then sets an audience", () => {
    for (const preset of PRESETS) {
      const values = Object.fromEntries(preset.fields.map((f) => [f.name, "x"]));
      let issuer: string;
      try {
        issuer = preset.issuer(values);
      } catch {
        continue;
      }
      if (!sharedIssuerProvider(issuer)) continue;
      const claim = preset.claim?.(values);
      expect(sharedIssuerProblem({ issuer, audience: preset.audience?.(values), claim }), preset.id).toBeNull();
    }
  });
});
