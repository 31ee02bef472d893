// The console's charts and daily-work screens in a real browser, from known usage written to D1: the
// numbers in the accessible tables match what was written, the SVG bars' rendered heights are in
// proportion to them, the usage CSV downloads with the admin API's content, and the webhooks screen
// registers, tests and deletes an endpoint. No CSP or Trusted Types violation anywhere.
import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_TOKEN, admin, type Cluster, startCluster } from "../harness/cluster";
import { NodeIdp } from "../harness/idp";
import { type Browser, expectUsable, launch, shot } from "./browser";

let cluster: Cluster;
let browser: Browser;
let gateway: string;
let page: Page;

const DAY = 86_400_000;
const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);
const today = day(0);
const month = today.slice(0, 7);
/** Days of this month before today we can write to (none on the 1st). */
const earlierThisMonth = Number(today.slice(8)) >= 3 ? day(-2) : null;

const tenants: Record<string, { id: string; name: string }> = {};

async function newTenant(name: string, creditLimit?: number) {
  const idp = await NodeIdp.create(`https://idp.test/charts-${crypto.randomUUID()}`);
  const res = await admin(gateway, "POST", "/tenants", {
    body: { name, identity: { issuer: idp.issuer, jwks: idp.jwks() }, ...(creditLimit ? { creditLimit } : {}) },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.tenant as { id: string; name: string };
}

/** Usage rows straight into D1, as the usage shards would have written them. */
async function usage(
  tenantId: string,
  date: string,
  channel: string,
  sends: number,
  cost: number,
  delivered = 0,
  failed = 0,
) {
  const db = await cluster.mf.getD1Database("DB", "gateway-0");
  await db
    .prepare(
      `INSERT INTO usage_daily (tenant_id, date, channel, sends, cost_cents, estimated_cents, delivered, failed, updated_at)
       VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)`,
    )
    .bind(tenantId, date, channel, sends, cost, delivered, failed, Date.now())
    .run();
}

beforeAll(async () => {
  cluster = await startCluster({ isolates: 1 });
  gateway = cluster.gateways[0]!;
  browser = await launch();
  tenants.acme = await newTenant("Acme Robotics", 5000);
  tenants.beta = await newTenant("Beta Foods");
  const { acme, beta } = tenants as Record<string, { id: string }>;
  await usage(acme!.id, today, "sms", 40, 800, 36, 4);
  await usage(acme!.id, today, "whatsapp", 10, 50, 10, 0);
  await usage(acme!.id, day(-5), "sms", 20, 400, 20, 0);
  await usage(acme!.id, day(-12), "sms", 5, 100, 4, 1);
  await usage(beta!.id, today, "sms", 8, 1600);
  if (earlierThisMonth) await usage(beta!.id, earlierThisMonth, "sms", 30, 600);
  page = await browser.page();
  await page.goto(`${gateway}/console`);
  await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Overview" }).waitFor();
});
afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

/** A table's body rows (by the table's id), as the text of their cells. */
async function tableRows(id: string): Promise<string[][]> {
  return page.evaluate(`[...document.querySelectorAll("#${id} tbody tr")].map((tr) =>
    [...tr.querySelectorAll("th, td")].map((c) => c.textContent.trim()))`);
}

/** A chart's bars (by its figure's id) as the browser lays them out: value and rendered height in CSS pixels. */
async function renderedBars(id: string): Promise<Array<{ label: string; value: number; height: number }>> {
  return page.evaluate(`[...document.querySelectorAll("#${id} rect.bar")].map((r) => ({
    label: r.dataset.label, value: Number(r.dataset.value), height: r.getBoundingClientRect().height }))`);
}

/** Every bar's height is the same multiple of its value (zero bars are flat). */
function expectProportional(bars: Array<{ value: number; height: number }>) {
  const drawn = bars.filter((b) => b.value > 0);
  expect(drawn.length).toBeGreaterThan(0);
  const k = drawn[0]!.height / drawn[0]!.value;
  expect(k).toBeGreaterThan(0);
  for (const b of drawn) expect(b.height).toBeCloseTo(b.value * k, 0);
  for (const b of bars.filter((b) => b.value === 0)) expect(b.height).toBeLessThan(0.5);
}

describe("browser: charts from known usage", () => {
  it("the tenant page charts 30 days of sends and cost, spend against the limit and the success rate", async () => {
    await page.evaluate(`location.hash = "#/tenants/${tenants.acme!.id}"`);
    await page.getByRole("heading", { name: /Acme Robotics/ }).waitFor();
    await page.locator("#tenant-daily-sends svg").waitFor();

    const rows = await tableRows("tenant-daily-table");
    expect(rows).toHaveLength(30);
    const byDate = new Map(rows.map((r) => [r[0], r.slice(1)]));
    expect(byDate.get(today)).toEqual(["50", "$8.50", "46", "4"]);
    expect(byDate.get(day(-5))).toEqual(["20", "$4.00", "20", "0"]);
    expect(byDate.get(day(-12))).toEqual(["5", "$1.00", "4", "1"]);
    expect(byDate.get(day(-1))).toEqual(["0", "$0.00", "0", "0"]);

    const bars = await renderedBars("tenant-daily-sends");
    expect(bars).toHaveLength(30);
    expect(bars.at(-1)).toMatchObject({ label: today.slice(5), value: 50 });
    expect(bars.map((b) => b.value)).toEqual(rows.map((r) => Number(r[1])));
    expectProportional(bars);
    expect(await page.locator("#tenant-daily-sends svg").getAttribute("aria-label")).toBe(
      `Sends a day from ${day(-29)} to ${today}: 75 in all, most on ${today} (50).`,
    );
    // The cost line: one dot a day, its value the day's cost.
    const dots: number[] = await page.evaluate(
      `[...document.querySelectorAll("#tenant-daily-cost circle.dot")].map((c) => Number(c.dataset.value))`,
    );
    expect(dots).toEqual(rows.map((r) => Math.round(Number(r[2]!.replace("$", "")) * 100)));

    // 70 of 75 outcomes delivered; the records by day and channel below.
    await expect
      .poll(() => page.locator("[data-rate]").textContent())
      .toBe("93.3% delivered (70 delivered, 5 failed) in the last 30 days");
    const records = await tableRows("usage-table");
    expect(records.map((r) => r.slice(0, 4))).toEqual([
      [today, "sms", "40", "$8.00"],
      [today, "whatsapp", "10", "$0.50"],
      [day(-5), "sms", "20", "$4.00"],
      [day(-12), "sms", "5", "$1.00"],
    ]);
    // Spend against the limit: the sandbox's totalSpent for this tenant (nothing sent through Zavu) of $50.
    const gauge = page.locator("#spend-gauge svg");
    expect(await gauge.getAttribute("aria-label")).toMatch(/^Spend against the credit limit: \$[\d.,]+ of \$50\.00/);
    await page.locator("details.numbers summary").first().click();
    await expectUsable(page);
    await shot(page, "console-tenant-usage");
    expect(browser.problems).toEqual([]);
  });

  it("the overview charts the team's month and ranks the tenants by spend", async () => {
    await page.getByRole("link", { name: "Overview" }).click();
    await page.locator("#team-daily-sends svg").waitFor();
    const rows = await tableRows("team-daily-table");
    expect(rows).toHaveLength(Number(today.slice(8)));
    expect(rows.at(-1)).toEqual([today, "58", "$24.50", "46", "4"]);
    if (earlierThisMonth)
      expect(rows.find((r) => r[0] === earlierThisMonth)).toEqual([earlierThisMonth, "30", "$6.00", "0", "0"]);
    const bars = await renderedBars("team-daily-sends");
    expect(bars.map((b) => b.value)).toEqual(rows.map((r) => Number(r[1])));
    expectProportional(bars);

    const top = await tableRows("top-tenants-table");
    const betaCost = earlierThisMonth ? "$22.00" : "$16.00";
    const acmeCost = earlierThisMonth && day(-5).slice(0, 7) === month ? "$12.50" : null;
    expect(top[0]).toEqual(["Beta Foods", betaCost, earlierThisMonth ? "38" : "8"]);
    expect(top[1]![0]).toBe("Acme Robotics");
    if (acmeCost) expect(top[1]![1]).toBe(acmeCost);
    const rank = await page.evaluate<Array<{ value: number; width: number }>>(
      `[...document.querySelectorAll("#top-tenants rect.bar")].map((r) => ({ value: Number(r.dataset.value), width: r.getBoundingClientRect().width }))`,
    );
    expect(rank[0]!.value).toBeGreaterThan(rank[1]!.value);
    expect(rank[1]!.width / rank[0]!.width).toBeCloseTo(rank[1]!.value / rank[0]!.value, 2);
    await expectUsable(page);
    await shot(page, "console-overview-charts");
    expect(browser.problems).toEqual([]);
  });

  it("the usage screen shows the month by tenant and downloads its CSV, the admin API's content", async () => {
    await page.getByRole("link", { name: "Usage", exact: true }).click();
    await page.getByRole("heading", { name: /^Usage, / }).waitFor();
    await page.getByLabel("Month").fill(month);
    await page.getByRole("button", { name: "Show" }).click();
    await page.locator("#month-table").waitFor();
    const rows = await tableRows("month-table");
    expect(rows.map((r) => r[0])).toEqual(["Beta Foods", "Acme Robotics"]);

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: `Download CSV (${month})` }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`usage-${month}.csv`);
    const bytes = readFileSync((await download.path())!);
    const api = await fetch(`${gateway}/admin/v1/usage?month=${month}&format=csv`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    // Byte for byte, the byte-order mark included (spreadsheets read it to know the file is UTF-8).
    expect(bytes.equals(Buffer.from(await api.arrayBuffer()))).toBe(true);
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const saved = bytes.toString("utf8");
    expect(saved).toContain(`${tenants.acme!.id},Acme Robotics,,${month},whatsapp,10,0,,50,0.50,false,10,0`);
    await expect
      .poll(() => page.locator("#download-status").textContent(), { timeout: 10_000 })
      .toBe(`Downloaded usage-${month}.csv.`);
    await expectUsable(page);
    await shot(page, "console-usage");
    expect(browser.problems).toEqual([]);
  });

  it("the plan form and the webhooks screen work from the browser", async () => {
    await page.evaluate(`location.hash = "#/tenants/${tenants.beta!.id}"`);
    await page.getByRole("heading", { name: /Beta Foods/ }).waitFor();
    await page.getByLabel("Requests per second").selectOption("20");
    await page.getByLabel("Sends per UTC day (empty for unlimited)").fill("5000");
    await page.getByRole("button", { name: "Save plan" }).click();
    await page.getByText("Plan saved").waitFor();
    const plan = (await admin(gateway, "GET", `/tenants/${tenants.beta!.id}`)).body.tenant.plan;
    expect(plan).toMatchObject({ requestsPerSecond: 20, dailySends: 5000 });

    await page.getByRole("link", { name: "Webhooks" }).click();
    await page.getByRole("heading", { name: "Webhooks" }).waitFor();
    await page.getByLabel("Name (optional)").fill("Billing");
    await page.getByLabel("URL (public https)").fill("https://zavu.sandbox/__sandbox/hooks/browser-billing");
    await page.getByRole("button", { name: "Register webhook" }).click();
    const secret = page.locator("#new-webhook-secret");
    await secret.waitFor();
    expect(await secret.inputValue()).toMatch(/^whsec_/);
    await expectUsable(page);
    await shot(page, "console-webhooks");
    await page.getByRole("button", { name: "Send a test to Billing" }).click();
    await page.getByText(/Test delivered \(HTTP 200\)\.|The test was not accepted/).waitFor();
    await page.getByRole("cell", { name: /webhook\.test/ }).waitFor();
    await shot(page, "console-webhook-deliveries");
    await page.getByRole("button", { name: "Delete Billing" }).click();
    await page.getByText("Deleted Billing: nothing more is sent to it.").waitFor();
    expect((await admin(gateway, "GET", "/webhooks")).body.items).toEqual([]);
    expect(browser.problems).toEqual([]);
  });
});
