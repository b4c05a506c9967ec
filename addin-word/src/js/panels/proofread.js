/* « Corriger »: the selection checked by the server (Grammalecte); errors listed beside the text, each
 * found in the document on click (Word has no character offsets: its n-th occurrence is searched), and
 * fixed in place, one or all, as tracked changes where the review mode says so. */
(function () {
  "use strict";
  var P = window.Plume, $ = P.$, t = P.t;
  var proof = null;   // {scope: the kept Word range, text: as it now reads, errors} after a check

  function check() {
    $("proofread-result").hidden = true;
    P.perform("busy.proofread", async function (signal) {
      var kept = await window.PlumeWord.keepSelection();
      if (!kept.text.trim()) throw P.userError(t("error.emptySelection"));
      var result = await P.state.client.json("POST", "/v1/text/proofread", { text: kept.text }, signal);
      proof = { scope: kept.range, text: kept.text, errors: result.errors };
      show(result);
    });
  }

  function show(result) {
    var list = $("proofread-errors"), errors = proof.errors, codes = result.warning_codes;
    list.innerHTML = "";
    var notes = result.warnings.map(function (w, n) { return warningText(w, codes[n], result.language); }).join(" ");
    $("proofread-summary").textContent = result.checked === null && notes ? notes
      : (errors.length ? t("proofread.found", { count: errors.length }) : t("proofread.none")) + (notes ? " " + notes : "");
    errors.forEach(function (error, n) { list.appendChild(errorItem(error, n)); });
    $("proofread-all").hidden = !errors.some(function (e) { return e.unambiguous; });
    $("proofread-result").hidden = false;
  }

  /* A server's warning: its French sentence, or this pane's own for a code it knows (« only-french »
   * in German), with the text's language by name. */
  function warningText(sentence, code, language) {
    var table = window.PlumeI18n[P.state.settings.language];
    if (P.state.settings.language === "fr" || !code || !language || !table || !table["warning." + code]) return sentence;
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
    where.addEventListener("click", function () { locate(n); });
    var message = document.createElement("p");
    message.className = "error-message";
    message.textContent = error.message;
    li.appendChild(where);
    li.appendChild(message);
    var choices = document.createElement("div");
    choices.className = "suggestions";
    error.suggestions.forEach(function (suggestion) {
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
    var text = proof.text, needle = error.text, index = 0, k;
    if (!needle || needle.indexOf("\n") !== -1) return -1;
    for (k = text.indexOf(needle); k !== -1 && k < error.start; k = text.indexOf(needle, k + needle.length)) index++;
    return k === error.start ? index : -1;   // Word searches the same way: left to right, no overlap
  }

  function locate(n) {
    var error = proof.errors[n];
    P.perform("busy.working", async function () {
      var index = occurrenceOf(error);
      if (error.fixed || error.stale || index < 0 || !(await window.PlumeWord.selectOccurrence(proof.scope, error.text, index))) {
        throw P.userError(t("proofread.notFound"));
      }
    });
  }

  /* Apply suggestions in place, from the end of the text to its start (so the positions still hold),
   * in one batch; the replaced characters keep their run's formatting. */
  function applyFixes(indexes, choices) {
    var fixes = indexes.map(function (n, k) { return { n: n, error: proof.errors[n], text: choices[k] }; })
      .filter(function (f) { return !f.error.fixed && !f.error.stale; })
      .sort(function (a, b) { return b.error.start - a.error.start; });
    if (!fixes.length) return;
    P.perform("busy.working", async function () {
      // An error whose place cannot be told (index -1) is found nowhere, so never applied elsewhere.
      var asked = fixes.map(function (f) { return { needle: f.error.text, index: occurrenceOf(f.error), text: f.text }; });
      var tracked = P.reviewMode() === "tracked";
      var done = await window.PlumeWord.replaceOccurrences(proof.scope, asked, tracked);
      var applied = 0;
      fixes.forEach(function (f, k) {
        if (!done[k]) return;
        applied++;
        markFixed(f.n, f.text);
      });
      if (!applied) throw P.userError(t("proofread.notFound"));
      var said = window.PlumeWord.canTrack() && tracked ? "proofread.appliedTracked" : "proofread.applied";
      P.showMessage("ok", t(said, { count: applied }));
    });
  }

  /* The checked text as it now reads, every later error moved by the change in length; an error
   * that overlapped the fixed one is gone with it (its characters changed), as in LibreOffice. */
  function markFixed(n, replacement) {
    var error = proof.errors[n], delta = replacement.length - (error.end - error.start);
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
    proof.errors.map(function (e, n) { return { e: e, n: n }; })
      .sort(function (a, b) { return a.e.start - b.e.start; })
      .forEach(function (x) {
        var e = x.e;
        if (!e.unambiguous || e.fixed || e.stale || e.start < end) return;
        indexes.push(x.n); choices.push(e.suggestions[0]); end = e.end;
      });
    applyFixes(indexes, choices);
  }

  P.panels.register({
    id: "corriger",
    capability: "proofread",
    init: function () {
      $("proofread-run").addEventListener("click", check);
      $("proofread-all").addEventListener("click", fixAll);
    }
  });
})();
