/* The Plume task pane: tabs, the template form, plain language, translation, streamed text tasks,
 * settings. Plain ES2017 for the webviews Office uses; no framework, no build step. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var state = { settings: null, client: null, operation: null, templates: [], template: null,
                plain: null, started: false, review: null, proof: null, action: null };

  /* ---------- strings ---------- */

  function t(key, vars) {
    var table = window.PlumeI18n[state.settings ? state.settings.language : "fr"] || window.PlumeI18n.fr;
    var text = table[key] !== undefined ? table[key] : (window.PlumeI18n.fr[key] !== undefined ? window.PlumeI18n.fr[key] : key);
    return text.replace(/\{(\w+)\}/g, function (_, name) { return vars && vars[name] !== undefined ? vars[name] : ""; });
  }

  function translatePage() {
    document.documentElement.lang = state.settings.language === "de" ? "de-CH" : "fr-CH";
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (el) {
      el.textContent = t(el.getAttribute("data-i18n"));
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n-attr]"), function (el) {
      var parts = el.getAttribute("data-i18n-attr").split(":");
      el.setAttribute(parts[0], t(parts[1]));
    });
  }

  /* ---------- messages, progress, cancel ---------- */

  function showMessage(kind, text, code) {
    var box = $("message");
    box.className = "message " + kind;
    box.textContent = text;
    if (code) {
      var pre = document.createElement("code");
      pre.className = "install";
      pre.textContent = code;
      box.appendChild(pre);
    }
    box.hidden = false;
  }

  function clearMessage() { $("message").hidden = true; $("message").textContent = ""; }

  function explain(error) {
    switch (error && error.kind) {
      case "unreachable": return [t("error.unreachable", { url: state.settings.serverUrl })];
      case "unauthorized": return [t("error.unauthorized")];
      case "forbidden": return [t("error.forbidden")];
      // The server's sentence is written for the clerk (in French); never a shell command: IT has the docs.
      case "model": return [state.settings.language !== "de" && error.detail ? error.detail : t("error.model")];
      case "busy": return [t("error.busy")];
      case "unavailable": return [error.detail || t("task.unavailableDefault")];
      case "too-long": return [t("error.tooLong")];
      case "cancelled": return [t("error.cancelled")];
      case "stopped": return [t("error.stopped")];
      case "word": return [t("error.word")];
      case "user": return [error.message];
      case "server":  // a refusal the server explains (e.g. a message that looks like phishing): its words
        if (error.status === 422 && error.detail && state.settings.language !== "de") return [error.detail];
        return [t("error.server") + " " + (error.detail || error.status)];
      default:
        if (window.console) console.error(error);
        return [t("error.word")];
    }
  }

  function userError(text) { var e = new Error(text); e.kind = "user"; return e; }

  /* Stream a long result; Stop (the Cancel button) keeps what was already written. Resolves to
   * {text, stopped}; a stop before any text is an ordinary cancel. */
  async function streamKeeping(route, body, signal, show) {
    var soFar = "";
    try {
      var final = await state.client.stream(route, body, signal, function (text) { soFar = text; show(text); });
      return { text: final, stopped: false };
    } catch (error) {
      if (error.kind !== "cancelled" || !soFar.trim()) throw error;
      return { text: soFar, stopped: true };
    }
  }

  function stoppedError() { var e = new Error("stopped"); e.kind = "stopped"; return e; }

  /* Run one piece of work with progress and a Cancel button that aborts its fetches. */
  async function perform(busyKey, work) {
    if (state.operation) return;
    var controller = new AbortController();
    state.operation = controller;
    clearMessage();
    $("busy-text").textContent = t(busyKey);
    $("busy").hidden = false;
    document.body.setAttribute("aria-busy", "true");
    var returnFocus = document.activeElement;
    $("cancel").focus();
    try {
      await work(controller.signal, function (key, vars) { $("busy-text").textContent = t(key, vars); });
    } catch (error) {
      var parts = explain(error);
      showMessage(error.kind === "cancelled" || error.kind === "stopped" ? "info" : "error", parts[0], parts[1]);
    } finally {
      state.operation = null;
      // Keyboard users go back to the button they pressed, since Cancel is about to hide.
      var onCancel = document.activeElement === $("cancel") || document.activeElement === document.body;
      $("busy").hidden = true;
      document.body.removeAttribute("aria-busy");
      if (onCancel && returnFocus && returnFocus.focus && document.contains(returnFocus)) returnFocus.focus();
    }
  }

  function cancel() { if (state.operation) state.operation.abort(); }

  function checkNotCancelled(signal) {
    if (signal.aborted) throw new window.PlumeApi.PlumeError("cancelled");
  }

  /* ---------- the task menu ---------- */

  /* One select instead of eight tabs: it keeps one height at any pane width (tabs wrapped into 3–4
   * rows at 320–350 px and the page jumped when switching). */
  function tasks() { return Array.prototype.map.call($("task").options, function (o) { return o.value; }); }

  function showTask(name) {
    $("task").value = name;
    tasks().forEach(function (other) { $("panel-" + other).hidden = other !== name; });
    if (name === "modeles" && !state.templates.length && !state.operation) loadTemplates();
    if (name === "actions") loadActions();   // each time: an action the admin just added appears
  }

  /* ---------- what the server can do now (GET /v1/capabilities) ---------- */

  var TASK_OF = { "plain-language": "clair", proofread: "corriger", translate: "traduire", summarize: "resumer", minutes: "pv",
                  factsheet: "fiche", acknowledge: "accuse", render: "modeles" };

  /* Offer only what works: working target languages by name, the first that works by default; an
   * action without engine greyed out, with the server's one plain sentence. An older server without
   * the route keeps the built-in choices. Never through perform(): it must not block the clerk. */
  async function loadCapabilities() {
    var data = null;
    try { data = await state.client.json("GET", "/v1/capabilities"); } catch (error) { data = null; }
    state.capabilities = (data && data.tasks) || null;
    state.review = (data && data.review) || { mode: "tracked", locked: false };
    showReviewSetting();
    if (state.capabilities) applyCapabilities(state.capabilities);
    document.body.setAttribute("data-capabilities", state.capabilities ? "loaded" : "none");
  }

  function applyCapabilities(caps) {
    var german = state.settings.language === "de";
    Object.keys(TASK_OF).forEach(function (task) {
      var info = caps[task], panel = $("panel-" + TASK_OF[task]);
      if (!info) return;
      var off = !info.available, note = panel.querySelector(".unavailable");
      if (!note) {
        note = document.createElement("p");
        note.className = "unavailable";
        note.setAttribute("role", "note");
        panel.insertBefore(note, panel.firstChild);
      }
      note.textContent = off ? ((german ? info.reason_de : info.reason) || t("task.unavailableDefault")) : "";
      note.hidden = !off;
      Array.prototype.forEach.call(panel.querySelectorAll("button[id$=-run], button[data-run], #template-insert, #template-new"),
        function (button) { button.disabled = off; });
      var option = $("task").querySelector("option[value=" + TASK_OF[task] + "]");
      var label = t(option.getAttribute("data-i18n"));
      option.textContent = off ? label + " (" + t("task.unavailable") + ")" : label;
    });
    var translate = caps.translate || {}, names = (german ? translate.languages_de : translate.languages) || {};
    if (translate.available !== undefined) {
      fillLanguages($("translate-target"), translate.targets || [], names, translate.default_target);
      var sources = [];
      (translate.pairs || []).forEach(function (pair) {
        var source = String(pair).split("-")[0];
        if (sources.indexOf(source) === -1) sources.push(source);
      });
      fillLanguages($("translate-source"), sources, names, "", t("translate.detect"));
    }
    var levels = (caps["plain-language"] || {}).levels;
    if (levels && levels.length) fillLevels(levels);
  }

  /* « B1 (simple) », « A2 (très simple) »: the level and what it means. */
  function fillLevels(levels) {
    var level = $("plain-level");
    level.innerHTML = "";
    levels.forEach(function (l) { level.add(new Option(t("plain.level." + l) === "plain.level." + l ? l : t("plain.level." + l), l)); });
  }

  function fillLanguages(select, codes, names, chosen, firstLabel) {
    select.innerHTML = "";
    if (firstLabel !== undefined) select.add(new Option(firstLabel, ""));
    codes.forEach(function (code) { select.add(new Option(names[code] || code, code)); });
    if (chosen) select.value = chosen;
  }

  /* ---------- Modèles ---------- */

  function loadTemplates() {
    return perform("busy.templates", async function (signal) {
      var data = await state.client.json("GET", "/v1/templates", undefined, signal);
      state.templates = Array.isArray(data) ? data : (data.templates || data.items || []);
      if (!state.templates.length) throw userError(t("error.noTemplates"));
      var categories = [];
      state.templates.forEach(function (tpl) { if (tpl.category && categories.indexOf(tpl.category) === -1) categories.push(tpl.category); });
      var select = $("template-category");
      while (select.options.length > 1) select.remove(1);
      categories.sort().forEach(function (c) { select.add(new Option(c, c)); });
      filterTemplates();
    });
  }

  function filterTemplates() {
    var words = $("template-search").value.toLowerCase().split(/\s+/).filter(Boolean);
    var category = $("template-category").value, list = $("template-list");
    list.innerHTML = "";
    state.templates.filter(function (tpl) {
      var haystack = [tpl.title, tpl.id, tpl.category, tpl.service].join(" ").toLowerCase();
      return (!category || tpl.category === category) && words.every(function (w) { return haystack.indexOf(w) !== -1; });
    }).forEach(function (tpl) { list.add(new Option(tpl.title || tpl.id, tpl.id)); });
  }

  function chooseTemplate() {
    var id = $("template-list").value;
    if (!id) return;
    perform("busy.templates", async function (signal) {
      var tpl = await state.client.json("GET", "/v1/templates/" + encodeURIComponent(id), undefined, signal);
      state.template = tpl;
      $("template-title").textContent = tpl.title || tpl.id || id;
      buildForm(tpl.fields || []);
      showLanguages(tpl);
      $("template-uncertain").hidden = true;
      $("template-detail").hidden = false;
    });
  }

  function fieldId(name) { return "field-" + name; }

  /* The languages the template's letter exists in as .docx (French first): a choice only when there are several. */
  function showLanguages(tpl) {
    var formats = tpl.language_formats || {};
    var languages = (tpl.languages || []).filter(function (code) {
      return !formats[code] || formats[code].indexOf("docx") !== -1;
    });
    var select = $("template-language");
    select.innerHTML = "";
    languages.forEach(function (code) {
      var name = t("language." + code);
      select.add(new Option(name === "language." + code ? code : name, code));
    });
    $("template-language-box").hidden = languages.length < 2;
  }

  function buildForm(fields) {
    var form = $("template-form");
    form.innerHTML = "";
    fields.forEach(function (field) {
      var row = document.createElement("div");
      row.className = "row field";
      row.setAttribute("data-field", field.name);
      var label = document.createElement("label");
      label.htmlFor = fieldId(field.name);
      label.textContent = field.label || field.name;
      if (field.required) {
        var star = document.createElement("span");
        star.className = "required";
        star.textContent = " *";
        star.title = t("templates.required");
        label.appendChild(star);
      }
      row.appendChild(label);
      var input = inputFor(field);
      input.id = fieldId(field.name);
      label.id = fieldId(field.name) + "-label";
      if (input.getAttribute("role") === "group") input.setAttribute("aria-labelledby", label.id);
      input.name = field.name;
      if (field.required) input.setAttribute("aria-required", "true");
      row.appendChild(input);
      var lines = field.type === "list" && !(field.columns && field.columns.length);
      var helpText = field.help || (lines ? t("templates.listHelp") : "");
      if (helpText) {
        var help = document.createElement("p");
        help.className = "help";
        help.id = fieldId(field.name) + "-help";
        help.textContent = helpText + (lines && field.help ? " (" + t("templates.listHelp") + ")" : "");
        input.setAttribute("aria-describedby", help.id);
        row.appendChild(help);
      }
      form.appendChild(row);
    });
  }

  /* A list whose entries have columns (e.g. fees: label + amount) is edited as a small table. */
  function tableFor(field) {
    var group = document.createElement("div");
    group.className = "list-table";
    group.setAttribute("role", "group");
    var rows = document.createElement("div");
    rows.className = "list-rows";
    group.appendChild(rows);
    var add = document.createElement("button");
    add.type = "button";
    add.className = "secondary";
    add.textContent = t("templates.addRow");
    add.addEventListener("click", function () { addTableRow(group, field, {}).querySelector("input").focus(); });
    group.appendChild(add);
    setTable(group, field, Array.isArray(field.example) ? field.example : []);
    return group;
  }

  function addTableRow(group, field, values) {
    var row = document.createElement("div");
    row.className = "list-row";
    field.columns.forEach(function (column) {
      var input = document.createElement("input");
      input.type = column.type === "money" ? "number" : (column.type === "date" ? "date" : "text");
      if (column.type === "money") input.step = "0.05";
      input.setAttribute("data-column", column.name);
      input.setAttribute("data-type", column.type || "text");
      input.setAttribute("aria-label", (column.label || column.name));
      input.placeholder = column.label || column.name;
      if (values[column.name] !== undefined && values[column.name] !== null) input.value = String(values[column.name]);
      row.appendChild(input);
    });
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "secondary remove";
    remove.textContent = "×";
    remove.setAttribute("aria-label", t("templates.removeRow"));
    remove.addEventListener("click", function () { row.parentNode.removeChild(row); });
    row.appendChild(remove);
    group.querySelector(".list-rows").appendChild(row);
    return row;
  }

  function setTable(group, field, entries) {
    group.querySelector(".list-rows").innerHTML = "";
    entries.forEach(function (entry) { addTableRow(group, field, entry || {}); });
  }

  function readTable(group) {
    return Array.prototype.map.call(group.querySelectorAll(".list-row"), function (row) {
      var entry = {}, filled = false;
      Array.prototype.forEach.call(row.querySelectorAll("input"), function (input) {
        var value = input.value.trim();
        if (value !== "") filled = true;
        entry[input.getAttribute("data-column")] = input.getAttribute("data-type") === "money" && value !== "" ? Number(value) : value;
      });
      return filled ? entry : null;
    }).filter(Boolean);
  }

  function inputFor(field) {
    if (field.type === "list" && field.columns && field.columns.length) return tableFor(field);
    var input;
    var choices = field.choices || field.options || [];
    if (field.type === "choice") {
      input = document.createElement("select");
      input.add(new Option(t("templates.choose"), ""));
      choices.forEach(function (c) {
        var value = typeof c === "object" ? c.value : c, label = typeof c === "object" ? (c.label || c.value) : c;
        input.add(new Option(label, value));
      });
    } else if (field.type === "list") {
      input = document.createElement("textarea");
      input.rows = 3;
    } else if (field.type === "bool") {
      input = document.createElement("input");
      input.type = "checkbox";
    } else {
      input = document.createElement("input");
      input.type = field.type === "date" ? "date" : (field.type === "money" ? "number" : "text");
      if (field.type === "money") input.step = "0.05";
      if (field.example !== undefined && field.type !== "date") input.placeholder = String(field.example);
    }
    input.setAttribute("data-type", field.type || "text");
    return input;
  }

  function formValues() {
    var values = {}, missing = [];
    (state.template.fields || []).forEach(function (field) {
      var input = $(fieldId(field.name)), value;
      if (input.classList.contains("list-table")) value = readTable(input);
      else if (field.type === "bool") value = input.checked;
      else if (field.type === "list") value = input.value.split(/\n/).map(function (s) { return s.trim(); }).filter(Boolean);
      else if (field.type === "money") value = input.value === "" ? "" : Number(input.value);
      else value = input.value.trim();
      var empty = value === "" || (Array.isArray(value) && !value.length);
      input.setAttribute("aria-invalid", field.required && empty ? "true" : "false");
      if (field.required && empty) missing.push(field.label || field.name);
      if (!empty) values[field.name] = value;
    });
    if (missing.length) throw userError(t("error.required", { fields: missing.join(", ") }));
    return values;
  }

  function fillForm(result) {
    var values = result.values || {}, filled = 0;
    (state.template.fields || []).forEach(function (field) {
      var input = $(fieldId(field.name));
      if (!input || values[field.name] === undefined || values[field.name] === null) return;
      var value = values[field.name];
      if (input.classList.contains("list-table")) setTable(input, field, Array.isArray(value) ? value : []);
      else if (field.type === "bool") input.checked = !!value;
      else if (Array.isArray(value)) input.value = value.join("\n");
      else input.value = String(value);
      filled++;
    });
    var doubtful = namesOf(result.uncertain).concat(namesOf(result.missing));
    Array.prototype.forEach.call(document.querySelectorAll("#template-form .field"), function (row) {
      var name = row.getAttribute("data-field"), flagged = doubtful.indexOf(name) !== -1;
      row.classList.toggle("uncertain", flagged);
      var badge = row.querySelector(".badge");
      if (flagged && !badge) {
        badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = t("templates.uncertain");
        row.querySelector("label").appendChild(badge);
      } else if (!flagged && badge) badge.parentNode.removeChild(badge);
    });
    $("template-uncertain").hidden = !doubtful.length;
    showMessage("ok", t("templates.filled", { count: filled }));
  }

  function namesOf(list) {
    return (list || []).map(function (item) { return typeof item === "string" ? item : (item.name || item.field); });
  }

  function extractFromNotes() {
    var notes = $("template-notes").value;
    if (!state.template) return showMessage("error", t("error.noTemplate"));
    if (!notes.trim()) return showMessage("error", t("error.emptyInput"));
    perform("busy.extract", async function (signal) {
      var result = await state.client.json("POST", "/v1/templates/" + encodeURIComponent(state.template.id) + "/extract",
        { text: notes }, signal);
      fillForm(result);
    });
  }

  function blobToBase64(blob) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(String(reader.result).split(",")[1] || ""); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsDataURL(blob);
    });
  }

  function renderLetter(target) {
    if (!state.template) return showMessage("error", t("error.noTemplate"));
    if (target === "new" && !window.PlumeWord.canCreateDocument()) return showMessage("error", t("error.newDocument"));
    perform("busy.render", async function (signal) {
      var values = formValues();
      var blob;
      try {
        var body = { values: values, format: "docx" };
        if (!$("template-language-box").hidden && $("template-language").value) body.language = $("template-language").value;
        blob = await state.client.blob("/v1/templates/" + encodeURIComponent(state.template.id) + "/render",
          body, signal);
        var requestId = state.client.lastRequestId;
        var warning = state.client.lastWarning;
      } catch (error) {
        markInvalid(error.fields || []);
        throw error;
      }
      var base64 = await blobToBase64(blob);
      checkNotCancelled(signal);
      var title = state.template.title || state.template.id;
      if (target === "new") {
        await window.PlumeWord.openNewDocument(base64);
      } else {
        await window.PlumeWord.insertDocxAtSelection(base64);
      }
      var done = t(target === "new" ? "templates.created" : "templates.inserted", { title: title });
      showMessage(warning ? "info" : "ok", warning ? done + " " + warning : done);
      state.client.reportInserted([requestId]);
    });
  }

  function markInvalid(names) {
    names.forEach(function (name) {
      var input = $(fieldId(String(name).split(".").pop()));
      if (input) input.setAttribute("aria-invalid", "true");
    });
  }

  /* ---------- review: how results go into the text ---------- */

  /* IT's locked mode wins over the clerk's setting. */
  function reviewMode() {
    var review = state.review || {};
    return review.locked && review.mode ? review.mode : state.settings.review;
  }

  function showReviewSetting() {
    var locked = !!(state.review && state.review.locked);
    $("settings-review").value = reviewMode();
    $("settings-review").disabled = locked;
    $("settings-review-locked").hidden = !locked;
  }

  /* Put a result in the document as the review mode says, and tell the clerk what happened. */
  async function putResult(result, requestIds, doneKey, mode) {
    var used = await window.PlumeWord.writeResult(mode || reviewMode(), result, t("review.marker"));
    state.client.reportInserted(requestIds);
    showMessage(used === "marked" ? "info" : "ok", (t(doneKey) + " " + t("review.done." + used)).trim());
    return used;
  }

  /* ---------- Corriger ---------- */

  function proofreadSelection() {
    $("proofread-result").hidden = true;
    perform("busy.proofread", async function (signal) {
      var kept = await window.PlumeWord.keepSelection();
      if (!kept.text.trim()) throw userError(t("error.emptySelection"));
      var result = await state.client.json("POST", "/v1/text/proofread", { text: kept.text }, signal);
      state.proof = { scope: kept.range, text: kept.text, errors: result.errors || [] };
      showProofread(result);
    });
  }

  function showProofread(result) {
    var list = $("proofread-errors"), errors = state.proof.errors;
    list.innerHTML = "";
    var codes = result.warning_codes || [];
    var notes = (result.warnings || []).map(function (w, n) { return warningText(w, codes[n], result.language); }).join(" ");
    $("proofread-summary").textContent = result.checked === null && notes ? notes
      : (errors.length ? t("proofread.found", { count: errors.length }) : t("proofread.none")) + (notes ? " " + notes : "");
    errors.forEach(function (error, n) { list.appendChild(errorItem(error, n)); });
    $("proofread-all").hidden = !errors.some(function (e) { return e.unambiguous; });
    $("proofread-result").hidden = false;
  }

  /* A server's warning: its French sentence, or this pane's own for a code it knows (« only-french »
   * in German), with the text's language by name. */
  function warningText(sentence, code, language) {
    var table = window.PlumeI18n[state.settings.language];
    if (state.settings.language === "fr" || !code || !language || !table || !table["warning." + code]) return sentence;
    return t("warning." + code, { language: table["languageName." + language] || language });
  }

  function errorItem(error, n) {
    var li = document.createElement("li");
    li.className = "error";
    li.setAttribute("data-error", String(n));
    var where = document.createElement("button");
    where.type = "button";
    where.className = "locate link";
    where.textContent = "« " + error.text + " »";
    where.title = t("proofread.show");
    where.addEventListener("click", function () { locateError(n); });
    var message = document.createElement("p");
    message.className = "error-message";
    message.textContent = error.message;
    li.appendChild(where);
    li.appendChild(message);
    var choices = document.createElement("div");
    choices.className = "suggestions";
    (error.suggestions || []).forEach(function (suggestion) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "suggestion secondary";
      button.textContent = suggestion;
      button.addEventListener("click", function () { applyFixes([n], [suggestion]); });
      choices.appendChild(button);
    });
    li.appendChild(choices);
    return li;
  }

  /* Which occurrence of the error's characters it is, in the checked text as it is now: the document
   * is searched for them (Word has no offsets), and the n-th hit is the error. -1 if ambiguous. */
  function occurrenceOf(error) {
    var text = state.proof.text, needle = error.text, index = 0, k;
    if (!needle || needle.indexOf("\n") !== -1) return -1;
    for (k = text.indexOf(needle); k !== -1 && k < error.start; k = text.indexOf(needle, k + needle.length)) index++;
    return k === error.start ? index : -1;   // Word searches the same way: left to right, no overlap
  }

  function locateError(n) {
    var error = state.proof.errors[n];
    perform("busy.working", async function () {
      var index = occurrenceOf(error);
      if (error.fixed || error.stale || index < 0 || !(await window.PlumeWord.selectOccurrence(state.proof.scope, error.text, index))) {
        throw userError(t("proofread.notFound"));
      }
    });
  }

  /* Apply suggestions in place, from the end of the text to its start (so the positions still hold),
   * in one batch; the replaced characters keep their run's formatting. */
  function applyFixes(indexes, choices) {
    var fixes = indexes.map(function (n, k) { return { n: n, error: state.proof.errors[n], text: choices[k] }; })
      .filter(function (f) { return !f.error.fixed && !f.error.stale; })
      .sort(function (a, b) { return b.error.start - a.error.start; });
    if (!fixes.length) return;
    perform("busy.working", async function () {
      // An error whose place cannot be told (index -1) is found nowhere, so never applied elsewhere.
      var asked = fixes.map(function (f) { return { needle: f.error.text, index: occurrenceOf(f.error), text: f.text }; });
      var done = await window.PlumeWord.replaceOccurrences(state.proof.scope, asked, reviewMode() === "tracked");
      var applied = 0;
      fixes.forEach(function (f, k) {
        if (!done[k]) return;
        applied++;
        markFixed(f.n, f.text);
      });
      if (!applied) throw userError(t("proofread.notFound"));
      var word = window.PlumeWord.canTrack() && reviewMode() === "tracked" ? "proofread.appliedTracked" : "proofread.applied";
      showMessage("ok", t(word, { count: applied }));
    });
  }

  /* The checked text as it now reads, every later error moved by the change in length; an error
   * that overlapped the fixed one is gone with it (its characters changed), as in LibreOffice. */
  function markFixed(n, replacement) {
    var proof = state.proof, error = proof.errors[n], delta = replacement.length - (error.end - error.start);
    proof.text = proof.text.slice(0, error.start) + replacement + proof.text.slice(error.end);
    proof.errors.forEach(function (other, m) {
      if (other === error) return;
      if (other.start >= error.end) { other.start += delta; other.end += delta; }
      else if (other.end > error.start && !other.fixed) { other.stale = true; closeItem(m, "stale"); }
    });
    error.fixed = true;
    error.end = error.start + replacement.length;
    error.text = replacement;
    closeItem(n, "fixed");
  }

  function closeItem(n, how) {
    var li = document.querySelector('#proofread-errors [data-error="' + n + '"]');
    if (!li) return;
    li.classList.add(how);
    Array.prototype.forEach.call(li.querySelectorAll("button"), function (b) { b.disabled = true; });
  }

  /* The unambiguous errors (one suggestion), from the start of the text, skipping any that overlaps
   * one already chosen: the same choice as LibreOffice's « Tout corriger ». */
  function fixAll() {
    var indexes = [], choices = [], end = -1;
    state.proof.errors.map(function (e, n) { return { e: e, n: n }; })
      .sort(function (a, b) { return a.e.start - b.e.start; })
      .forEach(function (x) {
        var e = x.e;
        if (!e.unambiguous || e.fixed || e.stale || e.start < end) return;
        indexes.push(x.n); choices.push(e.suggestions[0]); end = e.end;
      });
    applyFixes(indexes, choices);
  }

  /* ---------- Actions de la commune ---------- */

  /* Listed afresh each time the task is chosen: no restart for a new action. Not through perform(). */
  async function loadActions() {
    var data;
    try { data = await state.client.json("GET", "/v1/actions"); } catch (error) {
      var parts = explain(error);
      return showMessage("error", parts[0], parts[1]);
    }
    var german = state.settings.language === "de", list = $("actions-list");
    list.innerHTML = "";
    (data.actions || []).forEach(function (action) {
      var li = document.createElement("li"), button = document.createElement("button");
      button.type = "button";
      button.className = "secondary";
      button.setAttribute("data-action", action.id);
      button.textContent = german ? (action.title_de || action.title) : action.title;
      button.disabled = !action.available;
      button.addEventListener("click", function () { runAction(action, button.textContent); });
      li.appendChild(button);
      if (!action.available) {
        var why = document.createElement("p");
        why.className = "unavailable";
        why.textContent = (german ? action.reason_de : action.reason) || t("task.unavailableDefault");
        li.appendChild(why);
      }
      list.appendChild(li);
    });
    $("actions-empty").hidden = list.children.length > 0;
    list.setAttribute("data-loaded", String(Date.now()));
  }

  function runAction(action, title) {
    $("action-result").hidden = true;
    perform("busy.stream", async function (signal) {
      var whole = action.applies_to === "document";
      var text = whole ? await window.PlumeWord.readDocumentText() : await window.PlumeWord.readSelectionText();
      if (!text.trim()) throw userError(t(whole ? "error.emptyDocument" : "error.emptySelection"));
      $("action-title").textContent = title;
      $("action-preview").textContent = "";
      $("action-result").hidden = false;
      var got = await streamKeeping("/v1/actions/" + encodeURIComponent(action.id) + "/run", { text: text }, signal,
        function (soFar) { $("action-preview").textContent = soFar; });
      $("action-preview").textContent = got.text;
      state.action = { original: text, text: got.text, requestId: state.client.lastRequestId, whole: whole };
      if (got.stopped) throw stoppedError();
    });
  }

  function applyAction() {
    if (!state.action) return;
    perform("busy.working", async function () {
      var current = await window.PlumeWord.readSelectionText();
      if (!state.action.whole && current !== state.action.original) throw userError(t("error.selectionChanged"));
      // An action on the whole document cannot replace the selection: its result goes after it.
      await putResult({ text: state.action.text }, [state.action.requestId], "actions.applied",
        state.action.whole ? "after" : null);
      state.action = null;
      $("action-result").hidden = true;
    });
  }

  function discardAction() {
    state.action = null;
    $("action-result").hidden = true;
    showMessage("info", t("plain.discarded"));
  }

  /* ---------- Langage clair ---------- */

  var METRICS = ["kandel_moles", "lix", "rix", "words_per_sentence"];

  function analysePlain() {
    perform("busy.plain", async function (signal) {
      var text = await window.PlumeWord.readSelectionText();
      if (!text.trim()) throw userError(t("error.emptySelection"));
      var result = await state.client.json("POST", "/v1/text/plain-language",
        { text: text, level: $("plain-level").value }, signal);
      state.plain = { original: text, text: result.text, requestId: state.client.lastRequestId,
                      unchanged: result.changed === false || result.text === text };
      showPlain(result);
    });
  }

  function number(value) {
    return typeof value === "number" ? (Math.round(value * 10) / 10).toLocaleString(state.settings.language === "de" ? "de-CH" : "fr-CH") : (value === undefined ? "–" : String(value));
  }

  /* Kandel-Moles bands, for a server that does not send `band` itself. */
  function bandOf(scores) {
    if (scores.band) return scores.band;
    var km = scores.kandel_moles;
    if (typeof km !== "number") return "";
    return km < 30 ? "very-hard" : km < 50 ? "hard" : km < 60 ? "fairly-hard" : km < 70 ? "medium" : km < 80 ? "fairly-easy" : "easy";
  }

  function showPlain(result) {
    var before = result.before || {}, after = result.after || {}, rows = $("plain-scores");
    $("plain-readability").textContent = t("plain.readabilityLine",
      { before: t("band." + bandOf(before)), after: t("band." + bandOf(after)) });
    $("plain-details").open = false;  // the indices only for who asks for them
    rows.innerHTML = "";
    METRICS.forEach(function (key) {
      var tr = document.createElement("tr");
      [t("plain.metric." + key), number(before[key]), number(after[key])].forEach(function (cell, i) {
        var td = document.createElement(i ? "td" : "th");
        td.textContent = cell;
        tr.appendChild(td);
      });
      rows.appendChild(tr);
    });
    // Nothing safe to change: said at the top, and nothing offered to put in her document.
    var codes = result.warning_codes || [], safe = codes.indexOf("nothing-safe"), unchanged = state.plain.unchanged;
    $("plain-unchanged").textContent = !unchanged ? "" : safe < 0 ? t("plain.unchanged")
      : state.settings.language === "fr" ? result.warnings[safe] : t("warning.nothing-safe");
    $("plain-unchanged").hidden = !unchanged;
    ["plain-proposal", "plain-replace", "plain-insert"].forEach(function (id) { $(id).hidden = unchanged; });
    var warnings = (result.warnings || []).filter(function (w, n) { return n !== safe; });
    var list = $("plain-diagnostics");
    list.innerHTML = "";
    (result.diagnostics || []).concat(warnings).forEach(function (d) {
      var li = document.createElement("li");
      li.textContent = describe(d, state.plain.original);
      list.appendChild(li);
    });
    if (!list.children.length) {
      var none = document.createElement("li");
      none.textContent = t("plain.noDiagnostics");
      list.appendChild(none);
    }
    $("plain-preview").textContent = result.text || "";
    $("plain-result").hidden = false;
  }

  function describe(d, analysed) {
    if (typeof d === "string") return d;
    var main = d.message || d.detail || d.description || "";
    var term = typeof d.start === "number" && d.end > d.start ? analysed.slice(d.start, d.end) : "";
    if (!main) main = (d.kind || "") + (term && term.length < 80 ? " : « " + term + " »" : "");
    var better = d.suggestion || d.replacement || d.alternative || "";
    return better && main.indexOf(better) === -1 ? main + " → " + better : main;
  }

  /* The clerk accepts the proposal: in place of the selection, or after it. */
  function acceptPlain(mode) {
    if (!state.plain || state.plain.unchanged) return;
    perform("busy.working", async function () {
      var current = await window.PlumeWord.readSelectionText();
      if (current !== state.plain.original) throw userError(t("error.selectionChanged"));
      // « Remplacer » follows the review mode (tracked changes by default); « Insérer après » is explicit.
      await putResult({ text: state.plain.text }, [state.plain.requestId],
        mode === "after" ? "plain.inserted" : "plain.replaced", mode === "after" ? "after" : null);
      state.plain = null;
      $("plain-result").hidden = true;
    });
  }

  function discardPlain() {
    state.plain = null;
    $("plain-result").hidden = true;
    showMessage("info", t("plain.discarded"));
  }

  /* ---------- Traduire ---------- */

  function translateSelection() {
    $("translate-done").hidden = true;
    perform("busy.working", async function (signal, progress) {
      var ooxml = await window.PlumeWord.readSelectionOoxml();
      var pkg = window.PlumeOoxml.parsePackage(ooxml);
      if (!pkg.paragraphs.length) throw userError(t("error.emptySelection"));
      var source = $("translate-source").value, target = $("translate-target").value, engine = "", ids = [], notes = [];
      for (var n = 0; n < pkg.paragraphs.length; n++) {
        progress("busy.translate", { n: n + 1, total: pkg.paragraphs.length });
        var body = { text: pkg.paragraphs[n].html, target: target, format: "html" };
        if (source) body.source = source;
        var result = await state.client.json("POST", "/v1/text/translate", body, signal);
        ids.push(state.client.lastRequestId);
        (result.warnings || []).forEach(function (w) {
          var note = typeof w === "string" ? w : (w.message || "");
          if (note && notes.indexOf(note) === -1) notes.push(note);
        });
        engine = result.engine || engine;
        window.PlumeOoxml.applyTranslation(pkg.paragraphs[n], result.text);
      }
      checkNotCancelled(signal);
      var used = await window.PlumeWord.writeResult(reviewMode(), { ooxml: window.PlumeOoxml.serialize(pkg.doc) }, t("review.marker"));
      state.client.reportInserted(ids);
      // Words the translator did not know stay as written: say which, so the clerk checks them.
      showMessage(used === "marked" ? "info" : "ok",
        [t("translate.done", { count: pkg.paragraphs.length })].concat(notes, [t("review.done." + used)]).join(" ").trim());
    });
  }

  /* ---------- Résumer, Procès-verbal, Fiche explicative, Accusé de réception ---------- */

  function setUpTextTask(panel) {
    var task = panel.getAttribute("data-task");
    panel.appendChild(document.importNode($("text-task-template").content, true));
    var scope = panel.querySelector("[data-scope]");
    if (panel.getAttribute("data-source") === "pasted") scope.parentNode.removeChild(scope);
    else Array.prototype.forEach.call(scope.querySelectorAll("input"), function (radio) { radio.name = task + "-scope"; });
    var runButton = panel.querySelector("[data-run]");
    runButton.setAttribute("data-i18n", "task.run." + task);
    runButton.id = task + "-run";
    panel.querySelector("[data-insert]").id = task + "-insert";
    panel.querySelector("[data-output]").id = task + "-output";
    runButton.addEventListener("click", function () { runTextTask(panel); });
    panel.querySelector("[data-insert]").addEventListener("click", function () { insertTaskResult(panel); });
  }

  async function taskInput(panel) {
    var pasted = panel.querySelector("[data-input]");
    if (pasted) {
      if (!pasted.value.trim()) throw userError(t("error.emptyInput"));
      return pasted.value;
    }
    var whole = panel.querySelector("[data-scope] input:checked").value === "document";
    var text = whole ? await window.PlumeWord.readDocumentText() : await window.PlumeWord.readSelectionText();
    if (!text.trim()) throw userError(t(whole ? "error.emptyDocument" : "error.emptySelection"));
    return text;
  }

  function runTextTask(panel) {
    var output = panel.querySelector("[data-output]"), result = panel.querySelector("[data-result]");
    perform("busy.stream", async function (signal) {
      var text = await taskInput(panel);
      var body = panel.getAttribute("data-source") === "pasted" ? mailBody(text) : { text: text };
      Array.prototype.forEach.call(panel.querySelectorAll("[data-option]"), function (el) { body[el.getAttribute("data-option")] = el.value; });
      output.textContent = "";
      result.hidden = false;
      panel.removeAttribute("data-ready");
      var got;
      try {
        got = await streamKeeping(panel.getAttribute("data-route"), body, signal, function (soFar) {
          output.textContent = soFar;
        });
      } catch (error) {  // nothing half-written or stale stays on offer after an error (Stop keeps its text above)
        output.textContent = "";
        result.hidden = true;
        throw error;
      }
      output.textContent = got.text;
      panel.setAttribute("data-request-id", state.client.lastRequestId);
      panel.setAttribute("data-ready", "true");
      if (got.stopped) throw stoppedError();
    });
  }

  /* A pasted e-mail with its headers goes as the raw message; without them, as its text. */
  function mailBody(text) {
    return /^[A-Za-z][A-Za-z0-9-]*:[^\n]*\n/.test(text.replace(/^\s+/, "")) ? { eml: text } : { body: text };
  }

  function insertTaskResult(panel) {
    var text = panel.querySelector("[data-output]").textContent;
    if (!text || panel.getAttribute("data-ready") !== "true") return;
    perform("busy.working", async function () {
      await window.PlumeWord.insertParagraphsAfterSelection(text);
      state.client.reportInserted([panel.getAttribute("data-request-id")]);
      showMessage("ok", t("task.inserted"));
    });
  }

  /* ---------- Réglages ---------- */

  function showSettings() {
    $("settings-server").value = state.settings.serverUrl;
    $("settings-token").value = state.settings.token;
    $("settings-language").value = state.settings.language;
    showReviewSetting();
  }

  async function saveSettings(event) {
    event.preventDefault();
    state.settings = {
      serverUrl: ($("settings-server").value.trim() || window.location.origin).replace(/\/+$/, ""),
      token: $("settings-token").value.trim(),
      language: $("settings-language").value,
      review: $("settings-review").disabled ? state.settings.review : $("settings-review").value
    };
    try {
      await window.PlumeSettings.save(state.settings);
    } catch (error) {
      return showMessage("error", t("error.word"));
    }
    translatePage();
    state.templates = [];
    showMessage("ok", t("settings.saved"));
    loadCapabilities();
  }

  function testConnection() {
    perform("busy.test", async function (signal) {
      await state.client.json("GET", "/v1/templates", undefined, signal);
      showMessage("ok", t("settings.ok"));
    });
  }

  /* ---------- start ---------- */

  function start() {
    if (state.started) return;
    state.started = true;
    state.settings = window.PlumeSettings.load();
    state.client = new window.PlumeApi.Client(function () { return state.settings; });
    Array.prototype.forEach.call(document.querySelectorAll(".text-task"), setUpTextTask);
    translatePage();
    fillLevels(["B1", "A2"]);
    showSettings();
    $("task").addEventListener("change", function () { showTask($("task").value); });
    $("cancel").addEventListener("click", cancel);
    document.addEventListener("keydown", function (e) { if (e.key === "Escape") cancel(); });
    $("template-search").addEventListener("input", filterTemplates);
    $("template-category").addEventListener("change", filterTemplates);
    $("template-list").addEventListener("change", chooseTemplate);
    $("template-extract").addEventListener("click", extractFromNotes);
    $("template-insert").addEventListener("click", function () { renderLetter("selection"); });
    $("template-new").addEventListener("click", function () { renderLetter("new"); });
    $("plain-run").addEventListener("click", analysePlain);
    $("plain-replace").addEventListener("click", function () { acceptPlain("replace"); });
    $("plain-insert").addEventListener("click", function () { acceptPlain("after"); });
    $("plain-discard").addEventListener("click", discardPlain);
    $("translate-run").addEventListener("click", translateSelection);
    $("proofread-run").addEventListener("click", proofreadSelection);
    $("proofread-all").addEventListener("click", fixAll);
    $("action-apply").addEventListener("click", applyAction);
    $("action-discard").addEventListener("click", discardAction);
    $("settings-form").addEventListener("submit", saveSettings);
    $("settings-test").addEventListener("click", testConnection);
    showTask(state.settings.token ? "modeles" : "reglages");
    loadCapabilities();
    document.body.setAttribute("data-ready", "true");
  }

  function whenDomReady(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn); else fn();
  }

  if (window.Office && Office.onReady) Office.onReady(function () { whenDomReady(start); });
  else whenDomReady(start);
})();
