/* « Rechercher dans les documents »: a question (the selection when there is one) searched in the
 * commune's collections the clerk may read (POST /v1/search); each passage with its title, article and
 * page, and « Insérer la citation ». « Répondre » asks for an answer built from the passages and
 * checked by the server (POST /v1/search/answer): the answer and its numbered sources, or the server's
 * sentence instead (nothing found; passages only, without a model).
 *
 * Searching and answering are two buttons, not one: a search answers in a tenth of a second, an
 * answer has the model read every passage (seconds per passage for the reference model on a CPU
 * server, docs/search.md), and often the article is all the clerk wants. What goes into the document is the server's own words (a hit's
 * `quotation`, the answer's `insert`), so both sidebars insert the same thing. */
(function () {
  "use strict";
  var P = window.Plume, $ = P.$, t = P.t;
  var MAX_QUERY = 2000;   // the server's limit (api/search.py)
  var HITS = 5;
  var collections = null;      // [{id, title}] the clerk may read, once listed
  var lastSelection = "";      // the selection last put in the question box
  var reply = null;            // {insert, requestId} of the answer shown

  /* ---------- the question and the collections ---------- */

  /* The selection as a question: one line, within the server's limit. Not through perform(): choosing
   * the panel must not take the Cancel button. Her own typing is kept unless she selected something new. */
  async function fillFromSelection() {
    var text;
    try { text = await window.PlumeWord.readSelectionText(); } catch (error) { return; }
    text = text.replace(/\s+/g, " ").trim().slice(0, MAX_QUERY);
    if (!text || text === lastSelection) return;
    lastSelection = text;
    $("search-query").value = text;
  }

  async function loadCollections() {
    if (collections) return;
    var data;
    try { data = await P.state.client.json("GET", "/v1/collections"); } catch (error) {
      if (error.kind === "unavailable") return;   // no collections here: the panel says why, greyed
      var parts = P.explain(error);
      return P.showMessage("error", parts[0], parts[1]);
    }
    collections = data.collections;
    var box = $("search-collections");
    Array.prototype.slice.call(box.querySelectorAll("label")).forEach(function (l) { box.removeChild(l); });
    collections.forEach(function (c) {
      var label = document.createElement("label"), input = document.createElement("input");
      input.type = "checkbox";
      input.value = c.id;
      input.checked = true;   // all of hers by default
      var title = document.createElement("span");
      title.textContent = c.title;
      label.appendChild(input);
      label.appendChild(title);
      box.appendChild(label);
    });
    box.setAttribute("data-loaded", "true");
  }

  /* null (every collection she may read) when all are ticked; the ids ticked otherwise. */
  function chosenCollections() {
    var boxes = Array.prototype.slice.call($("search-collections").querySelectorAll("input[type=checkbox]"));
    var ticked = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    if (boxes.length && !ticked.length) throw P.userError(t("search.noCollection"));
    return ticked.length === boxes.length ? null : ticked;
  }

  function request() {
    var query = $("search-query").value.trim();
    if (!query) throw P.userError(t("search.emptyQuestion"));
    return { query: query, collections: chosenCollections(), k: HITS };
  }

  /* ---------- searching ---------- */

  function search(event) {
    if (event) event.preventDefault();   // Enter in the question box submits the form
    P.perform("busy.search", async function (signal) {
      var body = request();
      var result = await P.state.client.json("POST", "/v1/search", body, signal);
      hideReply();
      showHits(result.hits, P.state.client.lastRequestId, "search.hits");
    });
  }

  /* The passages, numbered as the answer cites them ([1], [2]…), each with its citation to insert. */
  function showHits(hits, requestId, titleKey) {
    var list = $("search-hits");
    list.innerHTML = "";
    hits.forEach(function (hit, n) { list.appendChild(hitItem(hit, n + 1, requestId)); });
    $("search-results-title").textContent = t(titleKey);
    $("search-none").hidden = hits.length > 0;
    $("search-results").hidden = false;
  }

  function hitItem(hit, number, requestId) {
    var li = document.createElement("li");
    li.className = "hit";
    li.setAttribute("data-document", hit.document);
    li.setAttribute("data-locator", hit.locator || "");
    var title = document.createElement("p");
    title.className = "hit-title";
    title.textContent = "[" + number + "] " + hit.title;
    li.appendChild(title);
    var where = place(hit);
    if (where) {
      var line = document.createElement("p");
      line.className = "hit-where";
      line.textContent = where;
      li.appendChild(line);
    }
    var text = document.createElement("blockquote");
    text.className = "hit-text";
    text.tabIndex = 0;   // long passages scroll: reachable from the keyboard
    text.textContent = hit.text;
    li.appendChild(text);
    var insert = document.createElement("button");
    insert.type = "button";
    insert.className = "secondary insert-citation";
    insert.textContent = t("search.insertCitation");
    insert.setAttribute("aria-label", t("search.insertCitation") + " [" + number + "]");
    insert.addEventListener("click", function () { insertCitation(hit, requestId); });
    li.appendChild(insert);
    return li;
  }

  /* « art. 13 · p. 2 », or the heading the passage sits under when it is no article (a FAQ). */
  function place(hit) {
    var heading = (hit.heading || "").split("›").pop().trim();
    var parts = [hit.locator || heading];
    if (hit.page) parts.push(t("search.page", { page: hit.page }));
    return parts.filter(Boolean).join(" · ");
  }

  function insertCitation(hit, requestId) {
    P.perform("busy.working", async function () {
      await P.putResult({ text: hit.quotation }, [requestId], "search.citationInserted");
    });
  }

  /* ---------- answering ---------- */

  function answer() {
    P.perform("busy.answer", async function (signal) {
      var body = request();
      var result = await P.state.client.json("POST", "/v1/search/answer", body, signal);
      showReply(result, P.state.client.lastRequestId);
    });
  }

  function hideReply() { reply = null; $("search-reply").hidden = true; }

  /* The answer and its sources; or the server's sentence (nothing found, passages only) in her language. */
  function showReply(result, requestId) {
    var answered = result.kind === "answer" && !!result.answer;
    var message = P.german() ? (result.message_de || result.message) : result.message;
    $("search-reply-message").textContent = message || "";
    $("search-reply-message").hidden = !message;
    $("search-reply-text").textContent = answered ? result.answer : "";
    $("search-reply-text").hidden = !answered;
    fillList($("search-sources"), answered ? result.sources : []);
    $("search-sources-title").hidden = $("search-sources").hidden;
    fillList($("search-warnings"), result.warnings || []);
    reply = answered && result.insert ? { insert: result.insert, requestId: requestId } : null;
    $("search-reply-insert").hidden = !reply;
    $("search-reply").hidden = false;
    if (result.citations.length) showHits(result.citations, requestId, answered ? "search.cited" : "search.hits");
    else $("search-results").hidden = true;
  }

  function fillList(list, lines) {
    list.innerHTML = "";
    lines.forEach(function (line) {
      var li = document.createElement("li");
      li.textContent = line;
      list.appendChild(li);
    });
    list.hidden = !lines.length;
  }

  function insertAnswer() {
    if (!reply) return;
    var chosen = reply;
    P.perform("busy.working", async function () {
      await P.putResult({ text: chosen.insert }, [chosen.requestId], "search.answerInserted");
    });
  }

  /* What the server can do now: « Répondre » follows `answer` (the search's own state greys both
   * buttons, in taskpane.js); the collections are listed once search works. */
  function capabilitiesChanged(tasks) {
    if (tasks && tasks.answer && !tasks.answer.available) $("search-answer").disabled = true;
    if (!P.panels.section("rechercher").hidden) loadCollections();
  }

  P.panels.register({
    id: "rechercher",
    capability: "search",
    engineButtons: "#search-run, #search-answer",
    init: function () {
      $("search-form").addEventListener("submit", search);
      $("search-answer").addEventListener("click", answer);
      $("search-reply-insert").addEventListener("click", insertAnswer);
    },
    shown: function () {
      fillFromSelection();
      loadCollections();
    },
    capabilities: capabilitiesChanged,
    settingsChanged: function () { collections = null; }   // another server or token: listed afresh
  });
})();
