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

  async function run(batch) {
    try { return await Word.run(batch); } catch (error) {
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

  window.PlumeWord = {
    readSelectionText: readSelectionText, readDocumentText: readDocumentText,
    readSelectionOoxml: readSelectionOoxml, replaceSelectionOoxml: replaceSelectionOoxml,
    replaceSelectionText: replaceSelectionText, insertParagraphsAfterSelection: insertParagraphsAfterSelection,
    insertDocxAtSelection: insertDocxAtSelection, canCreateDocument: canCreateDocument, openNewDocument: openNewDocument
  };
})();
