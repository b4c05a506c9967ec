/* Everything the pane does to the document, through the Word JavaScript API (WordApi 1.3).
 * Each function is one Word.run batch: reads happen before the server is asked anything, writes
 * happen only after the server answered, so an error never leaves the document half changed. */
(function () {
  "use strict";

  function wordError(error) {
    var wrapped = new Error("word");
    wrapped.kind = "word";
    wrapped.cause = error;
    return wrapped;
  }

  /* One Word.run batch; with `kept`, a batch on that range kept from an earlier one. */
  async function run(batch, kept) {
    try { return await (kept ? Word.run(kept, batch) : Word.run(batch)); } catch (error) {
      if (error && error.kind) throw error;
      throw wordError(error);
    }
  }

  /* Word separates paragraphs with \r (and a manual line break is \v): the server gets \n, as from
   * every other client, so headings are never glued to the sentence after them. */
  function lines(text) { return String(text).replace(/\r\n?|\v/g, "\n"); }

  function readSelectionText() {
    return run(async function (context) {
      var range = context.document.getSelection();
      range.load("text");
      await context.sync();
      return lines(range.text);
    });
  }

  function readDocumentText() {
    return run(async function (context) {
      var body = context.document.body;
      body.load("text");
      await context.sync();
      return lines(body.text);
    });
  }

  function readSelectionOoxml() {
    return run(async function (context) {
      var ooxml = context.document.getSelection().getOoxml();
      await context.sync();
      return ooxml.value;
    });
  }

  function replaceSelectionOoxml(ooxml) {
    return run(async function (context) {
      context.document.getSelection().insertOoxml(ooxml, "Replace");
      await context.sync();
    });
  }

  /* Plain text replacing the selection; one paragraph per line break, as Word's insertText does. */
  function replaceSelectionText(text) {
    return run(async function (context) {
      context.document.getSelection().insertText(text, "Replace");
      await context.sync();
    });
  }

  /* New paragraphs right after the selection, in order. */
  function insertParagraphsAfterSelection(text) {
    var lines = text.replace(/\r\n/g, "\n").split(/\n/);
    return run(async function (context) {
      var anchor = context.document.getSelection();
      lines.forEach(function (line) { anchor = anchor.insertParagraph(line, "After"); });
      await context.sync();
    });
  }

  function insertDocxAtSelection(base64) {
    return run(async function (context) {
      context.document.getSelection().insertFileFromBase64(base64, "Replace");
      await context.sync();
    });
  }

  function canCreateDocument() {
    return !!(window.Office && Office.context && Office.context.requirements &&
      Office.context.requirements.isSetSupported("WordApi", "1.3") &&
      window.Word && Word.Application && Word.Application.prototype &&
      typeof Word.Application.prototype.createDocument === "function");
  }

  function openNewDocument(base64) {
    return run(async function (context) {
      context.application.createDocument(base64).open();
      await context.sync();
    });
  }

  /* ---------- review: how a result goes into the text (tracked changes, replace, insert after) ---------- */

  /* Change tracking from the API needs WordApi 1.4 (Word 2021, Microsoft 365); Word 2019 has 1.3. */
  function canTrack() {
    return !!(window.Office && Office.context && Office.context.requirements &&
      Office.context.requirements.isSetSupported("WordApi", "1.4"));
  }

  /* Queue `write(context)` with the document's change tracking on, then put back the clerk's own
   * mode: Word records each change as a revision she accepts or rejects (Révision › Accepter). */
  async function tracking(context, write) {
    var doc = context.document;
    doc.load("changeTrackingMode");
    await context.sync();
    var before = doc.changeTrackingMode;
    doc.changeTrackingMode = Word.ChangeTrackingMode.trackAll;
    try {
      var result = write(context);
      await context.sync();
      return result;
    } finally {
      doc.changeTrackingMode = before;
      await context.sync();
    }
  }

  /* Put a result in the document as the review mode says. `result` has `text` (plain, one paragraph per
   * line), or `ooxml` (the selection rewritten with its formatting, for translations), or `docx` (a
   * whole .docx in base64: a letter or a PV from the commune's template); with `select`, what was
   * inserted is selected afterwards (e.g. a transcript, for the next step to work on).
   * Every write is queued before one context.sync(): one undo step in Word.
   * Returns the mode really used: "tracked", "replace", "after", or "marked" (tracked changes asked
   * for but this Word cannot: the result goes after the selection under a clear heading). */
  function writeResult(mode, result, marker) {
    if (mode === "tracked" && !canTrack()) mode = "marked";
    return run(async function (context) {
      var selection = context.document.getSelection(), inserted = null;
      function replace() { inserted = replaceWith(selection, result); }
      if (mode === "tracked") await tracking(context, replace);
      else if (mode === "replace") replace();
      else {
        // After the selection, in reading order: the heading first (if any), then the result.
        inserted = insertAfter(selection, result);
        if (mode === "marked") selection.insertParagraph(marker, "After");
      }
      if (result.select && inserted) spanning(inserted).select();
      await context.sync();
      return mode;
    });
  }

  /* The result in place of the range; [first, last] of what it now fills. */
  function replaceWith(range, result) {
    var filled = result.docx ? range.insertFileFromBase64(result.docx, "Replace")
      : result.ooxml ? range.insertOoxml(result.ooxml, "Replace") : range.insertText(result.text, "Replace");
    return [filled, filled];
  }

  /* The result in new paragraphs after the range; [first, last] of what they fill.
   * Range.insertFileFromBase64 takes no "After" (only Replace, Start, End): the .docx fills an empty
   * paragraph put there first. */
  function insertAfter(range, result) {
    var filled;
    if (result.docx) filled = range.insertParagraph("", "After").getRange("Whole").insertFileFromBase64(result.docx, "Replace");
    else if (result.ooxml) filled = range.insertOoxml(result.ooxml, "After");
    if (filled) return [filled, filled];
    var first = null, anchor = range;
    String(result.text).replace(/\r\n?/g, "\n").split("\n").forEach(function (line) {
      anchor = anchor.insertParagraph(line, "After");
      first = first || anchor;
    });
    return [first, anchor];
  }

  /* One range over [first, last] (WordApi 1.3's expandTo), asked for only when it is to be selected. */
  function spanning(ends) {
    return ends[0] === ends[1] ? ends[0] : ends[0].getRange("Whole").expandTo(ends[1].getRange("Whole"));
  }

  /* ---------- proofreading: errors found in a range kept across batches ---------- */

  /* The selection, kept (trackedObjects) so the errors can be found in it after the clerk moved on. */
  function keepSelection() {
    return run(async function (context) {
      var range = context.document.getSelection();
      range.load("text");
      context.trackedObjects.add(range);
      await context.sync();
      return { range: range, text: lines(range.text) };
    });
  }

  /* The n-th occurrence (0-based) of `needle` in the kept range; null when the text changed. */
  async function occurrence(context, scope, needle, index) {
    var found = scope.search(needle, { matchCase: true });
    found.load("text");
    await context.sync();
    var hit = found.items[index];
    return hit && hit.text === needle ? hit : null;
  }

  function selectOccurrence(scope, needle, index) {
    return run.call(null, async function (context) {
      var hit = await occurrence(context, scope, needle, index);
      if (hit) hit.select();
      await context.sync();
      return !!hit;
    }, scope);
  }

  /* Replace occurrences in place — `fixes` [{needle, index, text}] from the end of the text to its start,
   * so each one's position is still right — as tracked changes or not. Returns how many were applied. */
  function replaceOccurrences(scope, fixes, track) {
    return run.call(null, async function (context) {
      var hits = [];
      for (var n = 0; n < fixes.length; n++) hits.push(await occurrence(context, scope, fixes[n].needle, fixes[n].index));
      var write = function () {
        hits.forEach(function (hit, n) { if (hit) hit.insertText(fixes[n].text, "Replace"); });
      };
      if (track && canTrack()) await tracking(context, write); else { write(); await context.sync(); }
      return hits.map(function (hit) { return !!hit; });
    }, scope);
  }

  window.PlumeWord = {
    canTrack: canTrack, writeResult: writeResult, keepSelection: keepSelection,
    selectOccurrence: selectOccurrence, replaceOccurrences: replaceOccurrences,
    readSelectionText: readSelectionText, readDocumentText: readDocumentText,
    readSelectionOoxml: readSelectionOoxml, replaceSelectionOoxml: replaceSelectionOoxml,
    replaceSelectionText: replaceSelectionText, insertParagraphsAfterSelection: insertParagraphsAfterSelection,
    insertDocxAtSelection: insertDocxAtSelection, canCreateDocument: canCreateDocument, openNewDocument: openNewDocument
  };
})();
