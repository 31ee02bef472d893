/**
 * The console's only script (run under the page's nonce). It keeps the admin token in this
 * tab's sessionStorage, sends it as a Bearer header when fetching server-rendered fragments
 * from /console/f/..., and swaps them into the page: links change the #route, forms post
 * through fetch. No cookie exists, so no other site can make the browser act as the admin.
 * The fragments are HTML from this same origin, put in through a Trusted Types policy: the
 * page's CSP refuses every other way of turning strings into markup.
 */
export const CONSOLE_SCRIPT = `(() => {
  "use strict";
  const KEY = "zavu-console-admin-token";
  const view = document.getElementById("view");
  const signin = document.getElementById("signin");
  const signinError = document.getElementById("signin-error");
  const chrome = document.querySelectorAll("[data-signed-in]");
  const policy = window.trustedTypes
    ? trustedTypes.createPolicy("console-fragments", { createHTML: (html) => html })
    : { createHTML: (html) => html };
  const token = () => sessionStorage.getItem(KEY);
  const route = () => (location.hash.startsWith("#/") ? location.hash.slice(1) : "/overview");

  function signedIn(yes, message) {
    signin.hidden = yes;
    view.hidden = !yes;
    for (const el of chrome) el.hidden = !yes;
    signinError.textContent = message || "";
    signinError.hidden = !message;
    if (!yes) document.getElementById("token").focus();
  }

  function render(html) {
    const template = document.createElement("template");
    template.innerHTML = policy.createHTML(html);
    view.replaceChildren(template.content);
    const titled = view.querySelector("[data-title]");
    document.title = (titled ? titled.dataset.title + " · " : "") + "Zavu gateway console";
    const section = "/" + route().split(/[/?]/)[1];
    for (const a of document.querySelectorAll("nav a")) {
      if (a.getAttribute("href") === "#" + section) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    const focus = view.querySelector("[data-focus]") || view.querySelector("h1");
    if (focus) focus.focus();
  }

  async function load(path, init) {
    const secret = token();
    if (!secret) return signedIn(false);
    view.setAttribute("aria-busy", "true");
    let res;
    try {
      res = await fetch("/console/f" + path, {
        ...init,
        headers: { authorization: "Bearer " + secret },
        credentials: "omit",
        cache: "no-store",
      });
    } catch {
      view.removeAttribute("aria-busy");
      return render('<p class="alert" role="alert" data-focus tabindex="-1">The gateway could not be reached.</p>');
    }
    view.removeAttribute("aria-busy");
    if (res.status === 401) {
      sessionStorage.removeItem(KEY);
      return signedIn(false, "That admin token was not accepted. Sign in again.");
    }
    render(await res.text());
  }

  signin.addEventListener("submit", (event) => {
    event.preventDefault();
    const field = document.getElementById("token");
    sessionStorage.setItem(KEY, field.value.trim());
    field.value = "";
    signedIn(true);
    load(route());
  });

  document.getElementById("signout").addEventListener("click", () => {
    sessionStorage.removeItem(KEY);
    view.replaceChildren();
    signedIn(false, "Signed out.");
  });

  window.addEventListener("hashchange", () => load(route()));

  view.addEventListener("submit", (event) => {
    const form = event.target;
    event.preventDefault();
    const data = new URLSearchParams(new FormData(form, event.submitter));
    if (form.dataset.route) {
      for (const [k, v] of [...data]) if (!v) data.delete(k);
      const query = data.toString();
      const next = "#" + form.dataset.route + (query ? "?" + query : "");
      if (location.hash === next) load(route());
      else location.hash = next;
      return;
    }
    load(form.getAttribute("action").replace(/^\\/console\\/f/, ""), { method: "POST", body: data });
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

  if (token()) {
    signedIn(true);
    load(route());
  } else signedIn(false);
})();`;
