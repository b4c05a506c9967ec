/* « Traduire »: the selection translated paragraph by paragraph, as HTML so that bold, italics,
 * underline and links come back on the right words (js/ooxml.js), then put in the document as the
 * review mode says. The languages offered are those the server can translate now. */
(function () {
  "use strict";
  var P = window.Plume, $ = P.$, t = P.t;

  function translateSelection() {
    $("translate-done").hidden = true;
    P.perform("busy.working", async function (signal, progress) {
      var pkg = window.PlumeOoxml.parsePackage(await window.PlumeWord.readSelectionOoxml());
      if (!pkg.paragraphs.length) throw P.userError(t("error.emptySelection"));
      var source = $("translate-source").value, target = $("translate-target").value, ids = [], notes = [];
      for (var n = 0; n < pkg.paragraphs.length; n++) {
        progress("busy.translate", { n: n + 1, total: pkg.paragraphs.length });
        var body = { text: pkg.paragraphs[n].html, target: target, format: "html" };
        if (source) body.source = source;
        var result = await P.state.client.json("POST", "/v1/text/translate", body, signal);
        ids.push(P.state.client.lastRequestId);
        result.warnings.forEach(function (note) { if (note && notes.indexOf(note) === -1) notes.push(note); });
        window.PlumeOoxml.applyTranslation(pkg.paragraphs[n], result.text);
      }
      P.checkNotCancelled(signal);
      var used = await window.PlumeWord.writeResult(P.reviewMode(), { ooxml: window.PlumeOoxml.serialize(pkg.doc) },
        t("review.marker"));
      P.state.client.reportInserted(ids);
      // Words the translator did not know stay as written: say which, so the clerk checks them.
      P.showMessage(used === "marked" ? "info" : "ok",
        [t("translate.done", { count: pkg.paragraphs.length })].concat(notes, [t("review.done." + used)]).join(" ").trim());
    });
  }

  function fillLanguages(select, codes, names, chosen, firstLabel) {
    select.innerHTML = "";
    if (firstLabel !== undefined) select.add(new Option(firstLabel, ""));
    codes.forEach(function (code) { select.add(new Option(names[code] || code, code)); });
    if (chosen) select.value = chosen;
  }

  /* Working target languages by name, the first that works by default; the sources of the working pairs. */
  function offerLanguages(translate) {
    var names = (P.german() ? translate.languages_de : translate.languages) || {};
    fillLanguages($("translate-target"), translate.targets || [], names, translate.default_target);
    var sources = [];
    (translate.pairs || []).forEach(function (pair) {
      var source = String(pair).split("-")[0];
      if (sources.indexOf(source) === -1) sources.push(source);
    });
    fillLanguages($("translate-source"), sources, names, "", t("translate.detect"));
  }

  P.panels.register({
    id: "traduire",
    capability: "translate",
    init: function () { $("translate-run").addEventListener("click", translateSelection); },
    // An older server without the route keeps the built-in choices of taskpane.html.
    capabilities: function (tasks) { if (tasks && tasks.translate) offerLanguages(tasks.translate); }
  });
})();
