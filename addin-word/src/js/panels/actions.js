/* « Actions de la commune »: the actions IT prepared (GET /v1/actions), listed afresh each time the panel
 * is chosen (a new one appears without restarting Word); one runs on the selection or the whole
 * document, streams its result, and the clerk applies it as the review mode says. */
(function () {
  "use strict";
  var P = window.Plume, $ = P.$, t = P.t;
  var pending = null;   // {original, text, requestId, whole}: the result shown, not yet applied

  /* Not through perform(): listing must not block the clerk, nor take the Cancel button. */
  async function load() {
    var data;
    try { data = await P.state.client.json("GET", "/v1/actions"); } catch (error) {
      var parts = P.explain(error);
      return P.showMessage("error", parts[0], parts[1]);
    }
    var list = $("actions-list");
    list.innerHTML = "";
    data.actions.forEach(function (action) { list.appendChild(item(action)); });
    $("actions-empty").hidden = list.children.length > 0;
    list.setAttribute("data-loaded", String(Date.now()));
  }

  function item(action) {
    var german = P.german(), li = document.createElement("li"), button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.setAttribute("data-action", action.id);
    button.textContent = german ? (action.title_de || action.title) : action.title;
    button.disabled = !action.available;
    button.addEventListener("click", function () { run(action, button.textContent); });
    li.appendChild(button);
    if (!action.available) {
      var why = document.createElement("p");
      why.className = "unavailable";
      why.textContent = (german ? action.reason_de : action.reason) || t("task.unavailableDefault");
      li.appendChild(why);
    }
    return li;
  }

  function run(action, title) {
    $("action-result").hidden = true;
    P.perform("busy.stream", async function (signal) {
      var whole = action.applies_to === "document";
      var text = whole ? await window.PlumeWord.readDocumentText() : await window.PlumeWord.readSelectionText();
      if (!text.trim()) throw P.userError(t(whole ? "error.emptyDocument" : "error.emptySelection"));
      $("action-title").textContent = title;
      $("action-preview").textContent = "";
      $("action-result").hidden = false;
      var got = await P.streamKeeping("/v1/actions/" + encodeURIComponent(action.id) + "/run", { text: text }, signal,
        function (soFar) { $("action-preview").textContent = soFar; });
      $("action-preview").textContent = got.text;
      pending = { original: text, text: got.text, requestId: P.state.client.lastRequestId, whole: whole };
      if (got.stopped) throw P.stoppedError();
    });
  }

  function apply() {
    if (!pending) return;
    P.perform("busy.working", async function () {
      var current = await window.PlumeWord.readSelectionText();
      if (!pending.whole && current !== pending.original) throw P.userError(t("error.selectionChanged"));
      // An action on the whole document cannot replace the selection: its result goes after it.
      await P.putResult({ text: pending.text }, [pending.requestId], "actions.applied", pending.whole ? "after" : null);
      pending = null;
      $("action-result").hidden = true;
    });
  }

  function discard() {
    pending = null;
    $("action-result").hidden = true;
    P.showMessage("info", t("plain.discarded"));
  }

  P.panels.register({
    id: "actions",
    init: function () {
      $("action-apply").addEventListener("click", apply);
      $("action-discard").addEventListener("click", discard);
    },
    shown: load
  });
})();
