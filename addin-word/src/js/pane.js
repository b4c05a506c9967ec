/* What every panel of the task pane shares, on one namespace object `window.Plume`: the state (settings,
 * the HTTP client, what the server can do), the strings, the message box, the busy/cancel machinery,
 * the review mode, and the panel registry. Each panel is one script in js/panels/ that calls
 * Plume.panels.register; taskpane.js starts them.
 *
 * A new panel: a <section id="panel-ID"> and an <option value="ID" data-i18n=…> in taskpane.html, its
 * strings in i18n/fr.js and de.js, and js/panels/ID.js (one more <script> line) that registers
 * {id: "ID", init, …}. An option whose panel never registered is shown unavailable, not blank.
 *
 * Plain scripts sharing one object rather than ES modules: settings.js, api.js, ooxml.js and word.js
 * are already written that way, the order of the <script> lines is the order things load in, and it
 * asks nothing of the webview beyond the ES2017 the pane already needs (async/await). */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  // settings: js/settings.js; client: js/api.js; operation: the AbortController of the work under way;
  // review: {mode, locked} from the server; capabilities: the server's `tasks`, null before (or without) it.
  var state = { settings: null, client: null, operation: null, review: null, capabilities: null };

  /* ---------- strings ---------- */

  function t(key, vars) {
    var all = window.PlumeI18n, table = all[state.settings ? state.settings.language : "fr"] || all.fr;
    var text = table[key] !== undefined ? table[key] : (all.fr[key] !== undefined ? all.fr[key] : key);
    return text.replace(/\{(\w+)\}/g, function (_, name) { return vars && vars[name] !== undefined ? vars[name] : ""; });
  }

  /* t(key), or `fallback` when neither language has the key (a level or language code the pane has no name for). */
  function tOr(key, fallback) {
    var text = t(key);
    return text === key ? fallback : text;
  }

  function german() { return state.settings.language === "de"; }

  function translatePage() {
    document.documentElement.lang = german() ? "de-CH" : "fr-CH";
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (el) {
      el.textContent = t(el.getAttribute("data-i18n"));
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n-attr]"), function (el) {
      var parts = el.getAttribute("data-i18n-attr").split(":");
      el.setAttribute(parts[0], t(parts[1]));
    });
  }

  /* ---------- messages ---------- */

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

  /* [sentence, optional code] for an error, in the clerk's language. */
  function explain(error) {
    switch (error && error.kind) {
      case "unreachable": return [t("error.unreachable", { url: state.settings.serverUrl })];
      case "unauthorized": return [t("error.unauthorized")];
      case "forbidden": return [t("error.forbidden")];
      // The server's sentence is written for the clerk (in French); never a shell command: IT has the docs.
      case "model": return [!german() && error.detail ? error.detail : t("error.model")];
      case "busy": return [t("error.busy")];
      case "unavailable": return [error.detail || t("task.unavailableDefault")];
      case "too-long": return [t("error.tooLong")];
      case "cancelled": return [t("error.cancelled")];
      case "stopped": return [t("error.stopped")];
      case "word": return [t("error.word")];
      case "user": return [error.message];
      case "server":  // a refusal the server explains (e.g. a message that looks like phishing): its words
        if (error.status === 422 && error.detail && !german()) return [error.detail];
        return [t("error.server") + " " + (error.detail || error.status)];
      default:
        if (window.console) console.error(error);
        return [t("error.word")];
    }
  }

  function showError(error) {
    var parts = explain(error);
    showMessage(error && (error.kind === "cancelled" || error.kind === "stopped") ? "info" : "error", parts[0], parts[1]);
  }

  function userError(text) { var e = new Error(text); e.kind = "user"; return e; }

  function stoppedError() { var e = new Error("stopped"); e.kind = "stopped"; return e; }

  /* ---------- progress and cancel ---------- */

  /* Run one piece of work with progress and a Cancel button that aborts its fetches. `work(signal,
   * progress)`; progress(key, vars) changes the line beside the bar. One piece of work at a time. */
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
      showError(error);
    } finally {
      state.operation = null;
      $("cancel").textContent = t("common.cancel");
      // Keyboard users go back to the button they pressed, since Cancel is about to hide.
      var onCancel = document.activeElement === $("cancel") || document.activeElement === document.body;
      $("busy").hidden = true;
      document.body.removeAttribute("aria-busy");
      if (onCancel && returnFocus && returnFocus.focus && document.contains(returnFocus)) returnFocus.focus();
    }
  }

  function cancel() { if (state.operation) state.operation.abort(); }

  /* While the work under way can be stopped keeping what it did (a transcription), the Cancel button
   * says so; perform() gives it back its own word at the end. */
  function cancelSays(key) { $("cancel").textContent = t(key); }

  function checkNotCancelled(signal) {
    if (signal.aborted) throw new window.PlumeApi.PlumeError("cancelled");
  }

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

  /* ---------- review: how results go into the text ---------- */

  /* IT's locked mode wins over the clerk's setting. */
  function reviewMode() {
    var review = state.review || {};
    return review.locked && review.mode ? review.mode : state.settings.review;
  }

  /* Put a result in the document as the review mode says (or `mode`), report it used, and tell the
   * clerk what happened (and `then`, what was done after, when given: a function returning a sentence). */
  async function putResult(result, requestIds, doneKey, mode, then) {
    var used = await window.PlumeWord.writeResult(mode || reviewMode(), result, t("review.marker"));
    state.client.reportInserted(requestIds);
    var after = then ? await then() : "";
    showMessage(used === "marked" ? "info" : "ok", [t(doneKey), t("review.done." + used), after].join(" ").trim());
    return used;
  }

  /* A file from the server (a .docx) as base64, for Word's insertFileFromBase64. */
  function blobToBase64(blob) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(String(reader.result).split(",")[1] || ""); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsDataURL(blob);
    });
  }

  /* ---------- the panels ---------- */

  /* A panel: {id, capability?, engineButtons?, init?(section), shown?(), capabilities?(tasks|null),
   * settingsChanged?()}. `id` is its menu option's value and its section's "panel-<id>"; `capability`
   * its key in GET /v1/capabilities `tasks`, whose `available` greys out its `engineButtons` (a
   * selector; by default its run buttons). */
  var registered = [];

  var panels = {
    register: function (panel) { registered.push(panel); },
    get: function (id) { return registered.filter(function (p) { return p.id === id; })[0] || null; },
    all: function () { return registered.slice(); },
    section: function (id) { return $("panel-" + id); }
  };

  window.Plume = {
    $: $, state: state, t: t, tOr: tOr, german: german, translatePage: translatePage,
    showMessage: showMessage, clearMessage: clearMessage, explain: explain, showError: showError,
    userError: userError, stoppedError: stoppedError,
    perform: perform, cancel: cancel, cancelSays: cancelSays, checkNotCancelled: checkNotCancelled,
    streamKeeping: streamKeeping, reviewMode: reviewMode, putResult: putResult, blobToBase64: blobToBase64,
    panels: panels
  };
})();
