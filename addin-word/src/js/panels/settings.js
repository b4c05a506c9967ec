/* « Réglages »: server address, personal token, language and review mode (stored by js/settings.js).
 * Saving re-translates the pane and asks the server again what it can do; every panel hears of it
 * (settingsChanged), e.g. the letters are listed afresh from the new server. */
(function () {
  "use strict";
  var P = window.Plume, $ = P.$, t = P.t;

  function show() {
    var settings = P.state.settings;
    $("settings-server").value = settings.serverUrl;
    $("settings-token").value = settings.token;
    $("settings-language").value = settings.language;
    showReview();
  }

  /* The mode in force; greyed out with a note when IT locked it. */
  function showReview() {
    var locked = !!(P.state.review && P.state.review.locked);
    $("settings-review").value = P.reviewMode();
    $("settings-review").disabled = locked;
    $("settings-review-locked").hidden = !locked;
  }

  async function save(event) {
    event.preventDefault();
    var settings = {
      serverUrl: ($("settings-server").value.trim() || window.location.origin).replace(/\/+$/, ""),
      token: $("settings-token").value.trim(),
      language: $("settings-language").value,
      review: $("settings-review").disabled ? P.state.settings.review : $("settings-review").value  // IT's lock is not hers
    };
    P.state.settings = settings;
    try {
      await window.PlumeSettings.save(settings);
    } catch (error) {
      return P.showMessage("error", t("error.word"));
    }
    P.translatePage();
    P.panels.all().forEach(function (panel) { if (panel.settingsChanged) panel.settingsChanged(); });
    P.showMessage("ok", t("settings.saved"));
    P.loadCapabilities();
  }

  function testConnection() {
    P.perform("busy.test", async function (signal) {
      await P.state.client.json("GET", "/v1/templates", undefined, signal);
      P.showMessage("ok", t("settings.ok"));
    });
  }

  P.panels.register({
    id: "reglages",
    init: function () {
      show();
      $("settings-form").addEventListener("submit", save);
      $("settings-test").addEventListener("click", testConnection);
    },
    capabilities: showReview   // the server's review mode, locked or not
  });
})();
