// The card preview follows the form as the owner types; nothing leaves the browser until Save.
(function () {
  "use strict";
  const form = document.getElementById("branding-form");
  if (!form) return;
  const cards = [document.getElementById("preview-apple"), document.getElementById("preview-google")];
  const logos = Array.from(document.querySelectorAll(".previews img.logo"));
  const saved = logos.map((img) => ({ src: img.getAttribute("src"), hidden: img.hidden }));
  const vars = { bg: "--bg", fg: "--fg", lc: "--lc" };
  const status = document.getElementById("save-status");
  const sync = document.getElementById("sync");
  const logoInput = form.querySelector('input[name="logo"]');
  const IMAGE_TYPES = ["image/png", "image/jpeg"];

  function say(text, state) {
    status.textContent = text;
    if (state) status.dataset.state = state; else delete status.dataset.state;
  }
  // A refusal is shown in the reader's language from its problem code, never as raw JSON.
  function problemText(problem, fallback) {
    const code = problem && problem.code;
    return (code && NJ.t["problem_" + code]) || fallback || NJ.say("failed");
  }
  function restoreLogos() {
    logos.forEach((img, i) => {
      if (saved[i].src) img.setAttribute("src", saved[i].src); else img.removeAttribute("src");
      img.hidden = saved[i].hidden;
    });
  }
  function previewLogo(file) {
    if (!IMAGE_TYPES.includes(file.type)) {
      restoreLogos();
      say(NJ.say("logo_not_image"), "error");
      return;
    }
    const url = URL.createObjectURL(file);
    logos.forEach((img) => { img.src = url; img.hidden = false; });
    if (status.dataset.state === "error") say("");
  }
  // A file that claims to be an image but does not decode shows no broken picture either.
  logos.forEach((img) => img.addEventListener("error", () => {
    if (!img.src.startsWith("blob:")) return;
    restoreLogos();
    say(NJ.say("logo_not_image"), "error");
  }));

  function apply(input) {
    const role = input.dataset.preview;
    if (vars[role]) cards.forEach((c) => c.style.setProperty(vars[role], input.value));
    if (role === "name" || role === "label") {
      document.querySelectorAll('[data-bind="' + role + '"]').forEach((el) => { el.textContent = input.value; });
    }
    if (role === "logo" && input.files && input.files[0]) previewLogo(input.files[0]);
  }
  form.querySelectorAll("[data-preview]").forEach((input) => {
    input.addEventListener("input", () => apply(input));
    input.addEventListener("change", () => apply(input));
  });

  // Shown only once a save has started the re-sync; with no card installed there is nothing to push.
  async function poll(programId) {
    sync.hidden = false;
    const bar = sync.querySelector("progress"), out = sync.querySelector("output");
    for (let i = 0; i < 120; i++) {
      try {
        const p = await NJ.call("GET", "/bff/sync/" + encodeURIComponent(programId));
        sync.dataset.pushed = p.pushed; sync.dataset.total = p.total;
        if (p.total === 0) {
          bar.hidden = true;
          out.textContent = NJ.say("no_cards_yet");
        } else {
          bar.hidden = false;
          bar.max = p.total; bar.value = p.pushed;
          out.textContent = NJ.say("pushed_of", { pushed: p.pushed, total: p.total });
        }
        if (p.done && p.pushed >= p.total) { sync.dataset.done = "1"; return; }
      } catch (e) { out.textContent = problemText(e.problem, e.message); }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    // Test mode shares the live program (docs/decisions.md): say so and ask before changing it.
    const live = NJ.t.confirm_live_change;
    if (live && !(await NJ.confirm(live))) return;
    const f = new FormData(form);
    say("…");
    try {
      const logo = logoInput.files[0];
      if (logo) {
        if (!IMAGE_TYPES.includes(logo.type)) throw Object.assign(new Error(NJ.say("logo_not_image")), {});
        const up = await fetch("/bff/program/logo", { method: "POST", body: logo, credentials: "same-origin",
          headers: { "X-CSRF-Token": NJ.csrfToken(), "Content-Type": "application/octet-stream",
            "Nujoomy-Confirmed": live ? "1" : "0" } });
        if (!up.ok) {  // a refused logo must not read as "saved"
          const problem = await up.json().catch(() => null);
          restoreLogos();
          throw new Error(problemText(problem));
        }
      }
      const result = await NJ.call("PATCH", "/bff/program/branding", {
        background_color: f.get("background_color"), foreground_color: f.get("foreground_color"),
        label_color: f.get("label_color"), program_name: f.get("program_name"), balance_label: f.get("balance_label"),
        confirmed: Boolean(live),
      });
      say(NJ.say("saved"), "saved");
      poll(result.program_id);
    } catch (e) { say(e.problem ? problemText(e.problem, e.message) : e.message, "error"); }
  });
})();
