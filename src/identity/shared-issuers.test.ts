import { describe, expect, it } from "vitest";
import { PRESETS } from "../portal/presets";
import { sharedIssuerProblem, sharedIssuerProvider } from "./shared-issuers";

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
    expect(sharedIssuerProblem({ issuer: "https://accounts.google.com" })).toMatch(/needs an audience/);
    expect(sharedIssuerProblem({ issuer: "https://accounts.google.com", audience: [] })).toMatch(/needs an audience/);
    expect(sharedIssuerProblem({ issuer: "https://accounts.google.com", audience: null })).toMatch(/Google/);
    expect(
      sharedIssuerProblem({ issuer: "https://accounts.google.com", audience: "1-a.apps.googleusercontent.com" }),
    ).toBeNull();
    expect(sharedIssuerProblem({ issuer: "https://acme.eu.auth0.com/" })).toBeNull();
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
      if (sharedIssuerProvider(issuer)) expect(preset.audience, preset.id).toBeDefined();
    }
  });
});
