// Shared helpers for page scripts: JSON calls to the BFF with the CSRF header, and retries that
// reuse the same idempotency key so a resend never posts twice.
(function () {
  "use strict";
  // Page data comes from data- attributes: the CSP allows no inline script. The CSRF token is read
  // from its cookie (deliberately not httpOnly) at call time, so a rotated token is picked up.
  const NJ = (window.NJ = window.NJ || {});
  const data = document.body.dataset;
  NJ.lang = data.lang || "en";
  NJ.currency = data.currency || "EUR";
  try { NJ.t = JSON.parse(data.strings || "{}"); } catch (e) { NJ.t = {}; }
  NJ.csrfToken = function () {
    const m = document.cookie.match(/(?:^|;\s*)nj_csrf=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  };
  NJ.say = function (key, values) {
    let text = NJ.t[key] || key;
    for (const k in values || {}) text = text.replace("{" + k + "}", values[k]);
    return text;
  };
  NJ.newKey = function () {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  };
  // Network failures and 5xx are retried with backoff; 4xx answers are final (the request was seen).
  NJ.call = async function (method, url, body, opts) {
    opts = opts || {};
    const attempts = opts.attempts || 4;
    let delay = 400;
    for (let i = 1; ; i++) {
      try {
        const res = await fetch(url, {
          method: method,
          credentials: "same-origin",
          headers: Object.assign({ "Accept": "application/json", "X-CSRF-Token": NJ.csrfToken() },
            body === undefined ? {} : { "Content-Type": "application/json" }),
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const data = res.status === 204 ? null : await res.json().catch(() => null);
        if (res.ok) return data;
        if (res.status < 500 || i >= attempts) {
          const err = new Error((data && (data.detail || data.title)) || res.statusText);
          err.status = res.status; err.problem = data; throw err;
        }
      } catch (e) {
        if (e.status || i >= attempts) throw e;
      }
      if (opts.onRetry) opts.onRetry(i);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 3000);
    }
  };
  // Destructive forms carry data-confirm (the question). The page CSP forbids confirm(), so the
  // question opens the page's <dialog>; on yes the form goes again with _confirmed=1. Without this
  // script the server asks on a page of its own (bff/confirm.py), so one click never destroys.
  const dialog = document.getElementById("confirm-dialog");
  NJ.confirm = function (question) {
    return new Promise((resolve) => {
      dialog.querySelector("#confirm-question").textContent = question;
      dialog.returnValue = "";
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
      dialog.showModal();
    });
  };
  document.addEventListener("submit", (ev) => {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (!dialog || !dialog.showModal || form.querySelector('input[name="_confirmed"]')) return;
    ev.preventDefault();
    ev.stopImmediatePropagation();
    const submitter = ev.submitter;
    NJ.confirm(form.dataset.confirm).then((yes) => {
      if (!yes) return;
      const flag = document.createElement("input");
      flag.type = "hidden"; flag.name = "_confirmed"; flag.value = "1";
      form.appendChild(flag);
      form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
    });
  }, true);
})();
