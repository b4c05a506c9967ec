/* Settings: server URL, personal token, language, review mode (how results go into the text:
 * "tracked" changes — the default —, "replace" the selection, or insert "after" it).
 * Office roaming settings when the host has them (they follow the user, not the document);
 * otherwise the webview's localStorage. Never the document's own settings: the token must not
 * travel inside a .docx. */
(function () {
  "use strict";
  var PREFIX = "plume.";
  var KEYS = ["serverUrl", "token", "language", "review"];
  var REVIEW_MODES = ["tracked", "replace", "after"];

  function roaming() {
    var ctx = window.Office && Office.context;
    return ctx && ctx.roamingSettings ? ctx.roamingSettings : null;
  }

  function read(key) {
    var store = roaming();
    if (store) {
      var value = store.get(PREFIX + key);
      return value === undefined || value === null ? "" : String(value);
    }
    try { return window.localStorage.getItem(PREFIX + key) || ""; } catch (e) { return ""; }
  }

  function load() {
    var settings = {};
    KEYS.forEach(function (key) { settings[key] = read(key); });
    if (!settings.serverUrl) settings.serverUrl = window.location.origin;
    settings.serverUrl = settings.serverUrl.replace(/\/+$/, "");
    if (settings.language !== "de" && settings.language !== "fr") settings.language = defaultLanguage();
    if (REVIEW_MODES.indexOf(settings.review) === -1) settings.review = "tracked";
    return settings;
  }

  function save(settings) {
    var store = roaming();
    return new Promise(function (resolve, reject) {
      if (!store) {
        try {
          KEYS.forEach(function (key) { window.localStorage.setItem(PREFIX + key, settings[key] || ""); });
          resolve();
        } catch (e) { reject(e); }
        return;
      }
      KEYS.forEach(function (key) { store.set(PREFIX + key, settings[key] || ""); });
      store.saveAsync(function (result) {
        if (result && result.status === "failed") reject(result.error); else resolve();
      });
    });
  }

  function defaultLanguage() {
    var ctx = window.Office && Office.context;
    var lang = (ctx && ctx.displayLanguage) || navigator.language || "fr";
    return /^de/i.test(lang) ? "de" : "fr";
  }

  window.PlumeSettings = { load: load, save: save, defaultLanguage: defaultLanguage, REVIEW_MODES: REVIEW_MODES };
})();
