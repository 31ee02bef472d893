/** The fragments the script may fetch (paths under /console/f): app.tsx's GET routes. */
export const PAGES =
  /^\/(overview|tenants|links|usage|webhooks|webhooks\/whk_[0-9a-z]{26}|api-keys|staff|tenants\/tnt_[0-9a-z]{26}(\/events)?)$/;
/** The actions a fragment's form may post to (paths under /console/f): app.tsx's POST routes. */
export const ACTIONS =
  /^\/(links|links\/lnk_[0-9a-z]{26}\/revoke|api-keys|api-keys\/gk_[0-9a-z]{26}\/revoke|staff|staff\/remove|webhooks|webhooks\/whk_[0-9a-z]{26}\/(test|delete)|tenants\/tnt_[0-9a-z]{26}\/(update|plan|status|rotate-key|deactivate|setup-link|phone-numbers|phone-numbers\/[A-Za-z0-9_-]{1,128}\/release|events\/edl_[0-9a-z]{26}\/replay))$/;

/** The files a button may download (paths under /console/f): app.tsx's GET routes that answer text/csv. */
export const DOWNLOADS = /^\/usage\/export$/;

/**
 * The console's only script (run under the page's nonce). It keeps the admin token in this
 * tab's sessionStorage, sends it as a Bearer header when fetching server-rendered fragments
 * from /console/f/..., and swaps them into the page: links change the #route, forms post
 * through fetch. No cookie exists, so no other site can make the browser act as the admin.
 * A link can still be crafted, so nothing in it is trusted: the #route must name one of the
 * fragments above (else the console shows its own "not found", asking nothing), forms post
 * only to the actions above, and only text/html answers from /console/f/ become markup,
 * through a Trusted Types policy that checks where they came from (the page's CSP refuses
 * every other way of turning strings into markup). The console's own messages are text.
 * A download (the month's usage CSV) is fetched the same way, with the Bearer header, and saved
 * from a blob: URL through an <a download> the script makes (no navigation, nothing rendered).
 */
