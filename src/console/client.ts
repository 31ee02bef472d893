/** The fragments the script may fetch (paths under /console/f): app.tsx's GET routes. */
export const PAGES = /^\/(overview|tenants|links|api-keys|staff|tenants\/tnt_[0-9a-z]{26}(\/events)?)$/;
/** The actions a fragment's form may post to (paths under /console/f): app.tsx's POST routes. */
export const ACTIONS =
  /^\/(links|links\/lnk_[0-9a-z]{26}\/revoke|api-keys|api-keys\/gk_[0-9a-z]{26}\/revoke|staff|staff\/remove|tenants\/tnt_[0-9a-z]{26}\/(update|status|rotate-key|deactivate|setup-link|phone-numbers|phone-numbers\/[A-Za-z0-9_-]{1,128}\/release|events\/edl_[0-9a-z]{26}\/replay))$/;

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
 */
export const CONSOLE_SCRIPT = `(() => {
  "use strict";
  const KEY = "zavu-console-admin-token";
  const FRAGMENTS = "/console/f";
  const PAGES = ${PAGES};
  const ACTIONS = ${ACTIONS};
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

  async function load(path, init) {
    const secret = token();
    if (!secret && !viaAccess) return signedIn(false);
    view.setAttribute("aria-busy", "true");
    let res;
    try {
      res = await fetch(FRAGMENTS + path, {
        ...init,
        headers: secret ? { authorization: "Bearer " + secret } : {},
        credentials: secret ? "omit" : "same-origin", // Access's cookie, only when no key is pasted
        cache: "no-store",
        redirect: "error", // the gateway never redirects a fragment; a same-origin redirect would keep the token
      });
    } catch {
      view.removeAttribute("aria-busy");
      return problem("Problem", "The gateway could not be reached.");
    }
    view.removeAttribute("aria-busy");
    if (res.status === 401) {
      if (!secret) return signedIn(false, "Cloudflare Access did not sign you in: paste an admin API key or the admin token.");
      sessionStorage.removeItem(KEY);
      return signedIn(false, "That admin token was not accepted. Sign in again.");
    }
    const role = res.headers.get("x-console-role");
    if (role) roleShown.textContent = "Role: " + role;
    if (signin.hidden === false) signedIn(true);
    const type = (res.headers.get("content-type") || "").split(";")[0].trim().toLowerCase();
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

  view.addEventListener("click", (event) => {
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
