/* Translation that keeps formatting: the selection's OOXML (as Word's getOoxml gives it, a
 * pkg:package) is read paragraph by paragraph; each paragraph's runs become one HTML segment with
 * <b>, <i>, <u> and <a> tags; the translated HTML is written back into the same runs, so fonts,
 * sizes, colours and hyperlinks stay as they were. Pure functions, no Word API here. */
(function () {
  "use strict";
  var W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
  var R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
  var PKG = "http://schemas.microsoft.com/office/2006/xmlPackage";
  var XML_NS = "http://www.w3.org/XML/1998/namespace";

  function parsePackage(xml) {
    var doc = new DOMParser().parseFromString(xml, "application/xml");
    if (doc.getElementsByTagName("parsererror").length) throw new Error("OOXML illisible");
    var body = doc.getElementsByTagNameNS(W, "body")[0];
    if (!body) throw new Error("OOXML sans corps de document");
    var rels = {};
    Array.prototype.forEach.call(doc.getElementsByTagNameNS(PKG, "part"), function (part) {
      if (!/document\.xml\.rels$/.test(part.getAttributeNS(PKG, "name") || part.getAttribute("pkg:name") || "")) return;
      Array.prototype.forEach.call(part.getElementsByTagName("Relationship"), function (rel) {
        rels[rel.getAttribute("Id")] = rel.getAttribute("Target");
      });
    });
    var paragraphs = Array.prototype.slice.call(body.getElementsByTagNameNS(W, "p"))
      .map(function (p) { return readParagraph(p, rels); })
      .filter(function (p) { return p.text.trim() !== ""; });
    return { doc: doc, paragraphs: paragraphs };
  }

  function flag(rPr, name) {
    var el = rPr && firstChild(rPr, name);
    if (!el) return false;
    var val = el.getAttributeNS(W, "val");
    if (name === "u") return val !== "none";
    return val !== "0" && val !== "false";
  }

  function firstChild(el, localName) {
    for (var c = el.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === 1 && c.namespaceURI === W && c.localName === localName) return c;
    }
    return null;
  }

  function closestInParagraph(el, p, localName) {
    for (var a = el.parentNode; a && a !== p; a = a.parentNode) {
      if (a.namespaceURI === W && a.localName === localName) return a;
    }
    return null;
  }

  function runText(run) {
    var text = "";
    for (var c = run.firstChild; c; c = c.nextSibling) {
      if (c.nodeType !== 1 || c.namespaceURI !== W) continue;
      if (c.localName === "t") text += c.textContent;
      else if (c.localName === "tab") text += "\t";
    }
    return text;
  }

  /* Consecutive runs with the same formatting make one segment. */
  function readParagraph(p, rels) {
    var links = [], segments = [];
    Array.prototype.forEach.call(p.getElementsByTagNameNS(W, "r"), function (run) {
      var text = runText(run);
      if (!text) return;                                     // field codes, breaks, drawings: untouched
      var link = closestInParagraph(run, p, "hyperlink");
      if (link && links.indexOf(link) === -1) links.push(link);
      var rPr = firstChild(run, "rPr");
      var style = { b: flag(rPr, "b"), i: flag(rPr, "i"), u: flag(rPr, "u"), link: link ? links.indexOf(link) : -1 };
      var key = keyOf(style);
      var last = segments[segments.length - 1];
      if (last && last.key === key) { last.runs.push(run); last.text += text; return; }
      segments.push({ key: key, style: style, runs: [run], text: text, linkElement: link });
    });
    var html = segments.map(function (s) { return wrap(s, rels); }).join("");
    return { element: p, segments: segments, html: html, text: segments.map(function (s) { return s.text; }).join("") };
  }

  function keyOf(style) { return [style.b ? 1 : 0, style.i ? 1 : 0, style.u ? 1 : 0, style.link].join("|"); }

  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  function wrap(segment, rels) {
    var html = escapeHtml(segment.text), s = segment.style;
    if (s.u) html = "<u>" + html + "</u>";
    if (s.i) html = "<i>" + html + "</i>";
    if (s.b) html = "<b>" + html + "</b>";
    if (s.link >= 0) {
      var id = segment.linkElement.getAttributeNS(R, "id");
      var href = (id && rels[id]) || "#" + (segment.linkElement.getAttributeNS(W, "anchor") || "");
      html = '<a href="' + escapeHtml(href) + '">' + html + "</a>";
    }
    return html;
  }

  /* Translated HTML → [{text, key}], the <a> ordinal standing for the paragraph's n-th link. */
  function htmlPieces(html) {
    var body = new DOMParser().parseFromString("<!DOCTYPE html><body>" + html + "</body>", "text/html").body;
    var pieces = [], linkCount = 0;
    (function walk(node, style) {
      for (var c = node.firstChild; c; c = c.nextSibling) {
        if (c.nodeType === 3) {
          if (!c.nodeValue) continue;
          var key = keyOf(style), last = pieces[pieces.length - 1];
          if (last && last.key === key) last.text += c.nodeValue; else pieces.push({ key: key, text: c.nodeValue });
        } else if (c.nodeType === 1) {
          var tag = c.tagName.toLowerCase(), next = { b: style.b, i: style.i, u: style.u, link: style.link };
          if (tag === "b" || tag === "strong") next.b = true;
          else if (tag === "i" || tag === "em") next.i = true;
          else if (tag === "u") next.u = true;
          else if (tag === "a") next.link = linkCount++;
          walk(c, next);
        }
      }
    })(body, { b: false, i: false, u: false, link: -1 });
    return pieces;
  }

  /* Give each translated piece to the next original segment with the same formatting; text with
   * no such segment joins the previous one. Segments left without text lose their runs. */
  function applyTranslation(paragraph, translatedHtml) {
    var segments = paragraph.segments, texts = segments.map(function () { return null; });
    var cursor = 0, lastUsed = -1;
    htmlPieces(translatedHtml).forEach(function (piece) {
      var match = -1;
      for (var k = cursor; k < segments.length; k++) { if (segments[k].key === piece.key) { match = k; break; } }
      if (match === -1) match = lastUsed >= 0 ? lastUsed : firstPlain(segments);
      else cursor = match + 1;
      texts[match] = (texts[match] || "") + piece.text;
      lastUsed = match;
    });
    segments.forEach(function (segment, index) { writeSegment(segment, texts[index]); });
  }

  function firstPlain(segments) {
    for (var k = 0; k < segments.length; k++) if (segments[k].key === "0|0|0|-1") return k;
    return 0;
  }

  function writeSegment(segment, text) {
    segment.runs.forEach(function (run, index) {
      if (index > 0 || !text) { run.parentNode.removeChild(run); return; }
      var doc = run.ownerDocument;
      for (var c = run.firstChild, next; c; c = next) {
        next = c.nextSibling;
        if (!(c.nodeType === 1 && c.namespaceURI === W && c.localName === "rPr")) run.removeChild(c);
      }
      var t = doc.createElementNS(W, "w:t");
      t.setAttributeNS(XML_NS, "xml:space", "preserve");
      t.textContent = text;
      run.appendChild(t);
    });
    var link = segment.linkElement;
    if (link && link.parentNode && !link.getElementsByTagNameNS(W, "r").length) link.parentNode.removeChild(link);
  }

  function serialize(doc) { return new XMLSerializer().serializeToString(doc); }

  window.PlumeOoxml = { parsePackage: parsePackage, applyTranslation: applyTranslation, htmlPieces: htmlPieces, serialize: serialize };
})();
