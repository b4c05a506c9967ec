/* A stand-in for Office.js in Word, for the browser tests only (served in place of
 * https://appsforoffice.microsoft.com/lib/1/hosted/office.js by Playwright's page.route).
 *
 * It implements the subset of the Word JavaScript API the Plume pane uses, with Word's rules:
 *   - every object is a proxy bound to the RequestContext of its Word.run batch;
 *   - methods only queue work; nothing happens to the document until context.sync();
 *   - reading a property before load() + sync() throws PropertyNotLoaded, like Word;
 *   - ClientResult.value (getOoxml) is only readable after sync();
 *   - a proxy used after its batch ended throws InvalidObjectPath.
 * The document is an in-memory list of paragraphs made of runs (text, bold, italic, underline,
 * hyperlink, font, size, and a tracked `revision`: "Added" or "Deleted" with its author).
 * A range is whole paragraphs, or characters inside one paragraph (what search() finds).
 * Change tracking (WordApi 1.4: document.changeTrackingMode) turns every write into revisions:
 * the replaced text stays as a "Deleted" run, the new text comes as an "Added" run; the tracked
 * changes are read, accepted and rejected through getTrackedChanges() (WordApi 1.6). Text reads
 * show the document without the deleted text, as Word's "Simple Markup" view reads. OOXML goes both ways as a flat pkg:package like Word's getOoxml, and
 * insertFileFromBase64 really unzips the .docx it receives. Word's undo list is kept too: each
 * context.sync() whose writes changed the document is one step (see snapshot), for « one undo step ».
 *
 * Test hooks: window.__word (see the bottom of the file). Options before load:
 * window.__WORD_STANDIN_CONFIG = {displayLanguage, wordApi: "1.3", roamingSettings: true}.
 */
