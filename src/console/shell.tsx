import { Document } from "../ui/document";
import { CONSOLE_SCRIPT } from "./client";

/** The console's one page: navigation, the sign-in form, and the region fragments are swapped into. */
export function ConsoleShell(props: { nonce: string; access?: boolean }) {
  return (
    <Document
      title="Zavu gateway console"
      nonce={props.nonce}
      script={CONSOLE_SCRIPT}
      header={
        <header class="bar">
          <div class="in">
            <span class="brand">Zavu gateway console</span>
            <nav aria-label="Console" data-signed-in hidden>
              <ul>
                <li>
                  <a href="#/overview">Overview</a>
                </li>
                <li>
                  <a href="#/tenants">Tenants</a>
                </li>
                <li>
                  <a href="#/links">Onboarding links</a>
                </li>
                <li>
                  <a href="#/usage">Usage</a>
                </li>
                <li>
                  <a href="#/webhooks">Webhooks</a>
                </li>
                <li>
                  <a href="#/api-keys">API keys</a>
                </li>
                <li>
                  <a href="#/staff">Staff</a>
                </li>
              </ul>
            </nav>
            <span id="role" class="muted" data-signed-in hidden></span>
            <button type="button" class="link" id="signout" data-signed-in hidden>
              Sign out
            </button>
          </div>
        </header>
      }
    >
      <main id="main" tabindex={-1} data-access={props.access ? "" : undefined}>
        <noscript>
          <p class="alert">The console needs JavaScript: it sends your admin token with each request itself.</p>
        </noscript>
        <form id="signin" class="card" hidden>
          <h1>Sign in</h1>
          <p class="muted">
            Paste an admin API key (zgk_…) or the gateway's admin token. It stays in this tab only (session storage) and
            is sent as a Bearer header; closing the tab forgets it. Behind Cloudflare Access no paste is needed.
          </p>
          <p id="signin-error" class="alert" role="alert" hidden></p>
          <label for="token">Admin token</label>
          <input id="token" name="token" type="password" autocomplete="off" required spellcheck={false} />
          <div class="actions">
            <button type="submit">Sign in</button>
          </div>
        </form>
        <div id="view" hidden></div>
      </main>
    </Document>
  );
}
