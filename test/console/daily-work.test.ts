import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin, tenantBody } from "../helpers/admin";
import { gatewayFetch } from "../helpers/gateway";
import { TestIdp } from "../helpers/idp";
import { sandbox } from "../helpers/sandbox";

// The console's daily-work screens: charts and usage on the tenant page and the overview, the plan
// form, the usage screen and its CSV, the webhooks screen. Usage rows are written straight to D1.

beforeAll(async () => {
  await sandbox.reset();
});

/** A console fragment as the script fetches it (Bearer token); a form may repeat a name (checkboxes). */
async function fragment(path: string, opts: { form?: Array<[string, string]>; token?: string | null } = {}) {
  const headers: Record<string, string> = {};
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? ADMIN_TOKEN}`;
  if (opts.form) headers["content-type"] = "application/x-www-form-urlencoded";
  const res = await gatewayFetch(`/console/f${path}`, {
    method: opts.form ? "POST" : "GET",
    headers,
    body: opts.form ? new URLSearchParams(opts.form).toString() : undefined,
  });
  return { status: res.status, html: await res.text(), headers: res.headers };
}

async function newTenant(name: string, extra: Record<string, unknown> = {}) {
  const idp = await TestIdp.create(`https://${crypto.randomUUID()}.daily.example`);
  const res = await admin("POST", "/tenants", {
    body: tenantBody({ issuer: idp.issuer, jwks: idp.jwks() }, { name, ...extra }),
  });
  expect(res.status, res.text).toBe(201);
  return res.body.tenant as { id: string; name: string };
}

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

async function usage(
  tenantId: string,
  date: string,
  channel: string,
  r: { sends: number; cost: number; delivered?: number; failed?: number; refusals?: Record<string, number> },
) {
  await env.DB.batch([
    env.DB.prepare(
      `INSERT INTO usage_daily (tenant_id, date, channel, sends, cost_cents, estimated_cents, delivered, failed, updated_at)
       VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)`,
    ).bind(tenantId, date, channel, r.sends, r.cost, r.delivered ?? 0, r.failed ?? 0, Date.now()),
    ...Object.entries(r.refusals ?? {}).map(([code, n]) =>
      env.DB.prepare("INSERT INTO usage_refusals (tenant_id, date, channel, code, count) VALUES (?, ?, ?, ?, ?)").bind(
        tenantId,
        date,
        channel,
        code,
        n,
      ),
    ),
  ]);
}

/** The bars of a chart (by its figure's id): their data-value and height. */
function bars(html: string, figure: string) {
  const at = html.indexOf(`id="${figure}"`);
  expect(at, figure).toBeGreaterThan(0);
  const svg = html.slice(at, html.indexOf("</svg>", at));
  return [
    ...svg.matchAll(
      /<rect class="bar[^"]*" x="[^"]*" y="[^"]*" width="[^"]*" height="([^"]*)"[^>]*data-label="([^"]*)" data-value="([^"]*)"/g,
    ),
  ].map((m) => ({ height: Number(m[1]), label: m[2]!, value: Number(m[3]) }));
}

/** A table's body rows as the text of their cells. */
function rows(html: string, table: string) {
  const at = html.indexOf(`id="${table}"`);
  expect(at, table).toBeGreaterThan(0);
  const body = html.slice(html.indexOf("<tbody>", at), html.indexOf("</tbody>", at));
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((m) =>
    [...m[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) => c[1]!.replace(/<[^>]+>/g, "").trim()),
  );
}

