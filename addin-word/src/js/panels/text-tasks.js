/* « Résumer », « Procès-verbal », « Fiche explicative », « Accusé de réception »: one shape, four panels.
 * Each section in taskpane.html names its route and task (data-route, data-task); this script adds the
 * scope choice, the run button and the result from <template id="text-task-template">. The result
 * streams in (Stop keeps what was written) and goes after the selection on « Insérer ». */
(function () {
  "use strict";
  var P = window.Plume, $ = P.$, t = P.t;
  // Panel id → its task in GET /v1/capabilities (also its data-task in taskpane.html).
  var TEXT_TASKS = { resumer: "summarize", pv: "minutes", fiche: "factsheet", accuse: "acknowledge" };

  function setUp(panel) {
    var task = panel.getAttribute("data-task");
    panel.appendChild(document.importNode($("text-task-template").content, true));
    var scope = panel.querySelector("[data-scope]");
    if (panel.getAttribute("data-source") === "pasted") scope.parentNode.removeChild(scope);
    else Array.prototype.forEach.call(scope.querySelectorAll("input"), function (radio) { radio.name = task + "-scope"; });
    var runButton = panel.querySelector("[data-run]"), insertButton = panel.querySelector("[data-insert]");
    runButton.setAttribute("data-i18n", "task.run." + task);
    runButton.id = task + "-run";
    insertButton.id = task + "-insert";
    panel.querySelector("[data-output]").id = task + "-output";
    runButton.addEventListener("click", function () { run(panel); });
    insertButton.addEventListener("click", function () { insert(panel); });
  }

  async function input(panel) {
    var pasted = panel.querySelector("[data-input]");
    if (pasted) {
      if (!pasted.value.trim()) throw P.userError(t("error.emptyInput"));
      return pasted.value;
    }
    var whole = panel.querySelector("[data-scope] input:checked").value === "document";
    var text = whole ? await window.PlumeWord.readDocumentText() : await window.PlumeWord.readSelectionText();
    if (!text.trim()) throw P.userError(t(whole ? "error.emptyDocument" : "error.emptySelection"));
    return text;
  }

  function run(panel) {
    var output = panel.querySelector("[data-output]"), result = panel.querySelector("[data-result]");
    P.perform("busy.stream", async function (signal) {
      var text = await input(panel);
      var body = panel.getAttribute("data-source") === "pasted" ? mailBody(text) : { text: text };
      Array.prototype.forEach.call(panel.querySelectorAll("[data-option]"), function (el) { body[el.getAttribute("data-option")] = el.value; });
      output.textContent = "";
      result.hidden = false;
      panel.removeAttribute("data-ready");
      var got;
      try {
        got = await P.streamKeeping(panel.getAttribute("data-route"), body, signal, function (soFar) {
          output.textContent = soFar;
        });
      } catch (error) {  // nothing half-written or stale stays on offer after an error (Stop keeps its text above)
        output.textContent = "";
        result.hidden = true;
        throw error;
      }
      output.textContent = got.text;
      panel.setAttribute("data-request-id", P.state.client.lastRequestId);
      panel.setAttribute("data-ready", "true");
      if (got.stopped) throw P.stoppedError();
    });
  }

  /* A pasted e-mail with its headers goes as the raw message; without them, as its text. */
  function mailBody(text) {
    return /^[A-Za-z][A-Za-z0-9-]*:[^\n]*\n/.test(text.replace(/^\s+/, "")) ? { eml: text } : { body: text };
  }

  function insert(panel) {
    var text = panel.querySelector("[data-output]").textContent;
    if (!text || panel.getAttribute("data-ready") !== "true") return;
    P.perform("busy.working", async function () {
      await window.PlumeWord.insertParagraphsAfterSelection(text);
      P.state.client.reportInserted([panel.getAttribute("data-request-id")]);
      P.showMessage("ok", t("task.inserted"));
    });
  }

  Object.keys(TEXT_TASKS).forEach(function (id) {
    P.panels.register({ id: id, capability: TEXT_TASKS[id], init: setUp });
  });
})();
