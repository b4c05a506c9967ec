/* The Plume task pane's start: the panels that js/panels/*.js registered are set up, the task menu shows
 * one at a time, and what the server can do now (GET /v1/capabilities) greys out what does not work.
 * A menu entry whose panel script did not load (or failed to start) is said unavailable, in words,
 * rather than left as a panel whose buttons do nothing. Shared parts: js/pane.js. */
(function () {
  "use strict";
  var P = window.Plume, $ = P.$, t = P.t, state = P.state;
  var broken = {};   // panel id → true: no script registered it, or its init threw
  var RUN_BUTTONS = "button[id$=-run], button[data-run]";

  /* One select instead of eight tabs: it keeps one height at any pane width (tabs wrapped into 3–4
   * rows at 320–350 px and the page jumped when switching). */
  function menuIds() { return Array.prototype.map.call($("task").options, function (o) { return o.value; }); }

  /* A panel's hook, kept from stopping the others when it throws. */
  function call(panel, hook, arg) {
    if (!panel || broken[panel.id] || !panel[hook]) return;
    try { panel[hook](arg); } catch (error) {
      if (hook === "init") broken[panel.id] = true;
      if (window.console) console.error(error);
    }
  }

  function startPanels() {
    menuIds().forEach(function (id) {
      var panel = P.panels.get(id);
      if (!panel) broken[id] = true;
      else call(panel, "init", P.panels.section(id));
    });
  }

  function showTask(id) {
    $("task").value = id;
    menuIds().forEach(function (other) { P.panels.section(other).hidden = other !== id; });
    call(P.panels.get(id), "shown");
  }

  /* ---------- what works now ---------- */

  /* Why a panel cannot be used now, or "" when it can (or the server did not say). */
  function reasonFor(id) {
    if (broken[id]) return t("task.notLoaded");
    var panel = P.panels.get(id), info = panel.capability && state.capabilities && state.capabilities[panel.capability];
    if (!info || info.available) return "";
    return (P.german() ? info.reason_de : info.reason) || t("task.unavailableDefault");
  }

  /* Each unavailable panel: a note at its top, its run buttons greyed out, « (indisponible) » in the menu. */
  function showAvailability() {
    menuIds().forEach(function (id) {
      var reason = reasonFor(id), section = P.panels.section(id), panel = P.panels.get(id);
      var note = section.querySelector("[data-availability]");
      if (!note) {
        note = document.createElement("p");
        note.className = "unavailable";
        note.setAttribute("data-availability", "");
        note.setAttribute("role", "note");
        section.insertBefore(note, section.firstChild);
      }
      note.textContent = reason;
      note.hidden = !reason;
      Array.prototype.forEach.call(section.querySelectorAll((panel && panel.engineButtons) || RUN_BUTTONS),
        function (button) { button.disabled = !!reason; });
      var option = $("task").querySelector("option[value=" + id + "]"), label = t(option.getAttribute("data-i18n"));
      option.textContent = reason ? label + " (" + t("task.unavailable") + ")" : label;
    });
  }

  /* Never through perform(): it must not block the clerk. An older server without the route: every
   * panel keeps its built-in choices. */
  async function loadCapabilities() {
    var data = null;
    try { data = await state.client.json("GET", "/v1/capabilities"); } catch (error) { data = null; }
    state.capabilities = (data && data.tasks) || null;
    state.review = (data && data.review) || { mode: "tracked", locked: false };
    showAvailability();
    P.panels.all().forEach(function (panel) { call(panel, "capabilities", state.capabilities); });
    document.body.setAttribute("data-capabilities", state.capabilities ? "loaded" : "none");
  }

  /* ---------- start ---------- */

  function start() {
    if (state.settings) return;
    state.settings = window.PlumeSettings.load();
    state.client = new window.PlumeApi.Client(function () { return state.settings; });
    startPanels();
    P.translatePage();
    showAvailability();
    $("task").addEventListener("change", function () { showTask($("task").value); });
    $("cancel").addEventListener("click", P.cancel);
    document.addEventListener("keydown", function (e) { if (e.key === "Escape") P.cancel(); });
    showTask(state.settings.token ? "modeles" : "reglages");
    loadCapabilities();
    document.body.setAttribute("data-ready", "true");
  }

  function whenDomReady(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn); else fn();
  }

  P.loadCapabilities = loadCapabilities;   // the Réglages panel asks again after a save
  if (window.Office && Office.onReady) Office.onReady(function () { whenDomReady(start); });
  else whenDomReady(start);
})();
