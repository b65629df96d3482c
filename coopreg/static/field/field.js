// coopreg field mode: members of some localities kept on the phone (encrypted with a
// non-extractable AES-GCM key), records kept in IndexedDB until sent, one request per record
// under a key made here (crypto.randomUUID) so that a retry never does a record twice.
"use strict";
(function () {
  const data = JSON.parse(document.getElementById("field-data").textContent);
  const S = data.strings, CFG = data.settings;
  const $ = (id) => document.getElementById(id);
  const DAY = 86400000;
  let db, key = null, members = [], types = [], records = [];

  function t(name, values) {
    let text = S[name] || name;
    for (const k in values || {}) text = text.split("%(" + k + ")s").join(values[k]);
    return text;
  }
  function say(text, bad) { const m = $("field-message"); m.textContent = text || ""; m.className = bad ? "flash flash-error" : (text ? "flash flash-info" : ""); }
  function el(tag, attrs, kids) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) { if (k === "text") e.textContent = attrs[k]; else e.setAttribute(k, attrs[k]); }
    for (const c of kids || []) if (c) e.append(c);
    return e;
  }

  // ---- IndexedDB
  function open() {
    return new Promise((ok, no) => {
      const r = indexedDB.open("coopreg-field", 1);
      r.onupgradeneeded = () => { r.result.createObjectStore("meta"); r.result.createObjectStore("records", { keyPath: "key" }); };
      r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error);
    });
  }
  function tx(store, mode, work) {
    return new Promise((ok, no) => {
      const x = db.transaction(store, mode); const s = x.objectStore(store); let out;
      Promise.resolve(work(s)).then((v) => { out = v; });
      x.oncomplete = () => ok(out); x.onerror = () => no(x.error); x.onabort = () => no(x.error);
    });
  }
  const req = (r) => new Promise((ok, no) => { r.onsuccess = () => ok(r.result); r.onerror = () => no(r.error); });
  const getMeta = (name) => tx("meta", "readonly", (s) => req(s.get(name)));
  const setMeta = (name, value) => tx("meta", "readwrite", (s) => { s.put(value, name); });

  // ---- encryption at rest
  const enc = new TextEncoder(), dec = new TextDecoder();
  async function deriveKey(secret) {
    const raw = Uint8Array.from(atob(secret), (c) => c.charCodeAt(0));
    const base = await crypto.subtle.importKey("raw", raw, "HKDF", false, ["deriveKey"]);
    return crypto.subtle.deriveKey({ name: "HKDF", hash: "SHA-256", salt: enc.encode(CFG.cooperative + ":" + CFG.user), info: enc.encode("coopreg-field") },
      base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  }
  async function seal(value) {
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const box = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, enc.encode(JSON.stringify(value)));
    return { iv, box };
  }
  async function unseal(sealed) {
    return JSON.parse(dec.decode(await crypto.subtle.decrypt({ name: "AES-GCM", iv: sealed.iv }, key, sealed.box)));
  }

  // ---- records (the outbox)
  async function loadRecords() {
    const rows = await tx("records", "readonly", (s) => req(s.getAll()));
    records = [];
    for (const row of rows) {
      try { records.push(Object.assign({ key: row.key, state: row.state, created: row.created }, await unseal(row.sealed))); } catch (e) { /* sealed with a wiped key */ }
    }
    records.sort((a, b) => a.created - b.created);
  }
  async function saveRecord(r) {
    const body = { kind: r.kind, record: r.record, result: r.result || null, label: r.label };
    const sealed = await seal(body);
    await tx("records", "readwrite", (s) => { s.put({ key: r.key, state: r.state, created: r.created, sealed }); });
  }
  async function addRecord(kind, record, label) {
    const r = { key: crypto.randomUUID(), kind, state: "waiting", created: Date.now(), label };
    record.key = r.key; if (kind !== "photo") record.kind = kind; r.record = record;
    await saveRecord(r); records.push(r); render();
    return r;
  }

  // ---- wiping: after FIELD_DATA_DAYS, the downloaded members go (records not yet sent stay)
  async function wipeIfOld() {
    const at = await getMeta("downloadedAt");
    if (at && Date.now() - at > CFG.days * DAY) {
      await setMeta("members", null); await setMeta("downloadedAt", null); members = []; types = [];
      if (!records.some((r) => r.state !== "done")) { await setMeta("key", null); key = null; await tx("records", "readwrite", (s) => { s.clear(); }); records = []; }
      say(t("wiped", { days: CFG.days }));
    }
  }

  // ---- server
  async function fresh() {
    const r = await fetch("/field/session", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (r.redirected || !(r.headers.get("content-type") || "").includes("json")) throw new Error(t("log_in_again"));
    return r.json();
  }
  async function download() {
    const chosen = [...document.querySelectorAll("#field-localities input:checked")].map((i) => i.value);
    if (!crypto.subtle) { say(t("no_crypto"), true); return; }
    try {
      const s = await fresh();
      const r = await fetch("/field/download", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json", "X-CSRFToken": s.csrf }, body: JSON.stringify({ localities: chosen }) });
      const body = await r.json();
      if (!r.ok) { say(body.message, true); return; }
      if (!key) { key = await deriveKey(body.secret); await setMeta("key", key); }
      members = body.members; types = body.document_types;
      await setMeta("members", await seal({ members, types }));
      await setMeta("downloadedAt", Date.now());
      await setMeta("localities", chosen);
      say(t("downloaded", { count: members.length }));
      $("field-downloaded").textContent = t("downloaded_on", { date: new Date().toLocaleString(CFG.language), count: members.length });
      render();
    } catch (e) { say(navigator.onLine ? e.message : t("offline_now"), true); }
  }

  let syncing = false;
  async function sync() {
    if (syncing || !navigator.onLine) return;
    const waiting = records.filter((r) => r.state === "waiting");
    if (!waiting.length) return;
    syncing = true; say(t("sending"));
    try {
      const s = await fresh();
      for (const r of waiting) {
        let resp;
        if (r.kind === "photo") {
          const f = new FormData();
          for (const k of ["key", "member_id", "member_key", "kind", "document_type_id"]) if (r.record[k]) f.append(k, r.record[k]);
          f.append("photo", dataBlob(r.record.image), "photo.jpg");
          resp = await fetch("/field/photo", { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": s.csrf }, body: f });
        } else {
          resp = await fetch("/field/sync", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json", "X-CSRFToken": s.csrf }, body: JSON.stringify(r.record) });
        }
        let answer;
        try { answer = await resp.json(); } catch (e) { throw new Error(t("server_error")); }
        if (resp.status >= 500 || resp.status === 400 || resp.status === 403) throw new Error(answer.message || t("server_error"));
        r.result = answer;
        r.state = answer.outcome === "created" || answer.outcome === "already_there" ? "done" : answer.outcome;
        if (r.state === "done" && r.kind === "photo") delete r.record.image;
        await saveRecord(r); render();
      }
      say(t("sent"));
    } catch (e) { say(navigator.onLine ? e.message : t("offline_now"), true); }
    finally { syncing = false; render(); }
  }

  // ---- forms
  function formValues(form) {
    const out = {};
    for (const i of form.querySelectorAll("input[name], select[name], textarea[name]")) {
      if (i.type === "file") continue;
      out[i.name] = i.type === "checkbox" ? i.checked : i.value.trim();
    }
    return out;
  }
  // the photo is made smaller here (at most 1600 px a side, JPEG): phones take 4000 px pictures
  async function resize(file) {
    let bitmap;
    try { bitmap = await createImageBitmap(file); } catch (e) { throw new Error(t("not_a_photo")); }
    const scale = Math.min(1, 1600 / Math.max(bitmap.width, bitmap.height));
    const c = document.createElement("canvas"); c.width = Math.round(bitmap.width * scale); c.height = Math.round(bitmap.height * scale);
    c.getContext("2d").drawImage(bitmap, 0, 0, c.width, c.height); bitmap.close();
    return c.toDataURL("image/jpeg", 0.8);
  }
  function dataBlob(url) {
    const [head, body] = url.split(","); const bytes = atob(body); const out = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) out[i] = bytes.charCodeAt(i);
    return new Blob([out], { type: head.slice(5).split(";")[0] });
  }
  async function submitMember(ev) {
    ev.preventDefault();
    if (!key) { say(t("download_first"), true); return; }
    const form = ev.target, values = formValues(form);
    const documents = {};
    for (const b of form.querySelectorAll("[data-doc]")) documents[b.dataset.doc] = b.checked ? (b.dataset.had || true) : false;
    const memberId = values.member_id; delete values.member_id;
    let r;
    if (memberId) {
      const m = members.find((x) => String(x.id) === memberId);
      const changed = {};
      for (const k in values) if (String(m[k] ?? "") !== String(values[k] ?? "") && !(m[k] == null && values[k] === false)) changed[k] = values[k];
      changed.documents = documents;
      r = await addRecord("update", { member_id: m.id, base_version: m.version, data: changed }, t("label_update", { name: m.full_name }));
    } else {
      values.documents = documents;
      r = await addRecord("enrol", { data: values }, t("label_enrol", { name: values.first_name + " " + values.last_name }));
    }
    for (const input of form.querySelectorAll("input[type=file]")) {
      if (!input.files.length) continue;
      try {
        const image = await resize(input.files[0]);
        const docType = form.querySelector("[name=photo_type_" + input.dataset.kind + "]");
        await addRecord("photo", { member_id: memberId || "", member_key: memberId ? "" : r.key, kind: input.dataset.kind, document_type_id: docType ? docType.value : "", image }, t("label_photo", { name: r.label }));
      } catch (e) { say(e.message, true); }
    }
    form.reset(); form.hidden = !!memberId; say(t("kept")); sync();
  }
  async function submitReceipt(ev) {
    ev.preventDefault();
    if (!key) { say(t("download_first"), true); return; }
    const form = ev.target, v = formValues(form);
    const provisional = await nextProvisional();
    const who = v.member; const pending = records.find((r) => r.key === who);
    const m = members.find((x) => String(x.id) === who);
    const name = m ? m.full_name : (pending ? pending.record.data.first_name + " " + pending.record.data.last_name : "");
    const record = { data: { amount: v.amount, received_on: v.received_on, method: v.method, reference: v.reference, provisional } };
    if (pending) record.member_key = who; else record.member_id = Number(who);
    await addRecord("receipt", record, t("label_receipt", { number: provisional, name, amount: v.amount }));
    showSlip(provisional, name, v);
    form.reset(); form.querySelector("[name=received_on]").value = today(); sync();
  }
  // a provisional number of this phone: P-<device>-<n>, n counted on the phone
  async function nextProvisional() {
    const n = ((await getMeta("counter")) || 0) + 1; await setMeta("counter", n);
    let device = await getMeta("device");
    if (!device) { device = crypto.randomUUID().slice(0, 6).toUpperCase(); await setMeta("device", device); }
    return "P-" + device + "-" + n;
  }
  // ---- the collection sheet: one line per member on the phone, one receipt per amount typed
  let sheetFor = null;
  const amountOf = (text) => Number(String(text || "").replace(/\s/g, "").replace(",", "."));
  function renderSheet() {
    const body = $("field-sheet-lines"); if (!body) return;
    const shown = members;
    const signature = shown.map((m) => m.id + ":" + m.owed).join(",");
    if (signature === sheetFor) return;
    sheetFor = signature;
    const typed = {};
    for (const i of body.querySelectorAll("input[data-member]")) typed[i.dataset.member] = i.value;
    body.replaceChildren(...shown.map((m) => el("tr", {}, [
      el("td", { text: m.member_number + " · " + m.full_name }),
      el("td", { class: "num", text: m.owed || "" }),
      el("td", {}, [el("input", { "data-member": m.id, inputmode: "decimal", value: typed[m.id] || "", "aria-label": t("sheet_paid_by", { name: m.full_name }) })])])));
    sheetTotal();
  }
  function sheetTotal() {
    const lines = [...document.querySelectorAll("#field-sheet-lines input[data-member]")].filter((i) => i.value.trim() && amountOf(i.value) !== 0);
    const total = lines.reduce((sum, i) => sum + (amountOf(i.value) || 0), 0);
    $("field-sheet-total").textContent = t("sheet_total", { count: lines.length, total: total.toLocaleString(CFG.language) });
  }
  async function submitSheet(ev) {
    ev.preventDefault();
    if (!key) { say(t("download_first"), true); return; }
    const form = ev.target, v = formValues(form);
    const lines = [...form.querySelectorAll("input[data-member]")].filter((i) => i.value.trim() && amountOf(i.value) !== 0);
    if (!lines.length) { say(t("sheet_empty"), true); return; }
    const slips = $("field-sheet-slips"); slips.replaceChildren(); slips.hidden = false;
    for (const input of lines) {
      const m = members.find((x) => String(x.id) === input.dataset.member), amount = input.value.trim();
      const provisional = await nextProvisional();
      await addRecord("receipt", { member_id: m.id, data: { amount, received_on: v.received_on, method: v.method, reference: "", provisional } },
        t("label_receipt", { number: provisional, name: m.full_name, amount }));
      slips.append(el("li", {}, [el("strong", { class: "provisional", text: t("provisional") + " " + provisional }), " " + t("slip", { name: m.full_name, amount, date: v.received_on })]));
      input.value = "";
    }
    sheetTotal(); say(t("kept")); sync();
  }
  function showSlip(provisional, name, v) {
    const slip = $("field-slip"); slip.hidden = false;
    $("field-slip-number").textContent = provisional;
    $("field-slip-body").textContent = t("slip", { name, amount: v.amount, date: v.received_on });
  }
  const today = () => new Date().toISOString().slice(0, 10);

  function editMember(m) {
    const form = $("field-member-form"); form.hidden = false; form.reset();
    for (const i of form.querySelectorAll("[name]")) {
      if (i.type === "file") continue;
      if (i.type === "checkbox") i.checked = !!m[i.name]; else if (i.name in m) i.value = m[i.name] ?? "";
    }
    form.querySelector("[name=member_id]").value = m.id;
    for (const b of form.querySelectorAll("[data-doc]")) { const had = (m.documents || {})[b.dataset.doc]; b.checked = !!had; b.dataset.had = had || ""; }
    $("field-member-title").textContent = t("edit_title", { name: m.full_name });
    form.scrollIntoView();
  }
  function newMember() {
    const form = $("field-member-form"); form.hidden = false; form.reset();
    form.querySelector("[name=member_id]").value = "";
    form.querySelector("[name=joined_on]").value = today();
    $("field-member-title").textContent = t("enrol_title");
  }

  // ---- conflicts: both versions side by side, the user chooses
  // A receipt or photo for a member enrolled on the phone is refused while that enrolment is a
  // conflict (nothing enrolled yet). Once the user chooses, they go again under a new key (the
  // refusal is kept under the old one; nothing was done with it): for the phone's member
  // (keep mine) or for the office's member it duplicated (keep the office's).
  async function resendDependants(r, memberId) {
    for (const x of records) {
      if (x === r || x.record.member_key !== r.key || x.state !== "refused") continue;
      const old = x.key; x.key = crypto.randomUUID(); x.record.key = x.key;
      if (memberId) { delete x.record.member_key; x.record.member_id = memberId; }
      x.state = "waiting"; x.result = null;
      await tx("records", "readwrite", (s) => { s.delete(old); }); await saveRecord(x);
    }
  }
  function conflictView(r) {
    const mine = r.record.data || {}, office = (r.result && r.result.office) || {};
    const rows = Object.keys(mine).filter((k) => k !== "documents").map((k) =>
      el("tr", {}, [el("th", { text: S["field_" + k] || k }), el("td", { text: String(mine[k] ?? "") }), el("td", { text: String(office[k] ?? "") })]));
    const table = el("table", { class: "field-conflict" }, [el("thead", {}, [el("tr", {}, [el("th", { text: "" }), el("th", { text: t("mine") }), el("th", { text: t("office") })])]), el("tbody", {}, rows)]);
    const keep = el("button", { type: "button", text: t("keep_mine") });
    keep.onclick = async () => { r.record.force = true; if (r.kind === "update" && office.version) r.record.base_version = office.version; r.state = "waiting"; await saveRecord(r); await resendDependants(r, null); render(); sync(); };
    const drop = el("button", { type: "button", class: "secondary", text: t("keep_office") });
    drop.onclick = async () => {
      r.state = "done"; r.result = { outcome: "kept_office" };
      const i = members.findIndex((m) => m.id === office.id);
      if (i >= 0) { members[i] = Object.assign(members[i], office); await setMeta("members", await seal({ members, types })); }
      await saveRecord(r);
      if (r.kind === "enrol" && office.id) await resendDependants(r, office.id);
      render(); sync();
    };
    return el("div", {}, [table, keep, drop]);
  }

  // ---- render
  function render() {
    const waiting = records.filter((r) => r.state === "waiting").length;
    $("field-waiting").textContent = t("waiting", { count: waiting });
    $("field-waiting").dataset.count = waiting;
    $("field-status").textContent = navigator.onLine ? t("online") : t("offline");
    const q = ($("field-search").value || "").toLowerCase();
    const list = $("field-member-list"); list.replaceChildren();
    const pendingEnrol = records.filter((r) => r.kind === "enrol" && r.state === "waiting");
    const shown = members.filter((m) => !q || (m.full_name + " " + m.member_number + " " + (m.locality || "")).toLowerCase().includes(q)).slice(0, 200);
    for (const m of shown) {
      const kids = [el("span", { text: m.member_number + " · " + m.full_name + (m.locality ? " · " + m.locality : "") })];
      if (CFG.abilities.members) { const b = el("button", { type: "button", class: "link", text: t("edit") }); b.onclick = () => editMember(m); kids.push(" ", b); }
      list.append(el("li", {}, kids));
    }
    const select = $("field-receipt-member");
    if (select) {
      const was = select.value; select.replaceChildren(el("option", { value: "", text: t("choose") }));
      for (const m of members) select.append(el("option", { value: m.id, text: m.member_number + " · " + m.full_name }));
      for (const r of pendingEnrol) select.append(el("option", { value: r.key, text: t("new_member", { name: r.record.data.first_name + " " + r.record.data.last_name }) }));
      select.value = was;
    }
    for (const box of document.querySelectorAll("[data-doc-list]")) {
      box.replaceChildren(...types.map((d) => el("label", {}, [el("input", { type: "checkbox", "data-doc": d.id }), " " + d.name])));
    }
    for (const s of document.querySelectorAll("[data-doc-select]")) {
      const was = s.value; s.replaceChildren(el("option", { value: "", text: "—" }), ...types.map((d) => el("option", { value: d.id, text: d.name }))); s.value = was;
    }
    renderSheet();
    const out = $("field-records"); out.replaceChildren();
    for (const r of records.slice().reverse()) {
      const res = r.result || {};
      const kids = [el("strong", { class: "field-state field-" + r.state, text: t("state_" + (res.outcome || r.state)) }), " " + r.label];
      if (res.number) kids.push(" · " + t("final_number", { number: res.number }), " ", el("a", { href: res.print_url, text: t("print") }));
      if (r.state === "refused") {
        kids.push(el("p", { class: "field-reason", text: res.message }));
        const b = el("button", { type: "button", class: "link", text: t("dismiss") });
        b.onclick = async () => { await tx("records", "readwrite", (s) => { s.delete(r.key); }); records = records.filter((x) => x !== r); render(); };
        kids.push(b);
      }
      if (r.state === "conflict") kids.push(el("p", { class: "field-reason", text: res.message }), conflictView(r));
      out.append(el("li", { "data-state": r.state, "data-kind": r.kind }, kids));
    }
  }

  async function start() {
    db = await open();
    key = (await getMeta("key")) || null;
    await loadRecords();
    const kept = await getMeta("members");
    if (key && kept) { try { const v = await unseal(kept); members = v.members; types = v.types; } catch (e) { members = []; } }
    await wipeIfOld();
    const at = await getMeta("downloadedAt");
    if (at) $("field-downloaded").textContent = t("downloaded_on", { date: new Date(at).toLocaleString(CFG.language), count: members.length });
    const chosen = (await getMeta("localities")) || [];
    const places = async () => {
      let names = (await getMeta("placeNames")) || [];
      if (navigator.onLine) { try { names = (await fresh()).localities; await setMeta("placeNames", names); } catch (e) { /* offline or logged out */ } }
      $("field-localities").replaceChildren(...names.map((n) => el("label", {}, [el("input", Object.assign({ type: "checkbox", value: n }, chosen.includes(n) ? { checked: "" } : {})), " " + n])));
    };
    $("field-download-button").onclick = download;
    $("field-sync").onclick = sync;
    $("field-search").oninput = render;
    if ($("field-member-form")) { $("field-member-form").onsubmit = submitMember; $("field-new-member").onclick = newMember; }
    if ($("field-receipt-form")) { $("field-receipt-form").onsubmit = submitReceipt; $("field-receipt-form").querySelector("[name=received_on]").value = today(); }
    if ($("field-sheet-form")) { $("field-sheet-form").onsubmit = submitSheet; $("field-sheet-form").oninput = sheetTotal; $("field-sheet-form").querySelector("[name=received_on]").value = today(); }
    window.addEventListener("online", () => { render(); sync(); });
    window.addEventListener("offline", render);
    setInterval(() => wipeIfOld().then(render), 3600000);  // a page left open for days
    render();
    document.body.dataset.fieldReady = "1";
    places();
    if ("serviceWorker" in navigator) navigator.serviceWorker.register("/field/sw.js", { scope: "/field/" }).catch(() => {});
    sync();
  }
  start().catch((e) => say(e.message, true));
})();