export const CONSOLE_SCRIPT = `(() => {
  "use strict";
  const KEY = "zavu-console-admin-token";
  const FRAGMENTS = "/console/f";
  const PAGES = ${PAGES};
  const ACTIONS = ${ACTIONS};
  const DOWNLOADS = ${DOWNLOADS};
  const view = document.getElementById("view");
  const signin = document.getElementById("signin");
  const signinError = document.getElementById("signin-error");
  const chrome = document.querySelectorAll("[data-signed-in]");
  // Behind Cloudflare Access the person's assertion signs every fragment fetch in: no paste needed.
  const viaAccess = document.getElementById("main").hasAttribute("data-access");
  const roleShown = document.getElementById("role");
  const rules = {
    createHTML(html, url) {
      let from = null;
      try {
        from = new URL(url); // not URL.parse: browsers before 2024 lack it, and every page would fail
      } catch {}
      if (!from || from.origin !== location.origin || !from.pathname.startsWith(FRAGMENTS + "/")) {
        throw new TypeError("Only the console's fragments are rendered.");
      }
      return html;
    },
  };
  const policy = window.trustedTypes ? trustedTypes.createPolicy("console-fragments", rules) : rules;
  const token = () => sessionStorage.getItem(KEY);

  // The fragment the #route names, its query re-serialised (it can never reach the path); null if none.
  function route() {
    if (!location.hash.startsWith("#/")) return "/overview";
    const hash = location.hash.slice(1);
    const at = hash.indexOf("?");
    const path = at < 0 ? hash : hash.slice(0, at);
    if (!PAGES.test(path)) return null;
    const query = at < 0 ? "" : new URLSearchParams(hash.slice(at + 1)).toString();
    return query ? path + "?" + query : path;
  }

  function signedIn(yes, message) {
    signin.hidden = yes;
    view.hidden = !yes;
    for (const el of chrome) el.hidden = !yes;
    signinError.textContent = message || "";
    signinError.hidden = !message;
    if (!yes) document.getElementById("token").focus();
  }

  function show(content) {
    view.replaceChildren(content);
    const titled = view.querySelector("[data-title]");
    document.title = (titled ? titled.dataset.title + " · " : "") + "Zavu gateway console";
    const section = (route() || "").split(/[/?]/)[1];
    for (const a of document.querySelectorAll("nav a")) {
      if (section && a.getAttribute("href") === "#/" + section) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    const focus = view.querySelector("[data-focus]") || view.querySelector("h1");
    if (focus) focus.focus();
  }

  function render(html, url) {
    const template = document.createElement("template");
    template.innerHTML = policy.createHTML(html, url);
    show(template.content);
  }

  // The console's own messages: fixed text, built without markup.
  function problem(title, text) {
    const section = document.createElement("section");
    section.dataset.title = title;
    const heading = document.createElement("h1");
    heading.tabIndex = -1;
    heading.textContent = title;
    const alert = document.createElement("p");
    alert.className = "alert";
    alert.setAttribute("role", "alert");
    alert.tabIndex = -1;
    alert.dataset.focus = "";
    alert.textContent = text;
    section.append(heading, alert);
    show(section);
  }

  // A fragment (or a download) from /console/f, with the token; null when it was not answered.
  async function request(path, init) {
    const secret = token();
    if (!secret && !viaAccess) {
      signedIn(false);
      return null;
    }
    view.setAttribute("aria-busy", "true");
    let res;
    try {
      res = await fetch(FRAGMENTS + path, {
        ...init,
        headers: secret ? { authorization: "Bearer " + secret } : {},
        // Access's cookie too, so a pasted key also works behind Access (the Bearer key decides who acts).
        credentials: "same-origin",
        cache: "no-store",
        redirect: "error", // the gateway never redirects a fragment; a same-origin redirect would keep the token
      });
    } catch {
      view.removeAttribute("aria-busy");
      problem("Problem", "The gateway could not be reached.");
      return null;
    }
    view.removeAttribute("aria-busy");
    if (res.status === 401) {
      if (!secret) {
        signedIn(false, "Cloudflare Access did not sign you in: paste an admin API key or the admin token.");
        return null;
      }
      sessionStorage.removeItem(KEY);
      signedIn(false, "That admin token was not accepted. Sign in again.");
      return null;
    }
    const role = res.headers.get("x-console-role");
    if (role) roleShown.textContent = "Role: " + role;
    if (signin.hidden === false) signedIn(true);
    return res;
  }

  const typeOf = (res) => (res.headers.get("content-type") || "").split(";")[0].trim().toLowerCase();

  async function load(path, init) {
    const res = await request(path, init);
    if (!res) return;
    const type = typeOf(res);
    if (type !== "text/html") {
      return problem("Problem", "The gateway's answer could not be shown (HTTP " + res.status + ").");
    }
    render(await res.text(), res.url);
  }

  function open() {
    const path = route();
    if (path) load(path);
    else problem("Not found", "The console has no page at this address.");
  }

  signin.addEventListener("submit", (event) => {
    event.preventDefault();
    const field = document.getElementById("token");
    sessionStorage.setItem(KEY, field.value.trim());
    field.value = "";
    signedIn(true);
    open();
  });

  document.getElementById("signout").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    view.replaceChildren();
    signedIn(false, "Signed out.");
  });

  window.addEventListener("hashchange", open);

  view.addEventListener("submit", (event) => {
    const form = event.target;
    event.preventDefault();
    const data = new URLSearchParams(new FormData(form, event.submitter));
    if (form.dataset.route) {
      for (const [k, v] of [...data]) if (!v) data.delete(k);
      const query = data.toString();
      const next = "#" + form.dataset.route + (query ? "?" + query : "");
      if (location.hash === next) open();
      else location.hash = next;
      return;
    }
    // A button's formaction would override the form's action: no console form uses one.
    if (event.submitter && event.submitter.hasAttribute("formaction")) {
      return problem("Problem", "This form does not go to the console; it was not sent.");
    }
    // Resolved as the browser would resolve it, so "..", other origins and escapes are seen here.
    const action = new URL(form.getAttribute("action") || "", location.href);
    const path = action.pathname.slice(FRAGMENTS.length);
    if (action.origin !== location.origin || !action.pathname.startsWith(FRAGMENTS + "/") || !ACTIONS.test(path)) {
      return problem("Problem", "This form does not go to the console; it was not sent.");
    }
    load(path, { method: "POST", body: data });
  });

  // Saves a file the gateway made (the month's CSV): its name from Content-Disposition, if a plain one.
  async function download(button) {
    const target = button.dataset.download;
    const at = target.indexOf("?");
    const path = at < 0 ? target : target.slice(0, at);
    if (!DOWNLOADS.test(path)) return problem("Problem", "This button does not download from the console.");
    const query = at < 0 ? "" : new URLSearchParams(target.slice(at + 1)).toString();
    const status = button.dataset.status ? document.getElementById(button.dataset.status) : null;
    if (status) status.textContent = "Preparing the file…";
    const res = await request(query ? path + "?" + query : path);
    if (!res) return;
    const type = typeOf(res);
    if (!res.ok || type !== "text/csv") {
      if (type === "text/html") return render(await res.text(), res.url);
      return problem("Problem", "The file could not be made (HTTP " + res.status + ").");
    }
    const named = /filename="([A-Za-z0-9._-]{1,100})"/.exec(res.headers.get("content-disposition") || "");
    const name = named ? named[1] : "download.csv";
    const url = URL.createObjectURL(await res.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    if (status) status.textContent = "Downloaded " + name + ".";
  }

  view.addEventListener("click", (event) => {
    const saving = event.target.closest("[data-download]");
    if (saving) {
      download(saving);
      return;
    }
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const source = document.getElementById(button.dataset.copy);
    navigator.clipboard.writeText(source.value).then(
      () => { button.textContent = "Copied"; },
      () => { source.select(); button.textContent = "Press Ctrl+C"; },
    );
  });

  if (token() || viaAccess) {
    signedIn(true);
    open();
  } else signedIn(false);
})();`;
