// The counter scanner. A keyboard-wedge scanner types the code and Enter, which submits the lookup
// form, so wedge, manual entry and camera share one path. Each action gets one idempotency key,
// reused by every retry of that action, so a flaky connection never posts twice.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const feedback = $("feedback"), code = $("card-code");
  let card = null, amount = "0", last = null, undoTimer = null, busy = false;

  function say(kind, text) { feedback.className = "feedback " + kind; feedback.textContent = text; }
  function showAmount() { $("amount").textContent = amount; }
  function showCard(c) {
    card = c;
    $("member").hidden = false;
    $("member-name").textContent = c.name || c.member_id;
    $("balance-label").textContent = c.balance_label || NJ.say("balance");
    $("balance").textContent = c.available != null ? c.available : c.balance;
    const list = $("rewards"); list.innerHTML = "";
    (c.affordable_rewards || []).forEach((r) => {
      const li = document.createElement("li"), b = document.createElement("button");
      b.type = "button"; b.className = "reward"; b.textContent = r.name + " · " + r.cost;
      b.addEventListener("click", () => act("redeem", { reward_id: r.id }));
      li.appendChild(b); list.appendChild(li);
    });
  }
  async function lookup(token) {
    token = (token || "").trim();
    if (!token) return;
    say("wait", "…");
    try {
      const c = await NJ.call("GET", "/bff/scan/cards/" + encodeURIComponent(token));
      c.card_token = token; showCard(c); say("ok", c.name || "✓");
      amount = "0"; showAmount();
    } catch (e) { card = null; $("member").hidden = true; say("bad", NJ.say("failed") + ": " + e.message); }
    code.value = ""; code.focus();
  }
  async function act(kind, extra) {
    if (!card || busy) return;
    busy = true;
    const key = NJ.newKey(); // one key per action, reused by its retries
    const body = Object.assign({ card_token: card.card_token, idempotency_key: key }, extra);
    const url = kind === "undo" ? "/bff/scan/undo" : "/bff/scan/" + kind;
    if (kind === "undo") { delete body.card_token; }
    try {
      const res = await NJ.call("POST", url, body, { onRetry: () => say("wait", NJ.say("retrying")) });
      const points = Math.abs(res.transaction.points);
      $("balance").textContent = res.balance.available != null ? res.balance.available : res.balance.balance;
      if (kind === "undo") {
        say("ok", NJ.say("undone")); last = null; $("undo-btn").hidden = true;
      } else {
        say("ok", NJ.say(kind === "earn" ? "earned" : "redeemed", { points: points }));
        last = res.transaction.id; armUndo();
      }
      amount = "0"; showAmount();
      refreshRewards();
    } catch (e) { say("bad", NJ.say("failed") + ": " + e.message); }
    finally { busy = false; }
  }
  async function refreshRewards() {
    try { const c = await NJ.call("GET", "/bff/scan/cards/" + encodeURIComponent(card.card_token)); c.card_token = card.card_token; showCard(c); } catch (e) { /* the balance shown is already right */ }
  }
  function armUndo() {
    const btn = $("undo-btn"); btn.hidden = false;
    clearTimeout(undoTimer);
    undoTimer = setTimeout(() => { btn.hidden = true; last = null; }, 60000);
  }
  $("lookup").addEventListener("submit", (ev) => { ev.preventDefault(); lookup(code.value); });
  $("keypad").addEventListener("click", (ev) => {
    const k = ev.target.dataset && ev.target.dataset.key;
    if (!k) return;
    if (k === "⌫") amount = amount.length > 1 ? amount.slice(0, -1) : "0";
    else if (k === "." ) { if (!amount.includes(".")) amount += "."; }
    else if (/\.\d\d$/.test(amount)) return;
    else amount = amount === "0" ? k : amount + k;
    showAmount();
  });
  $("earn-btn").addEventListener("click", () => {
    if (!(parseFloat(amount) > 0)) { say("bad", NJ.say("failed")); return; }
    act("earn", { amount: { value: amount, currency: NJ.currency } });
  });
  $("undo-btn").addEventListener("click", () => { if (last) act("undo", { transaction_id: last }); });
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
