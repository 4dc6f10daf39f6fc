// The counter scanner. A keyboard-wedge scanner types the code and Enter, which submits the lookup
// form, so wedge, manual entry and camera share one path. Each action gets one idempotency key,
// reused by every retry of that action, so a flaky connection never posts twice.
//
// The code field keeps the focus: buttons do not take it when pressed, every action and every error
// gives it back, and keys typed while anything else has it are sent to it. So the next customer's
// scan always starts a lookup, and its Enter never presses a button.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const feedback = $("feedback"), code = $("card-code"), approval = $("approval");
  const page = document.body.dataset;
  let card = null, amount = "0", last = null, undoTimer = null, busy = false, refused = null;

  function say(kind, text) { feedback.className = "feedback " + kind; feedback.textContent = text; }
  function ready() { code.focus(); }
  function stamps() { return (card ? card.program_type : page.programType) === "stamps"; }
  function unit() { return (card && card.balance_label) || page.unit || NJ.say("balance"); }
  function showAmount() {
    $("amount").textContent = amount;
    $("amount-unit").textContent = stamps() ? unit() : ((card && card.currency) || NJ.currency);
    $("keypad").querySelector("[data-key='.']").hidden = stamps();
  }
  function problem(e) {
    const p = e.problem || {};
    if (!e.status || e.status === 503) return NJ.say("unavailable");
    if (e.status === 404) return NJ.say("no_such_card");
    if (p.code === "card_code_ambiguous") return NJ.say("code_ambiguous");
    if (p.code === "manager_approval_required") return NJ.say("approval_needed", { maximum: p.maximum, unit: unit() });
    if (p.code === "approval_refused") return NJ.say("approval_refused");
    if (p.code === "approval_invalid") return NJ.say("approval_not_manager");
    return NJ.say("failed") + ": " + e.message;
  }
  function closeApproval() { approval.hidden = true; refused = null; $("approver-password").value = ""; }
  function showCard(c) {
    card = c;
    $("member").hidden = false; $("pad").hidden = false;
    $("offers").hidden = !(c.affordable_rewards || []).length;
    $("member-name").textContent = c.name || c.member_id;
    $("balance-label").textContent = unit();
    $("balance").textContent = c.available != null ? c.available : c.balance;
    const list = $("rewards"); list.innerHTML = "";
    (c.affordable_rewards || []).forEach((r) => {
      const li = document.createElement("li"), b = document.createElement("button");
      b.type = "button"; b.className = "reward"; b.tabIndex = -1; b.textContent = r.name + " · " + r.cost;
      b.addEventListener("click", () => act("redeem", { reward_id: r.id }));
      li.appendChild(b); list.appendChild(li);
    });
  }
  async function lookup(token) {
    token = (token || "").replace(/\s+/g, ""); // people type the printed code in groups
    if (!token) return;
    say("wait", "…");
    closeApproval();
    try {
      const c = await NJ.call("GET", "/bff/scan/cards/" + encodeURIComponent(token));
      c.card_token = c.card_token || token; showCard(c); say("ok", c.name || "✓");
      amount = "0"; showAmount();
      code.value = "";
    } catch (e) {
      // The refused code stays, selected, so it can be corrected or replaced by the next scan.
      card = null; ["member", "pad", "offers"].forEach((id) => { $(id).hidden = true; });
      closeApproval(); say("bad", problem(e));
      code.select();
    }
    ready();
  }
  async function act(kind, extra, key) {
    if (!card || busy) { ready(); return; }
    busy = true;
    key = key || NJ.newKey(); // one key per action, reused by its retries (and by its approval)
    const body = Object.assign({ card_token: card.card_token, idempotency_key: key }, extra);
    const url = kind === "undo" ? "/bff/scan/undo" : "/bff/scan/" + kind;
    if (kind === "undo") { delete body.card_token; }
    try {
      const res = await NJ.call("POST", url, body, { onRetry: () => say("wait", NJ.say("retrying")) });
      const points = Math.abs(res.transaction.points);
      $("balance").textContent = res.balance.available != null ? res.balance.available : res.balance.balance;
      closeApproval();
      if (kind === "undo") {
        say("ok", NJ.say("undone")); last = null; $("undo-btn").hidden = true;
      } else {
        let text = NJ.say(kind === "earn" ? "earned" : "redeemed", { points: points, unit: unit() });
        if (res.transaction.approved_by) text += " · " + NJ.say("approved_by_manager");
        say("ok", text);
        last = res.transaction.id; armUndo();
      }
      amount = "0"; showAmount();
      refreshRewards();
    } catch (e) {
      say("bad", problem(e));
      if (e.problem && e.problem.code === "manager_approval_required") {
        refused = { extra: extra, key: key }; approval.hidden = false;
      }
    } finally { busy = false; ready(); }
  }
  async function refreshRewards() {
    try { const c = await NJ.call("GET", "/bff/scan/cards/" + encodeURIComponent(card.card_token)); showCard(c); } catch (e) { /* the balance shown is already right */ }
  }
  function armUndo() {
    const btn = $("undo-btn"); btn.hidden = false;
    clearTimeout(undoTimer);
    undoTimer = setTimeout(() => { btn.hidden = true; last = null; }, 60000);
  }
  $("lookup").addEventListener("submit", (ev) => { ev.preventDefault(); lookup(code.value); });
  // Pressing a button must not move the focus off the code field (the wedge types into it).
  document.querySelectorAll("#pad, #member, #offers").forEach((el) => el.addEventListener("mousedown", (ev) => {
    if (ev.target.closest("button")) ev.preventDefault();
  }));
  // Keys typed while something else has the focus belong to the code field; an Enter there is the end
  // of a scan, never a press of the focused button.
  document.addEventListener("keydown", (ev) => {
    const t = ev.target;
    if (t === code || (t.closest && t.closest("#approval")) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === "Enter") { ev.preventDefault(); ready(); if (code.value.trim()) lookup(code.value); return; }
    if (ev.key.length === 1) { ev.preventDefault(); ready(); code.value += ev.key; }
  }, true);
  $("keypad").addEventListener("click", (ev) => {
    const k = ev.target.dataset && ev.target.dataset.key;
    if (!k) return;
    if (k === "⌫") amount = amount.length > 1 ? amount.slice(0, -1) : "0";
    else if (k === ".") { if (!stamps() && !amount.includes(".")) amount += "."; }
    else if (/\.\d\d$/.test(amount) || amount.replace(".", "").length >= 7) return;
    else amount = amount === "0" ? k : amount + k;
    showAmount(); ready();
  });
  function earnBody() {
    if (!(parseFloat(amount) > 0)) return null;
    if (stamps()) return { points: parseInt(amount, 10) };
    return { amount: { value: amount.replace(/\.$/, ""), currency: card.currency || NJ.currency } };
  }
  $("earn-btn").addEventListener("click", () => {
    const extra = earnBody();
    if (!extra) { say("bad", NJ.say("enter_amount")); ready(); return; }
    act("earn", extra);
  });
  approval.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (!refused) return;
    const manager = { email: $("approver-email").value, password: $("approver-password").value };
    act("earn", Object.assign({}, refused.extra, { approval: manager }), refused.key);
  });
  $("undo-btn").addEventListener("click", () => { if (last) act("undo", { transaction_id: last }); else ready(); });
  // A wedge that fires before this script loads submits the form natively (GET ?code=…): honour it.
  const early = new URLSearchParams(location.search).get("code");
  if (early) { history.replaceState(null, "", location.pathname); lookup(early); }
  document.body.dataset.scannerReady = "1";

  // Camera: BarcodeDetector where the browser has it, otherwise the vendored jsQR on canvas frames.
  $("camera-btn").addEventListener("click", async () => {
    const video = $("camera");
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.srcObject = stream; video.hidden = false; await video.play();
    } catch (e) { say("bad", e.message); return; }
    const detector = "BarcodeDetector" in window ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    video.dataset.decoder = detector ? "BarcodeDetector" : "jsQR";
    const canvas = document.createElement("canvas"), ctx = canvas.getContext("2d", { willReadFrequently: true });
    let seen = "";
    async function frame() {
      if (video.hidden) return;
      let text = null;
      if (video.videoWidth) {
        if (detector) {
          const found = await detector.detect(video).catch(() => []);
          if (found.length) text = found[0].rawValue;
        } else if (window.jsQR) {
          canvas.width = video.videoWidth; canvas.height = video.videoHeight;
          ctx.drawImage(video, 0, 0);
          const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
          const hit = window.jsQR(img.data, img.width, img.height, { inversionAttempts: "dontInvert" });
          if (hit) text = hit.data;
        }
      }
      if (text && text !== seen) { seen = text; lookup(text); }
      setTimeout(frame, 200);
    }
    frame();
  });
})();