describe("console: the tenant page's usage", () => {
  it("charts the last 30 days' sends and cost from the usage records, with the numbers in a table", async () => {
    const tenant = await newTenant("Charted Co", { creditLimit: 1000 });
    await usage(tenant.id, day(0), "sms", {
      sends: 12,
      cost: 240,
      delivered: 10,
      failed: 2,
      refusals: { rate_limited: 3 },
    });
    await usage(tenant.id, day(0), "whatsapp", { sends: 3, cost: 15 });
    await usage(tenant.id, day(-5), "sms", { sends: 6, cost: 120, delivered: 6 });
    await usage(tenant.id, day(-40), "sms", { sends: 999, cost: 99_900 }); // before the 30 days
    const page = await fragment(`/tenants/${tenant.id}`);
    expect(page.status).toBe(200);

    const sends = bars(page.html, "tenant-daily-sends");
    expect(sends).toHaveLength(30);
    expect(sends.at(-1)).toMatchObject({ label: day(0).slice(5), value: 15 });
    expect(sends.at(-6)).toMatchObject({ label: day(-5).slice(5), value: 6 });
    expect(sends.filter((b) => b.value !== 0)).toHaveLength(2);
    expect(sends.at(-1)!.height / sends.at(-6)!.height).toBeCloseTo(15 / 6, 2);
    expect(page.html).toMatch(/role="img" aria-label="Sends a day from [0-9-]+ to [0-9-]+: 21 in all, most on/);
    expect(page.html).not.toContain("999");

    const table = rows(page.html, "tenant-daily-table");
    expect(table).toHaveLength(30);
    expect(table.at(-1)).toEqual([day(0), "15", "$2.55", "10", "2"]);
    expect(table.at(-6)).toEqual([day(-5), "6", "$1.20", "6", "0"]);

    // The success rate: delivered / (delivered + failed) over the 30 days.
    expect(page.html).toContain("88.8% delivered (16 delivered, 2 failed) in the last 30 days");
    expect(page.html).toMatch(/<svg class="gauge g-warn"[^>]*aria-label="Delivery success rate: 88\.8% delivered/);

    // The records by day and channel, newest first, with refusals and totals.
    const records = rows(page.html, "usage-table");
    expect(records.map((r) => r.slice(0, 3))).toEqual([
      [day(0), "sms", "12"],
      [day(0), "whatsapp", "3"],
      [day(-5), "sms", "6"],
    ]);
    expect(records[0]![6]).toBe("rate_limited 3");
  });

  it("draws spend against the credit limit, and says when there is no cap", async () => {
    const capped = await newTenant("Capped", { creditLimit: 2000 });
    const page = await fragment(`/tenants/${capped.id}`);
    expect(page.html).toMatch(
      /<svg class="gauge g-ok"[^>]*aria-label="Spend against the credit limit: \$0\.00 of \$20\.00/,
    );
    const open = await newTenant("Uncapped");
    const other = await fragment(`/tenants/${open.id}`);
    expect(other.html).toContain("(no cap)");
    expect(other.html).toContain("No delivery outcomes reported in the last 30 days.");
    expect(other.html).toContain("No usage in these days.");
  });
});

describe("console: the plan", () => {
  it("edits the plan with the admin API's values and rules, changing only what differs", async () => {
    const tenant = await newTenant("Planned");
    const page = await fragment(`/tenants/${tenant.id}`);
    expect(page.html).toContain('<select id="plan-requestsPerSecond" name="requestsPerSecond">');
    const saved = await fragment(`/tenants/${tenant.id}/plan`, {
      form: [
        ["requestsPerSecond", "50"],
        ["sendsPerMinute", "200"],
        ["dailySends", "1000"],
      ],
    });
    expect(saved.status).toBe(200);
    expect(saved.html).toContain("Plan saved");
    expect(saved.html).toContain('<option value="50" selected="">50</option>');
    const after = (await admin("GET", `/tenants/${tenant.id}`)).body.tenant;
    expect(after.plan).toMatchObject({ requestsPerSecond: 50, sendsPerMinute: 200, dailySends: 1000 });

    const unlimited = await fragment(`/tenants/${tenant.id}/plan`, {
      form: [
        ["requestsPerSecond", "50"],
        ["sendsPerMinute", "200"],
        ["dailySends", ""],
      ],
    });
    expect(unlimited.html).toContain("Plan saved");
    expect((await admin("GET", `/tenants/${tenant.id}`)).body.tenant.plan.dailySends).toBeNull();
    const audit = await admin("GET", `/audit?tenantId=${tenant.id}`);
    const update = audit.body.items.find((e: any) => e.action === "tenant.update");
    expect(update.detail.plan).toEqual({ dailySends: null }); // only what changed

    const same = await fragment(`/tenants/${tenant.id}/plan`, {
      form: [
        ["requestsPerSecond", "50"],
        ["sendsPerMinute", "200"],
        ["dailySends", ""],
      ],
    });
    expect(same.html).toContain("nothing changed");
  });

  it("refuses values the admin API refuses, changing nothing", async () => {
    const tenant = await newTenant("Strict plan");
    const before = (await admin("GET", `/tenants/${tenant.id}`)).body.tenant.plan;
    for (const [form, message] of [
      [[["requestsPerSecond", "49"]], "Requests per second must be unlimited or one of 1, 2, 5"],
      [[["sendsPerMinute", "60"]], "Sends per minute must be unlimited or one of 10, 20, 50"],
      [[["dailySends", "0"]], "Sends per UTC day must be unlimited or a whole number from 1 to 100000000"],
      [[["dailySends", "1e3"]], "Sends per UTC day: give a whole number, or nothing for unlimited."],
      [[["dailySends", "<b>1</b>"]], "Sends per UTC day: give a whole number"],
    ] as Array<[Array<[string, string]>, string]>) {
      const res = await fragment(`/tenants/${tenant.id}/plan`, { form });
      expect(res.status, JSON.stringify(form)).toBe(400);
      expect(res.html).toContain(message);
      expect(res.html).not.toContain("<b>1</b>");
    }
    expect((await admin("GET", `/tenants/${tenant.id}`)).body.tenant.plan).toEqual(before);
  });
});

describe("console: overview, usage screen and CSV", () => {
  it("charts the team's month and ranks the top tenants by spend, names escaped", async () => {
    const a = await newTenant("<img src=x onerror=alert(1)> Alpha");
    const b = await newTenant("Beta");
    const today = day(0);
    await usage(a.id, today, "sms", { sends: 5, cost: 500 });
    await usage(b.id, today, "sms", { sends: 40, cost: 2000, delivered: 30, failed: 1 });
    const page = await fragment("/overview");
    expect(page.status).toBe(200);
    const team = rows(page.html, "team-daily-table");
    expect(team).toHaveLength(Number(today.slice(8)));
    const todayRow = team.find((r) => r[0] === today)!;
    expect(Number(todayRow[1]!.replaceAll(",", ""))).toBeGreaterThanOrEqual(45);
    const top = rows(page.html, "top-tenants-table");
    const names = top.map((r) => r[0]);
    expect(names.indexOf("Beta")).toBeLessThan(names.indexOf("&lt;img src=x onerror=alert(1)&gt; Alpha"));
    expect(top.length).toBeLessThanOrEqual(10);
    expect(page.html).not.toContain("<img src=x");
    const rank = bars(page.html, "top-tenants");
    const beta = rank.find((r) => r.label === "Beta")!;
    expect(beta.value).toBe(2000);
  });

  it("shows a month by tenant and serves its CSV, the same bytes as the admin API's", async () => {
    const tenant = await newTenant("Monthly Ltd");
    await usage(tenant.id, "2025-02-10", "sms", {
      sends: 7,
      cost: 140,
      delivered: 7,
      refusals: { daily_quota_exceeded: 2 },
    });
    await usage(tenant.id, "2025-02-11", "whatsapp", { sends: 1, cost: 5 });
    const page = await fragment("/usage?month=2025-02");
    expect(page.status).toBe(200);
    expect(page.html).toContain("Usage, February 2025");
    expect(page.html).toContain('data-download="/usage/export?month=2025-02"');
    const table = rows(page.html, "month-table");
    expect(table).toEqual([["Monthly Ltd", "—", "sms 7, whatsapp 1", "8", "$1.45", "7", "0", "2"]]);
    expect((await fragment("/usage?month=2025-03")).html).toContain("No usage in March 2025.");
    const bad = await fragment("/usage?month=2025-13");
    expect(bad.status).toBe(400);
    expect(bad.html).toContain("Month: give a month as YYYY-MM");

    const csv = await fragment("/usage/export?month=2025-02");
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(csv.headers.get("content-disposition")).toBe('attachment; filename="usage-2025-02.csv"');
    const api = await gatewayFetch("/admin/v1/usage?month=2025-02&format=csv", {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(csv.html).toBe(await api.text());
    expect(csv.html).toContain(`${tenant.id},Monthly Ltd,,2025-02,sms,7,2,daily_quota_exceeded=2,140,1.40,false,7,0`);
    expect((await fragment("/usage/export?month=2025-02", { token: null })).status).toBe(401);
    expect((await fragment("/usage/export?month=x")).status).toBe(400);
  });
});

describe("console: webhooks", () => {
  const RECEIVER = "https://zavu.sandbox/__sandbox/hooks";

  it("registers an endpoint (secret shown once), lists it, tests it, shows its deliveries, deletes it", async () => {
    const made = await fragment("/webhooks", {
      form: [
        ["name", "Billing"],
        ["url", `${RECEIVER}/console-billing`],
        ["events", "tenant.status.changed"],
        ["events", "tenant.credit.threshold"],
      ],
    });
    expect(made.status).toBe(200);
    const secret = /id="new-webhook-secret" type="text" readonly="" value="(whsec_[^"]+)"/.exec(made.html)?.[1];
    expect(secret).toBeTruthy();
    expect(made.html).toContain('data-copy="new-webhook-secret"');
    const listed = (await admin("GET", "/webhooks")).body.items;
    const hook = listed.find((w: any) => w.name === "Billing");
    expect(hook).toMatchObject({
      url: `${RECEIVER}/console-billing`,
      events: ["tenant.status.changed", "tenant.credit.threshold"],
    });
    const audit = await admin("GET", "/audit");
    expect(audit.body.items.map((e: any) => e.action)).toContain("webhook.create");

    const list = await fragment("/webhooks");
    expect(list.html).toContain(`href="#/webhooks/${hook.id}">Billing</a>`);
    expect(list.html).not.toContain(secret!);

    const tested = await fragment(`/webhooks/${hook.id}/test`, { form: [] });
    expect(tested.status).toBe(200);
    expect(tested.html).toContain("Test delivered (HTTP 200).");
    expect(tested.html).toContain("webhook.test");
    expect(tested.html).toContain("s-delivered");
    expect(tested.html).not.toContain(secret!);
    expect(await sandbox.hooks("console-billing")).toHaveLength(1);

    await sandbox.fault({ method: "POST", path: "/__sandbox/hooks/console-billing", status: 500 });
    const failed = await fragment(`/webhooks/${hook.id}/test`, { form: [] });
    expect(failed.html).toContain("The test was not accepted (HTTP 500); it is retried on the usual schedule.");
    await sandbox.clearFaults();

    const gone = await fragment(`/webhooks/${hook.id}/delete`, { form: [] });
    expect(gone.html).toContain("Deleted Billing: nothing more is sent to it.");
    expect((await admin("GET", "/webhooks")).body.items.find((w: any) => w.id === hook.id)).toBeUndefined();
    expect((await fragment(`/webhooks/${hook.id}`)).status).toBe(404);
    expect((await fragment(`/webhooks/${hook.id}/delete`, { form: [] })).status).toBe(404);
  });

  it("refuses what the admin API refuses, registering nothing", async () => {
    const before = (await admin("GET", "/webhooks")).body.items.length;
    for (const [form, message] of [
      [[["url", `${RECEIVER}/x`]], "Events: tick at least one."],
      [
        [
          ["url", `${RECEIVER}/x`],
          ["events", "tenant.deleted"],
        ],
        "Events: unknown event.",
      ],
      [
        [
          ["url", "http://example.com/hook"],
          ["events", "tenant.status.changed"],
        ],
        "url must",
      ],
      [
        [
          ["name", "bad\u0000name"],
          ["url", `${RECEIVER}/x`],
          ["events", "tenant.status.changed"],
        ],
        "Name",
      ],
    ] as Array<[Array<[string, string]>, string]>) {
      const res = await fragment("/webhooks", { form });
      expect(res.status, JSON.stringify(form)).toBe(400);
      expect(res.html).toContain(message);
    }
    expect((await admin("GET", "/webhooks")).body.items.length).toBe(before);
  });
});
