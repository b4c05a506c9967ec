/* « Langage clair »: the selection analysed (readability before/after, remarks) and, where something
 * safe can be done, a proposal the clerk puts in place of the selection or after it. The readability
 * band is the server's (`band` in each score): the pane only says it in words. */
(function () {
  "use strict";
  var P = window.Plume, $ = P.$, t = P.t;
  var METRICS = ["kandel_moles", "lix", "rix", "words_per_sentence"];
  var proposal = null;   // {original, text, requestId, unchanged} while a result is shown

  /* « B1 (simple) », « A2 (très simple) »: the level and what it means. */
  function fillLevels(levels) {
    var level = $("plain-level");
    level.innerHTML = "";
    levels.forEach(function (l) { level.add(new Option(P.tOr("plain.level." + l, l), l)); });
  }

  function analyse() {
    P.perform("busy.plain", async function (signal) {
      var text = await window.PlumeWord.readSelectionText();
      if (!text.trim()) throw P.userError(t("error.emptySelection"));
      var result = await P.state.client.json("POST", "/v1/text/plain-language",
        { text: text, level: $("plain-level").value }, signal);
      proposal = { original: text, text: result.text, requestId: P.state.client.lastRequestId,
                   unchanged: result.changed === false || result.text === text };
      show(result);
    });
  }

  function number(value) {
    if (typeof value !== "number") return value === undefined ? "–" : String(value);
    return (Math.round(value * 10) / 10).toLocaleString(P.german() ? "de-CH" : "fr-CH");
  }

  function show(result) {
    $("plain-readability").textContent = t("plain.readabilityLine",
      { before: t("band." + result.before.band), after: t("band." + result.after.band) });
    $("plain-details").open = false;  // the indices only for who asks for them
    showScores(result.before, result.after);
    // Nothing safe to change: said at the top, and nothing offered to put in her document.
    var safe = result.warning_codes.indexOf("nothing-safe"), unchanged = proposal.unchanged;
    $("plain-unchanged").textContent = !unchanged ? "" : safe < 0 ? t("plain.unchanged")
      : P.state.settings.language === "fr" ? result.warnings[safe] : t("warning.nothing-safe");
    $("plain-unchanged").hidden = !unchanged;
    ["plain-proposal", "plain-replace", "plain-insert"].forEach(function (id) { $(id).hidden = unchanged; });
    showRemarks(result.diagnostics.concat(result.warnings.filter(function (w, n) { return n !== safe; })));
    $("plain-preview").textContent = result.text;
    $("plain-result").hidden = false;
  }

  function showScores(before, after) {
    var rows = $("plain-scores");
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
  }

  /* The diagnostics ({message, suggestion}), then the warnings (sentences); « none » when there is nothing. */
  function showRemarks(remarks) {
    var list = $("plain-diagnostics");
    list.innerHTML = "";
    remarks.forEach(function (d) {
      var li = document.createElement("li");
      li.textContent = typeof d === "string" ? d
        : d.suggestion && d.message.indexOf(d.suggestion) === -1 ? d.message + " → " + d.suggestion : d.message;
      list.appendChild(li);
    });
    if (!list.children.length) {
      var none = document.createElement("li");
      none.textContent = t("plain.noDiagnostics");
      list.appendChild(none);
    }
  }

  /* The clerk accepts the proposal: in place of the selection, or after it. */
  function accept(mode) {
    if (!proposal || proposal.unchanged) return;
    P.perform("busy.working", async function () {
      var current = await window.PlumeWord.readSelectionText();
      if (current !== proposal.original) throw P.userError(t("error.selectionChanged"));
      // « Remplacer » follows the review mode (tracked changes by default); « Insérer après » is explicit.
      await P.putResult({ text: proposal.text }, [proposal.requestId],
        mode === "after" ? "plain.inserted" : "plain.replaced", mode === "after" ? "after" : null);
      proposal = null;
      $("plain-result").hidden = true;
    });
  }

  function discard() {
    proposal = null;
    $("plain-result").hidden = true;
    P.showMessage("info", t("plain.discarded"));
  }

  P.panels.register({
    id: "clair",
    capability: "plain-language",
    init: function () {
      fillLevels(["B1", "A2"]);
      $("plain-run").addEventListener("click", analyse);
      $("plain-replace").addEventListener("click", function () { accept("replace"); });
      $("plain-insert").addEventListener("click", function () { accept("after"); });
      $("plain-discard").addEventListener("click", discard);
    },
    capabilities: function (tasks) {
      var levels = tasks && tasks["plain-language"] && tasks["plain-language"].levels;
      if (levels && levels.length) fillLevels(levels);
    }
  });
})();