(function () {
  "use strict";
  var config = window.__WORD_STANDIN_CONFIG || {};
  var W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
  var R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
  var PKG = "http://schemas.microsoft.com/office/2006/xmlPackage";
  var RELS = "http://schemas.openxmlformats.org/package/2006/relationships";
  var HYPERLINK_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink";

  /* ---------------- the document ---------------- */

  var model = {
    paragraphs: [para([run("")])],
    selection: { start: 0, end: 0, collapsed: true },
    newDocuments: [],
    tracking: "Off",        // Word.ChangeTrackingMode of the document
    modes: [],              // every changeTrackingMode the API set, in order, for the tests
    operations: [],         // what reached the document, for the tests: ["insertOoxml", …]
    undo: []                // the document before each undo step (see snapshot)
  };

  /* Undo: the add-in's writes that reach the document in one context.sync() are one entry of Word's
   * undo list here (what Ctrl+Z takes back at once); a batch that syncs its writes in several round
   * trips leaves several. Word documents no finer rule for add-ins, so the stand-in takes the
   * strictest reading: « one undo step » means the writes went in one sync. Moving the selection or
   * switching change tracking is not an edit of the text and leaves no entry. */
  function snapshot() { return JSON.stringify(model.paragraphs); }

  function run(text, f) {
    f = f || {};
    return { text: text, bold: !!f.bold, italic: !!f.italic, underline: !!f.underline, href: f.href || null,
             font: f.font || "Calibri", size: f.size || 22, revision: f.revision || null, author: f.author || null };
  }
  function para(runs) { return { runs: runs }; }
  function shown(r) { return r.revision !== "Deleted"; }
  function paraText(p) { return p.runs.filter(shown).map(function (r) { return r.text; }).join(""); }
  /* A paragraph whose every run is a tracked deletion is gone from what the reader sees. */
  function paraShown(p) { return !p.runs.length || p.runs.some(shown); }
  function textOf(paragraphs) { return paragraphs.filter(paraShown).map(paraText).join("\r"); }
  var AUTHOR = config.author || "Utilisateur Word";   // Word writes the signed-in user's name, not the add-in's
  function tracked(runs) {
    if (model.tracking === "Off") return runs;
    runs.forEach(function (r) { r.revision = "Added"; r.author = AUTHOR; });
    return runs;
  }
  function markDeleted(runs) {
    runs.forEach(function (r) {
      if (r.revision === "Added") { r.text = ""; return; }   // deleting one's own insertion just removes it
      r.revision = "Deleted"; r.author = AUTHOR;
    });
  }
  /* Make a run boundary at character `offset` of the shown text; returns the index of the run after it. */
  function splitAt(p, offset) {
    var seen = 0;
    for (var i = 0; i < p.runs.length; i++) {
      var r = p.runs[i];
      if (!shown(r)) continue;
      if (offset === seen) return i;
      if (offset < seen + r.text.length) {
        var tail = JSON.parse(JSON.stringify(r));
        tail.text = r.text.slice(offset - seen);
        r.text = r.text.slice(0, offset - seen);
        p.runs.splice(i + 1, 0, tail);
        return i + 1;
      }
      seen += r.text.length;
    }
    return p.runs.length;
  }
  function sub(at) { return at.from !== undefined; }
  function clone(p) { return JSON.parse(JSON.stringify(p)); }

  function OfficeError(code, message) {
    var e = new Error(message || code);
    e.name = "RichApi.Error";
    e.code = code;
    e.debugInfo = { code: code, message: message || code };
    return e;
  }

  /* ---------------- request context and proxies ---------------- */

  function RequestContext() {
    this._queue = [];
    this._closed = false;
    this.document = new WordDocument(this);
    this.application = new Application(this);
    // Objects kept for a later Word.run(object, batch), as Word's context.trackedObjects.
    this.trackedObjects = {
      add: function (object) { (Array.isArray(object) ? object : [object]).forEach(function (o) { o._tracked = true; }); },
      remove: function (object) { (Array.isArray(object) ? object : [object]).forEach(function (o) { o._tracked = false; }); }
    };
  }
  RequestContext.prototype._enqueue = function (op) {
    if (this._closed) throw OfficeError("InvalidObjectPath", "The object was used outside its Word.run batch.");
    this._queue.push(op);
  };
  RequestContext.prototype.sync = function () {
    var self = this, queue = this._queue;
    this._queue = [];
    return (async function () {
      if (self._closed) throw OfficeError("InvalidObjectPath", "sync() after the batch ended.");
      await new Promise(function (r) { setTimeout(r, 5); });   // a round trip to the host
      var before = snapshot();
      try {
        for (var i = 0; i < queue.length; i++) {
          try { await queue[i](); } catch (error) {
            throw error.code ? error : OfficeError("GeneralException", String(error && error.message || error));
          }
        }
      } finally {
        if (snapshot() !== before) model.undo.push(before);   // what reached the document: one undo step
      }
    })();
  };
  RequestContext.prototype.load = function (object, props) { object.load(props); return object; };

  function ClientObject(context) { this.context = context; this._loaded = {}; }
  ClientObject.prototype.load = function (props) {
    var self = this, names = typeof props === "string" ? props.split(",") : (Array.isArray(props) ? props : Object.keys(props || {}));
    names = names.map(function (n) { return n.trim(); }).filter(Boolean);
    this.context._enqueue(function () {
      names.forEach(function (name) { self._loaded[name] = self._read(name); });
    });
    return this;
  };
  ClientObject.prototype._property = function (name) {
    if (!(name in this._loaded)) {
      throw OfficeError("PropertyNotLoaded", "The property '" + name + "' is not available. Before reading the property's value, call the load method on the containing object and call \"context.sync()\" on the associated request context.");
    }
    return this._loaded[name];
  };

  function ClientResult(context) { this._done = false; this._value = undefined; }
  Object.defineProperty(ClientResult.prototype, "value", {
    get: function () {
      if (!this._done) throw OfficeError("PropertyNotLoaded", "The value of the result object has not been loaded yet. Before reading the value property, call \"context.sync()\" on the associated request context.");
      return this._value;
    }
  });

  function inherit(Child) { Child.prototype = Object.create(ClientObject.prototype); Child.prototype.constructor = Child; }

  function WordDocument(context) { ClientObject.call(this, context); this.body = new Body(context); }
  inherit(WordDocument);
  WordDocument.prototype.getSelection = function () {
    var s = model.selection;
    return new Range(this.context, function () { return Object.assign({}, s); });
  };
  WordDocument.prototype._read = function (name) {
    if (name === "changeTrackingMode") { needApi("1.4", "changeTrackingMode"); return model.tracking; }
    return undefined;
  };
  Object.defineProperty(WordDocument.prototype, "changeTrackingMode", {
    get: function () { return this._property("changeTrackingMode"); },
    set: function (mode) {
      this.context._enqueue(function () {
        needApi("1.4", "changeTrackingMode");
        if (["Off", "TrackAll", "TrackMineOnly"].indexOf(mode) === -1) throw OfficeError("InvalidArgument", "changeTrackingMode " + mode);
        model.tracking = mode;
        model.modes.push(mode);
      });
    }
  });
  function needApi(version, what) {
    if (Number(wordApi) < Number(version)) throw OfficeError("ApiNotFound", what + " needs WordApi " + version + ".");
  }

  function Body(context) { ClientObject.call(this, context); }
  inherit(Body);
  Body.prototype._read = function (name) {
    if (name === "text") return textOf(model.paragraphs);
    throw OfficeError("InvalidArgument", "Body." + name + " is not in the stand-in.");
  };
  Object.defineProperty(Body.prototype, "text", { get: function () { return this._property("text"); } });
  Body.prototype.getTrackedChanges = function () {
    return new TrackedChangeCollection(this.context, function () { return model.paragraphs; });
  };

  /* A range is a span of whole paragraphs [start, end]; `collapsed` is a caret in paragraph start. */
  function Range(context, locate) { ClientObject.call(this, context); this._locate = locate; }
  inherit(Range);
  Range.prototype._read = function (name) {
    var at = this._locate();
    if (name === "text" && sub(at)) return paraText(model.paragraphs[at.start]).slice(at.from, at.to);
    if (name === "text") return at.collapsed ? "" : textOf(model.paragraphs.slice(at.start, at.end + 1));
    if (name === "isEmpty") return !!at.collapsed;
    throw OfficeError("InvalidArgument", "Range." + name + " is not in the stand-in.");
  };
  Object.defineProperty(Range.prototype, "text", { get: function () { return this._property("text"); } });
  Object.defineProperty(Range.prototype, "isEmpty", { get: function () { return this._property("isEmpty"); } });

  Range.prototype.getOoxml = function () {
    var result = new ClientResult(this.context), self = this;
    this.context._enqueue(function () {
      var at = self._locate();
      result._value = toOoxml(at.collapsed ? [] : model.paragraphs.slice(at.start, at.end + 1));
      result._done = true;
    });
    return result;
  };

  function checkLocation(location, allowed) {
    if (allowed.indexOf(location) === -1) throw OfficeError("InvalidArgument", "Invalid insertLocation " + location);
  }

  /* Replace the range's paragraphs by `paragraphs`; a caret in an empty paragraph replaces it, a caret
   * elsewhere inserts after its paragraph. Returns the new range. */
  function replaceParagraphs(at, paragraphs) {
    var start = at.start, count = at.end - at.start + 1;
    if (at.collapsed) {
      if (paraText(model.paragraphs[start]) === "") count = 1; else { start += 1; count = 0; }
    }
    paragraphs.forEach(function (p) { tracked(p.runs); });
    if (model.tracking !== "Off" && count) {
      // Tracked: the old paragraphs stay as deletions, the new ones follow them as insertions.
      model.paragraphs.slice(start, start + count).forEach(function (p) { markDeleted(p.runs); });
      start += count;
      count = 0;
    }
    Array.prototype.splice.apply(model.paragraphs, [start, count].concat(paragraphs));
    if (!model.paragraphs.length) model.paragraphs.push(para([run("")]));
    var end = start + Math.max(paragraphs.length, 1) - 1;
    model.selection = { start: start, end: end, collapsed: false };
    return { start: start, end: end, collapsed: false };
  }

  Range.prototype.insertOoxml = function (ooxml, location) {
    checkLocation(location, ["Replace", "After"]);
    var self = this, after = {};
    this.context._enqueue(function () {
      var paragraphs = fromXmlString(ooxml), at = self._locate();
      if (location === "After") at = { start: at.end, end: at.end, collapsed: true };   // new paragraphs after the range
      Object.assign(after, replaceParagraphs(at, paragraphs));
      model.operations.push("insertOoxml");
    });
    return new Range(this.context, function () { return after; });
  };

  Range.prototype.insertText = function (text, location) {
    checkLocation(location, ["Replace", "Start", "End", "Before", "After"]);
    if (location !== "Replace") throw OfficeError("InvalidArgument", "The stand-in only replaces with insertText.");
    var self = this, after = {};
    this.context._enqueue(function () {
      var at = self._locate();
      if (sub(at)) { Object.assign(after, replaceCharacters(at, String(text))); model.operations.push("insertText"); return; }
      var first = at.collapsed ? run("") : model.paragraphs[at.start].runs.filter(shown)[0] || run("");
      var style = { bold: first.bold, italic: first.italic, underline: first.underline, font: first.font, size: first.size };
      var paragraphs = String(text).split(/\r\n|\r|\n/).map(function (line) { return para([run(line, style)]); });
      Object.assign(after, replaceParagraphs(at, paragraphs));
      model.operations.push("insertText");
    });
    return new Range(this.context, function () { return after; });
  };

  /* Characters inside one paragraph: the new text takes the formatting of the first replaced
   * character (Word keeps the run's bold, italic, font…); the runs around it are untouched. */
  function replaceCharacters(at, text) {
    var p = model.paragraphs[at.start];
    splitAt(p, at.to);
    var i = splitAt(p, at.from), j = splitAt(p, at.to);
    var model0 = p.runs.slice(i, j).filter(shown)[0] || p.runs[i - 1] || run("");
    var style = { bold: model0.bold, italic: model0.italic, underline: model0.underline, href: model0.href,
                  font: model0.font, size: model0.size };
    var fresh = tracked([run(text, style)]);
    if (model.tracking !== "Off") { markDeleted(p.runs.slice(i, j)); p.runs.splice(j, 0, fresh[0]); }
    else p.runs.splice(i, j - i, fresh[0]);
    p.runs = p.runs.filter(function (r) { return r.text !== ""; });
    return { start: at.start, end: at.start, from: at.from, to: at.from + text.length, collapsed: false };
  }

  /* WordApi 1.1: the occurrences of `text` in the range, as ranges inside their paragraph.
   * Like Word, case is ignored unless matchCase; at most 255 characters. */
  Range.prototype.search = function (text, options) {
    options = options || {};
    var self = this, collection = new RangeCollection(this.context);
    if (String(text).length > 255) throw OfficeError("SearchStringInvalidOrTooLong", "The search string is too long.");
    collection._find = function () {
      var at = self._locate(), found = [], needle = options.matchCase ? String(text) : String(text).toLowerCase();
      if (at.collapsed || !needle) return found;
      for (var n = at.start; n <= at.end; n++) {
        var hay = paraText(model.paragraphs[n]), lo = sub(at) ? at.from : 0, hi = sub(at) ? at.to : hay.length;
        if (!options.matchCase) hay = hay.toLowerCase();
        for (var k = hay.indexOf(needle, lo); k !== -1 && k + needle.length <= hi; k = hay.indexOf(needle, k + needle.length)) {
          found.push({ start: n, end: n, from: k, to: k + needle.length, collapsed: false });
        }
      }
      return found;
    };
    return collection;
  };

  /* WordApi 1.3: the whole range (or its content: the same here, a range being whole paragraphs or
   * characters inside one). Start, End and After are not in the stand-in. */
  Range.prototype.getRange = function (location) {
    location = location || "Whole";
    checkLocation(location, ["Whole", "Content"]);
    var self = this;
    this.context._enqueue(function () { needApi("1.3", "getRange"); });
    return new Range(this.context, function () { return Object.assign({}, self._locate()); });
  };

  /* WordApi 1.3: a new range from the start of this one to the end of `other` (or the reverse). */
  Range.prototype.expandTo = function (other) {
    var self = this;
    this.context._enqueue(function () { needApi("1.3", "expandTo"); });
    return new Range(this.context, function () {
      var a = self._locate(), b = other._locate();
      if (sub(a) && sub(b) && a.start === b.start) {
        return { start: a.start, end: a.start, from: Math.min(a.from, b.from), to: Math.max(a.to, b.to), collapsed: false };
      }
      return { start: Math.min(a.start, b.start), end: Math.max(a.end, b.end), collapsed: false };
    });
  };

  Range.prototype.select = function () {
    var self = this;
    this.context._enqueue(function () { model.selection = Object.assign({}, self._locate()); });
  };

  /* WordApi 1.6: the tracked changes in the range (whole paragraphs), one per run of same-type revisions. */
  Range.prototype.getTrackedChanges = function () {
    var self = this;
    return new TrackedChangeCollection(this.context, function () {
      var at = self._locate();
      return at.collapsed ? [] : model.paragraphs.slice(at.start, at.end + 1);
    });
  };

  function RangeCollection(context) { ClientObject.call(this, context); }
  inherit(RangeCollection);
  RangeCollection.prototype.load = function () {
    var self = this;
    this.context._enqueue(function () {
      self._loaded.items = self._find().map(function (loc) {
        var range = new Range(self.context, function () { return loc; });
        range._loaded.text = paraText(model.paragraphs[loc.start]).slice(loc.from, loc.to);
        return range;
      });
    });
    return this;
  };
  Object.defineProperty(RangeCollection.prototype, "items", { get: function () { return this._property("items"); } });

  function TrackedChangeCollection(context, paragraphs) { ClientObject.call(this, context); this._paragraphs = paragraphs; }
  inherit(TrackedChangeCollection);
  TrackedChangeCollection.prototype.load = function () {
    var self = this;
    this.context._enqueue(function () {
      needApi("1.6", "getTrackedChanges");
      self._loaded.items = revisionsIn(self._paragraphs());
    });
    return this;
  };
  Object.defineProperty(TrackedChangeCollection.prototype, "items", { get: function () { return this._property("items"); } });
  TrackedChangeCollection.prototype.acceptAll = function () {
    var self = this;
    this.context._enqueue(function () { needApi("1.6", "acceptAll"); settle(self._paragraphs(), "Added", "Deleted"); });
  };
  TrackedChangeCollection.prototype.rejectAll = function () {
    var self = this;
    this.context._enqueue(function () { needApi("1.6", "rejectAll"); settle(self._paragraphs(), "Deleted", "Added"); });
  };

  function revisionsIn(paragraphs) {
    var items = [];
    paragraphs.forEach(function (p) {
      var last = null;
      p.runs.forEach(function (r) {
        if (!r.revision) { last = null; return; }
        if (last && last.type === r.revision) { last.text += r.text; return; }
        last = { type: r.revision, text: r.text, author: r.author };
        items.push(last);
      });
    });
    return items;
  }

  /* Accept (keep Added, drop Deleted) or reject (keep Deleted, drop Added). */
  function settle(paragraphs, keep, drop) {
    paragraphs.forEach(function (p) {
      var wholly = p.runs.length && p.runs.every(function (r) { return r.revision === drop; });
      p.runs = p.runs.filter(function (r) { return r.revision !== drop; });
      p.runs.forEach(function (r) { if (r.revision === keep) { r.revision = null; r.author = null; } });
      if (wholly) p._gone = true;
    });
    model.paragraphs = model.paragraphs.filter(function (p) { return !p._gone; });
    if (!model.paragraphs.length) model.paragraphs.push(para([run("")]));
  }

  Range.prototype.insertParagraph = function (text, location) {
    checkLocation(location, ["Before", "After"]);
    var self = this, index = {};
    this.context._enqueue(function () {
      var at = self._locate();
      var position = location === "After" ? at.end + 1 : at.start;
      model.paragraphs.splice(position, 0, para(tracked([run(String(text))])));
      index.value = position;
      model.operations.push("insertParagraph");
    });
    return new Paragraph(this.context, function () { return index.value; });
  };

  Range.prototype.insertFileFromBase64 = function (base64, location) {
    checkLocation(location, ["Replace", "Start", "End"]);
    var self = this, after = {};
    this.context._enqueue(async function () {
      var paragraphs = await paragraphsFromDocx(base64);
      Object.assign(after, replaceParagraphs(self._locate(), paragraphs));
      model.operations.push("insertFileFromBase64");
    });
    return new Range(this.context, function () { return after; });
  };

  function Paragraph(context, indexOf) {
    Range.call(this, context, function () { var i = indexOf(); return { start: i, end: i, collapsed: false }; });
  }
  Paragraph.prototype = Object.create(Range.prototype);
  Paragraph.prototype.constructor = Paragraph;

  function Application(context) { ClientObject.call(this, context); }
  inherit(Application);
  Application.prototype._read = function () { return undefined; };
  Application.prototype.createDocument = function (base64) {
    var context = this.context, created = { paragraphs: null, opened: false };
    context._enqueue(async function () {
      created.paragraphs = base64 ? await paragraphsFromDocx(base64) : [para([run("")])];
      model.newDocuments.push(created);
    });
    return {
      open: function () { context._enqueue(function () { created.opened = true; }); }
    };
  };
  if (config.wordApi && config.wordApi < "1.3") delete Application.prototype.createDocument;

  /* ---------------- OOXML out (like Word's getOoxml) ---------------- */

  function esc(text) { return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;"); }

  function toOoxml(paragraphs) {
    var rels = [], body = paragraphs.map(function (p) {
      var xml = '<w:p><w:pPr><w:spacing w:after="160"/></w:pPr>', openLink = null;
      p.runs.filter(shown).forEach(function (r) {
        if (openLink !== r.href) {
          if (openLink) xml += "</w:hyperlink>";
          if (r.href) {
            var id = "rId" + (rels.length + 10);
            rels.push('<Relationship Id="' + id + '" Type="' + HYPERLINK_TYPE + '" Target="' + esc(r.href) + '" TargetMode="External"/>');
            xml += '<w:hyperlink r:id="' + id + '" w:history="1">';
          }
          openLink = r.href;
        }
        xml += "<w:r><w:rPr>" + (r.href ? '<w:rStyle w:val="Hyperlink"/>' : "") +
          '<w:rFonts w:ascii="' + esc(r.font) + '" w:hAnsi="' + esc(r.font) + '"/>' +
          (r.bold ? "<w:b/><w:bCs/>" : "") + (r.italic ? "<w:i/><w:iCs/>" : "") +
          (r.underline ? '<w:u w:val="single"/>' : "") + '<w:sz w:val="' + r.size + '"/></w:rPr>' +
          '<w:t xml:space="preserve">' + esc(r.text) + "</w:t></w:r>";
      });
      if (openLink) xml += "</w:hyperlink>";
      return xml + "</w:p>";
    }).join("");
    return '<pkg:package xmlns:pkg="' + PKG + '">' +
      '<pkg:part pkg:name="/_rels/.rels" pkg:contentType="application/vnd.openxmlformats-package.relationships+xml"><pkg:xmlData>' +
      '<Relationships xmlns="' + RELS + '"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>' +
      "</pkg:xmlData></pkg:part>" +
      '<pkg:part pkg:name="/word/_rels/document.xml.rels" pkg:contentType="application/vnd.openxmlformats-package.relationships+xml"><pkg:xmlData>' +
      '<Relationships xmlns="' + RELS + '">' + rels.join("") + "</Relationships></pkg:xmlData></pkg:part>" +
      '<pkg:part pkg:name="/word/document.xml" pkg:contentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"><pkg:xmlData>' +
      '<w:document xmlns:w="' + W + '" xmlns:r="' + R + '"><w:body>' + body +
      '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:body></w:document></pkg:xmlData></pkg:part></pkg:package>';
  }

  /* ---------------- OOXML in (insertOoxml, and the .docx's document.xml) ---------------- */

  function parseXml(text) {
    var doc = new DOMParser().parseFromString(text, "application/xml");
    if (doc.getElementsByTagName("parsererror").length) throw OfficeError("InvalidArgument", "The OOXML is not well-formed.");
    return doc;
  }

  function relationsIn(doc) {
    var rels = {};
    Array.prototype.forEach.call(doc.getElementsByTagNameNS(RELS, "Relationship"), function (rel) {
      rels[rel.getAttribute("Id")] = rel.getAttribute("Target");
    });
    return rels;
  }

  function fromXmlString(ooxml) {
    var doc = parseXml(ooxml);
    var root = doc.documentElement;
    if (!(root.namespaceURI === PKG && root.localName === "package") && !(root.namespaceURI === W && root.localName === "document")) {
      throw OfficeError("InvalidArgument", "insertOoxml expects a pkg:package or w:document.");
    }
    return paragraphsOf(doc, relationsIn(doc));
  }

  function on(rPr, name) {
    if (!rPr) return false;
    for (var c = rPr.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === 1 && c.namespaceURI === W && c.localName === name) {
        var v = c.getAttributeNS(W, "val");
        return name === "u" ? v !== "none" : (v !== "0" && v !== "false");
      }
    }
    return false;
  }

  function attrOf(rPr, name, attr) {
    var el = rPr && rPr.getElementsByTagNameNS(W, name)[0];
    return el ? el.getAttributeNS(W, attr) : null;
  }

  function paragraphsOf(doc, rels) {
    var body = doc.getElementsByTagNameNS(W, "body")[0];
    if (!body) throw OfficeError("InvalidArgument", "The OOXML has no w:body.");
    return Array.prototype.map.call(body.getElementsByTagNameNS(W, "p"), function (p) {
      var runs = [];
      Array.prototype.forEach.call(p.getElementsByTagNameNS(W, "r"), function (r) {
        var text = "";
        for (var c = r.firstChild; c; c = c.nextSibling) {
          if (c.nodeType !== 1 || c.namespaceURI !== W) continue;
          if (c.localName === "t") text += c.textContent;
          else if (c.localName === "tab") text += "\t";
          else if (c.localName === "br") text += "\n";
        }
        if (!text) return;
        var rPr = null;
        for (var k = r.firstChild; k; k = k.nextSibling) if (k.nodeType === 1 && k.localName === "rPr") rPr = k;
        var href = null;
        for (var a = r.parentNode; a && a !== p; a = a.parentNode) {
          if (a.namespaceURI === W && a.localName === "hyperlink") href = rels[a.getAttributeNS(R, "id")] || ("#" + (a.getAttributeNS(W, "anchor") || ""));
        }
        var size = attrOf(rPr, "sz", "val");
        runs.push(run(text, { bold: on(rPr, "b"), italic: on(rPr, "i"), underline: on(rPr, "u"), href: href,
                              font: attrOf(rPr, "rFonts", "ascii") || "Calibri", size: size ? Number(size) : 22 }));
      });
      return para(runs.length ? runs : [run("")]);
    });
  }

  /* ---------------- .docx (zip) reading for insertFileFromBase64 / createDocument ---------------- */

  function base64ToBytes(base64) {
    var binary;
    try { binary = atob(base64); } catch (e) { throw OfficeError("InvalidArgument", "Not base64."); }
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  async function unzip(bytes) {
    var view = new DataView(bytes.buffer), eocd = -1;
    for (var i = bytes.length - 22; i >= Math.max(0, bytes.length - 65557); i--) {
      if (view.getUint32(i, true) === 0x06054b50) { eocd = i; break; }
    }
    if (eocd < 0) throw OfficeError("InvalidArgument", "The file is not a .docx (no zip directory).");
    var count = view.getUint16(eocd + 10, true), offset = view.getUint32(eocd + 16, true), files = {};
    for (var n = 0; n < count; n++) {
      var method = view.getUint16(offset + 10, true), size = view.getUint32(offset + 20, true);
      var nameLength = view.getUint16(offset + 28, true), extra = view.getUint16(offset + 30, true);
      var comment = view.getUint16(offset + 32, true), local = view.getUint32(offset + 42, true);
      var name = new TextDecoder().decode(bytes.subarray(offset + 46, offset + 46 + nameLength));
      var start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
      files[name] = { method: method, data: bytes.subarray(start, start + size) };
      offset += 46 + nameLength + extra + comment;
    }
    return files;
  }

  async function inflate(entry) {
    if (entry.method === 0) return entry.data;
    var stream = new Blob([entry.data]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  async function paragraphsFromDocx(base64) {
    var files = await unzip(base64ToBytes(base64));
    if (!files["word/document.xml"]) throw OfficeError("InvalidArgument", "The .docx has no word/document.xml.");
    var decode = function (bytes) { return new TextDecoder().decode(bytes); };
    var doc = parseXml(decode(await inflate(files["word/document.xml"])));
    var rels = files["word/_rels/document.xml.rels"] ? relationsIn(parseXml(decode(await inflate(files["word/_rels/document.xml.rels"])))) : {};
    return paragraphsOf(doc, rels);
  }

  /* ---------------- Office and Word globals ---------------- */

  var roaming = null;
  if (config.roamingSettings !== false) {
    var KEY = "__standin.roaming";
    var saved = {};
    try { saved = JSON.parse(window.localStorage.getItem(KEY) || "{}"); } catch (e) { saved = {}; }
    var pending = Object.assign({}, saved);
    roaming = {
      get: function (name) { return pending[name]; },
      set: function (name, value) { pending[name] = value; },
      remove: function (name) { delete pending[name]; },
      saveAsync: function (callback) {
        setTimeout(function () {
          window.localStorage.setItem(KEY, JSON.stringify(pending));
          if (callback) callback({ status: "succeeded" });
        }, 1);
      }
    };
  }

  var wordApi = config.wordApi || "1.3";
  window.Office = {
    HostType: { Word: "Word" },
    context: {
      displayLanguage: config.displayLanguage || "fr-CH",
      roamingSettings: roaming || undefined,
      requirements: {
        isSetSupported: function (name, version) {
          return name === "WordApi" && Number(version || "1.1") <= Number(wordApi);
        }
      }
    },
    onReady: function (callback) {
      return new Promise(function (resolve) {
        setTimeout(function () {
          var info = { host: "Word", platform: "PC" };
          if (callback) callback(info);
          resolve(info);
        }, 10);
      });
    }
  };

  window.Word = {
    ChangeTrackingMode: { off: "Off", trackAll: "TrackAll", trackMineOnly: "TrackMineOnly" },
    InsertLocation: { replace: "Replace", start: "Start", end: "End", before: "Before", after: "After" },
    RequestContext: RequestContext,
    Application: Application,
    /* Word.run(batch), or Word.run(trackedObject, batch): a new batch on an object kept with
     * context.trackedObjects.add() in an earlier one (an untracked one is refused, as in Word). */
    run: async function (object, batch) {
      var context = new RequestContext();
      if (typeof object === "function") batch = object;
      else {
        if (!object || !object._tracked) throw OfficeError("InvalidObjectPath", "Word.run(object): the object is not tracked.");
        object.context = context;
      }
      try {
        var result = await batch(context);
        if (context._queue.length) await context.sync();
        return result;
      } finally {
        context._closed = true;
      }
    }
  };

  /* ---------------- test hooks ---------------- */

  window.__word = {
    /* paragraphs: [[{text, bold, italic, underline, href, font}, …], …] or plain strings */
    setParagraphs: function (paragraphs) {
      model.paragraphs = paragraphs.map(function (p) {
        return para(typeof p === "string" ? [run(p)] : p.map(function (r) { return run(r.text, r); }));
      });
      model.selection = { start: 0, end: 0, collapsed: true };
      model.operations = [];
      model.tracking = "Off";
      model.modes = [];
      model.undo = [];
    },
    /* How many undo steps the add-in's writes left since setParagraphs; undo() takes the last one back (Ctrl+Z). */
    undoSteps: function () { return model.undo.length; },
    undo: function () {
      if (!model.undo.length) return false;
      model.paragraphs = JSON.parse(model.undo.pop());
      return true;
    },
    /* the characters [from, to) of paragraph p, as the clerk would select them */
    selectText: function (p, from, to) { model.selection = { start: p, end: p, from: from, to: to, collapsed: false }; },
    selectedText: function () {
      var s = model.selection;
      if (s.collapsed) return "";
      return sub(s) ? paraText(model.paragraphs[s.start]).slice(s.from, s.to) : textOf(model.paragraphs.slice(s.start, s.end + 1)).replace(/\r/g, "\n");
    },
    setTracking: function (mode) { model.tracking = mode; },
    tracking: function () { return model.tracking; },
    modes: function () { return model.modes.slice(); },
    trackedChanges: function () { return revisionsIn(model.paragraphs); },
    acceptAll: function () { settle(model.paragraphs, "Added", "Deleted"); },
    rejectAll: function () { settle(model.paragraphs, "Deleted", "Added"); },
    select: function (start, end) { model.selection = { start: start, end: end === undefined ? start : end, collapsed: false }; },
    caret: function (index) { model.selection = { start: index, end: index, collapsed: true }; },
    paragraphs: function () { return model.paragraphs.map(clone); },
    text: function () { return textOf(model.paragraphs).replace(/\r/g, "\n"); },
    operations: function () { return model.operations.slice(); },
    newDocuments: function () {
      return model.newDocuments.map(function (d) { return { opened: d.opened, text: (d.paragraphs || []).map(paraText).join("\n") }; });
    }
  };
})();
