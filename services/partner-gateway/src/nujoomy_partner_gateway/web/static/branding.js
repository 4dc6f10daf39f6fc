// The card preview follows the form as the owner types; nothing leaves the browser until Save.
(function () {
  "use strict";
  const form = document.getElementById("branding-form");
  if (!form) return;
  const cards = [document.getElementById("preview-apple"), document.getElementById("preview-google")];
  const vars = { bg: "--bg", fg: "--fg", lc: "--lc" };
  function apply(input) {
    const role = input.dataset.preview;
    if (vars[role]) cards.forEach((c) => c.style.setProperty(vars[role], input.value));
    if (role === "name" || role === "label") {
      document.querySelectorAll('[data-bind="' + role + '"]').forEach((el) => { el.textContent = input.value; });
    }
    if (role === "logo" && input.files && input.files[0]) {
      const url = URL.createObjectURL(input.files[0]);
      document.querySelectorAll(".previews img.logo").forEach((img) => { img.src = url; img.hidden = false; });
    }
  }
  form.querySelectorAll("[data-preview]").forEach((input) => {
    input.addEventListener("input", () => apply(input));
    input.addEventListener("change", () => apply(input));
  });
  const status = document.getElementById("save-status");
  const sync = document.getElementById("sync");
  async function poll(programId) {
    sync.hidden = false;
    const bar = sync.querySelector("progress"), out = sync.querySelector("output");
    for (let i = 0; i < 120; i++) {
      try {
        const p = await NJ.call("GET", "/bff/sync/" + encodeURIComponent(programId));
        bar.max = Math.max(1, p.total); bar.value = p.pushed;
        out.textContent = NJ.say("pushed_of", { pushed: p.pushed, total: p.total });
        sync.dataset.pushed = p.pushed; sync.dataset.total = p.total;
        if (p.done && p.pushed >= p.total) { sync.dataset.done = "1"; return; }
      } catch (e) { out.textContent = e.message; }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    status.textContent = "…";
    try {
      const logo = form.querySelector('input[name="logo"]').files[0];
      if (logo) {
        const up = await fetch("/bff/program/logo", { method: "POST", body: logo, credentials: "same-origin",
          headers: { "X-CSRF-Token": NJ.csrfToken(), "Content-Type": "application/octet-stream" } });
        if (!up.ok) {  // a refused logo must not read as "saved"
          const problem = await up.json().catch(() => null);
          throw new Error((problem && (problem.detail || problem.title)) || up.statusText);
        }
      }
      const saved = await NJ.call("PATCH", "/bff/program/branding", {
        background_color: f.get("background_color"), foreground_color: f.get("foreground_color"),
        label_color: f.get("label_color"), program_name: f.get("program_name"), balance_label: f.get("balance_label"),
      });
      status.textContent = NJ.say("saved"); status.dataset.state = "saved";
      poll(saved.program_id);
    } catch (e) { status.textContent = e.message; status.dataset.state = "error"; }
  });
})();
