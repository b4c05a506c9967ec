/* « Lettre à partir d'un modèle »: find a template, fill its form (by hand or from case notes), insert
 * the letter at the selection or open it as a new document. The form itself: js/template-form.js. */
(function () {
  "use strict";
  var P = window.Plume, $ = P.$, t = P.t, form = P.templateForm;
  var templates = [], template = null;   // the list (loaded once per server), the one chosen

  function loadTemplates() {
    return P.perform("busy.templates", async function (signal) {
      templates = await P.state.client.json("GET", "/v1/templates", undefined, signal);
      if (!templates.length) throw P.userError(t("error.noTemplates"));
      var categories = [];
      templates.forEach(function (tpl) { if (tpl.category && categories.indexOf(tpl.category) === -1) categories.push(tpl.category); });
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
    templates.filter(function (tpl) {
      var haystack = [tpl.title, tpl.id, tpl.category, tpl.service].join(" ").toLowerCase();
      return (!category || tpl.category === category) && words.every(function (w) { return haystack.indexOf(w) !== -1; });
    }).forEach(function (tpl) { list.add(new Option(tpl.title || tpl.id, tpl.id)); });
  }

  function chooseTemplate() {
    var id = $("template-list").value;
    if (!id) return;
    P.perform("busy.templates", async function (signal) {
      template = await P.state.client.json("GET", "/v1/templates/" + encodeURIComponent(id), undefined, signal);
      $("template-title").textContent = template.title || template.id;
      form.build($("template-form"), template.fields);
      showLanguages(template);
      $("template-uncertain").hidden = true;
      $("template-detail").hidden = false;
    });
  }

  /* The languages the template's letter exists in as .docx (French first): a choice only when there are several. */
  function showLanguages(tpl) {
    var formats = tpl.language_formats || {};
    var languages = tpl.languages.filter(function (code) { return !formats[code] || formats[code].indexOf("docx") !== -1; });
    var select = $("template-language");
    select.innerHTML = "";
    languages.forEach(function (code) { select.add(new Option(P.tOr("language." + code, code), code)); });
    $("template-language-box").hidden = languages.length < 2;
  }

  function extractFromNotes() {
    var notes = $("template-notes").value;
    if (!template) return P.showMessage("error", t("error.noTemplate"));
    if (!notes.trim()) return P.showMessage("error", t("error.emptyInput"));
    P.perform("busy.extract", async function (signal) {
      var result = await P.state.client.json("POST", "/v1/templates/" + encodeURIComponent(template.id) + "/extract",
        { text: notes }, signal);
      var doubtful = result.uncertain.concat(result.missing);
      var filled = form.fill(template.fields, result.values, doubtful);
      $("template-uncertain").hidden = !doubtful.length;
      P.showMessage("ok", t("templates.filled", { count: filled }));
    });
  }

  /* The letter as .docx from the server: at the selection ("selection") or in a new document ("new"). */
  function renderLetter(target) {
    if (!template) return P.showMessage("error", t("error.noTemplate"));
    if (target === "new" && !window.PlumeWord.canCreateDocument()) return P.showMessage("error", t("error.newDocument"));
    P.perform("busy.render", async function (signal) {
      var body = { values: form.values(template.fields), format: "docx" };
      if (!$("template-language-box").hidden && $("template-language").value) body.language = $("template-language").value;
      var blob, client = P.state.client;
      try {
        blob = await client.blob("/v1/templates/" + encodeURIComponent(template.id) + "/render", body, signal);
      } catch (error) {
        form.markInvalid(error.errors);
        throw error;
      }
      var requestId = client.lastRequestId, warning = client.lastWarning;
      var base64 = await P.blobToBase64(blob);
      P.checkNotCancelled(signal);
      if (target === "new") await window.PlumeWord.openNewDocument(base64);
      else await window.PlumeWord.insertDocxAtSelection(base64);
      var done = t(target === "new" ? "templates.created" : "templates.inserted", { title: template.title || template.id });
      P.showMessage(warning ? "info" : "ok", warning ? done + " " + warning : done);
      client.reportInserted([requestId]);
    });
  }

  P.panels.register({
    id: "modeles",
    capability: "render",
    engineButtons: "#template-insert, #template-new",
    init: function () {
      $("template-search").addEventListener("input", filterTemplates);
      $("template-category").addEventListener("change", filterTemplates);
      $("template-list").addEventListener("change", chooseTemplate);
      $("template-extract").addEventListener("click", extractFromNotes);
      $("template-insert").addEventListener("click", function () { renderLetter("selection"); });
      $("template-new").addEventListener("click", function () { renderLetter("new"); });
    },
    shown: function () { if (!templates.length && !P.state.operation) loadTemplates(); },
    settingsChanged: function () { templates = []; }   // another server or token: list afresh
  });
})();
