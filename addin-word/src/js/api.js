/* The Plume HTTP API as the pane uses it: bearer token, problem+json errors turned into
 * PlumeError with a `kind` the pane can explain, and Server-Sent Events for long tasks.
 * Every call takes an AbortSignal: Cancel aborts the fetch itself, so the server sees the
 * connection close and stops the work. */
(function () {
  "use strict";

  function PlumeError(kind, info) {
    this.name = "PlumeError";
    this.kind = kind;               // unreachable | unauthorized | forbidden | model | busy | too-long | cancelled | server
    this.status = info && info.status;
    this.detail = info && info.detail;                 // the server's French sentence, if any
    this.installCommand = info && info.installCommand; // what to tell IT when a model is missing
    this.errors = (info && info.errors) || [];         // a 422's problem `errors`: [{field, message, path}]
    this.message = kind + (this.detail ? ": " + this.detail : "");
  }
  PlumeError.prototype = Object.create(Error.prototype);

  function kindForStatus(status, problem) {
    if (status === 401) return "unauthorized";
    if (status === 403) return "forbidden";
    if (status === 413) return "too-long";
    if (status === 503 && (problem.install_command || /model-unavailable$/.test(problem.type || ""))) return "model";
    if (status === 503 && /-unavailable$/.test(problem.type || "")) return "unavailable";   // e.g. urn:plume:problem:proofread-unavailable
    if (status === 503 || status === 429) return "busy";
    return "server";
  }

  function fromProblem(status, problem) {
    problem = problem || {};
    return new PlumeError(kindForStatus(status, problem), {
      status: status, detail: problem.detail, installCommand: problem.install_command, errors: problem.errors
    });
  }

  function isAbort(error) { return error && (error.name === "AbortError" || error.kind === "cancelled"); }

  function Client(getSettings) { this.getSettings = getSettings; }

  Client.prototype.fetch = async function (method, path, options) {
    options = options || {};
    var settings = this.getSettings();
    var headers = { "Accept": options.accept || "application/json" };
    if (settings.token) headers["Authorization"] = "Bearer " + settings.token;
    var init = { method: method, headers: headers, signal: options.signal, cache: "no-store" };
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.json);
    } else if (options.form) {
      init.body = options.form;   // multipart/form-data: the browser writes the boundary
    }
    var response;
    try {
      response = await fetch(settings.serverUrl + path, init);
    } catch (error) {
      if (isAbort(error)) throw new PlumeError("cancelled");
      throw new PlumeError("unreachable", { detail: settings.serverUrl });
    }
    // The id of this result (X-Plume-Request-Id), sent back if the clerk inserts it: the usage report
    // counts time saved only for results really used.
    this.lastRequestId = response.headers.get("X-Plume-Request-Id") || "";
    // A letter not in the language asked for (no version of the template in it): the server's
    // French warning, percent-encoded in the header.
    this.lastWarning = decodeWarning(response.headers.get("X-Plume-Warning"));
    if (!response.ok) {
      var problem = null;
      try { problem = await response.json(); } catch (e) { problem = null; }
      throw fromProblem(response.status, problem);
    }
    return response;
  };

  Client.prototype.json = async function (method, path, body, signal) {
    var response = await this.fetch(method, path, { json: body, signal: signal });
    try { return await response.json(); } catch (error) {
      if (isAbort(error)) throw new PlumeError("cancelled");
      throw error;
    }
  };

  /* POST a multipart form (a recording, with its fields); the JSON answer. */
  Client.prototype.upload = async function (path, form, signal) {
    var response = await this.fetch("POST", path, { form: form, signal: signal });
    try { return await response.json(); } catch (error) {
      if (isAbort(error)) throw new PlumeError("cancelled");
      throw error;
    }
  };

  /* GET a stream of Server-Sent Events: `onEvent(name, data)` for each one (data parsed from JSON when
   * it is JSON). An `error` event is thrown as a PlumeError, with the event's `job` when it has one.
   * Resolves when the server ends the stream; a connection lost meanwhile is « unreachable ». */
  Client.prototype.follow = async function (path, signal, onEvent) {
    var response = await this.fetch("GET", path, { signal: signal, accept: "text/event-stream" });
    try {
      await readBlocks(response.body.getReader(), function (block) {
        eachEvent(block, function (event, payload, parsed) {
          if (event === "error") {
            var error = fromProblem((parsed && parsed.status) || 500, parsed);
            error.job = parsed && parsed.job;
            throw error;
          }
          onEvent(event, parsed === null ? payload : parsed);
        });
      });
    } catch (error) {
      if (error instanceof PlumeError || !(error instanceof TypeError || isAbort(error))) throw error;
      throw new PlumeError(isAbort(error) ? "cancelled" : "unreachable", { detail: this.getSettings().serverUrl });
    }
  };

  function decodeWarning(value) {
    if (!value) return "";
    try { return decodeURIComponent(value); } catch (error) { return ""; }
  }

  Client.prototype.blob = async function (path, body, signal) {
    var response = await this.fetch("POST", path, { json: body, signal: signal, accept: "*/*" });
    try { return await response.blob(); } catch (error) {
      if (isAbort(error)) throw new PlumeError("cancelled");
      throw error;
    }
  };

  /* POST asking for text/event-stream; `onText(textSoFar)` is called as the text grows.
   * A server that answers plain JSON instead is accepted too. Resolves to the final text. */
  Client.prototype.stream = async function (path, body, signal, onText) {
    var response = await this.fetch("POST", path, { json: body, signal: signal, accept: "text/event-stream, application/json" });
    var type = response.headers.get("Content-Type") || "";
    try {
      if (type.indexOf("text/event-stream") === -1 || !response.body || typeof TextDecoder === "undefined") {
        var raw = await response.text();
        var text = type.indexOf("text/event-stream") === -1 ? textOf(JSON.parse(raw)) : readEvents(raw, { text: "" }, onText).text;
        onText(text);
        return text;
      }
      return await readStream(response.body.getReader(), onText);
    } catch (error) {
      if (isAbort(error)) throw new PlumeError("cancelled");
      throw error;
    }
  };

  async function readStream(reader, onText) {
    var state = { text: "" };
    await readBlocks(reader, function (block) { readEvents(block, state, onText); });
    return state.text;
  }

  /* The stream cut at event boundaries: each(block of complete events), as they arrive. The server
   * (Litestar) ends its lines with \r\n: they are made \n here, before looking for the blank line
   * that ends an event — except a \r at the very end of what came, whose \n may be in the next piece. */
  async function readBlocks(reader, each) {
    var decoder = new TextDecoder("utf-8"), buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      var held = /\r$/.test(buffer) ? "\r" : "";
      buffer = buffer.slice(0, buffer.length - held.length).replace(/\r\n?/g, "\n") + held;
      var end = buffer.lastIndexOf("\n\n");
      if (end === -1) continue;
      each(buffer.slice(0, end + 2));
      buffer = buffer.slice(end + 2);
    }
    if (buffer.trim()) each(buffer + "\n\n");
  }

  /* Each complete SSE event of `block`: fn(event name, data as sent, data parsed from JSON or null). */
  function eachEvent(block, fn) {
    block.replace(/\r\n/g, "\n").split("\n\n").forEach(function (raw) {
      if (!raw.trim()) return;
      var event = "message", data = [];
      raw.split("\n").forEach(function (line) {
        if (line.indexOf("event:") === 0) event = line.slice(6).trim();
        else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
      });
      var payload = data.join("\n");
      if (payload === "[DONE]") return;
      var parsed = null;
      try { parsed = JSON.parse(payload); } catch (e) { parsed = null; }
      fn(event, payload, parsed);
    });
  }

  /* Parse complete SSE events. Deltas append; a final event ("done", "result", "end") carrying
   * the whole text replaces it; an "error" event carries a problem document. */
  function readEvents(block, state, onText) {
    eachEvent(block, function (event, payload, parsed) {
      if (event === "error") throw fromProblem((parsed && parsed.status) || 500, parsed);
      if (event === "progress") return;                      // {stage, part, parts}: no text
      if (event === "restart") { state.text = ""; onText(""); return; }   // a second attempt begins
      if (/^(done|result|end|final|complete)$/.test(event)) {
        var whole = parsed ? textOf(parsed) : payload;
        if (whole) state.text = whole;
      } else {
        state.text += parsed === null ? payload : deltaOf(parsed);
      }
      onText(state.text);
    });
    return state;
  }

  function deltaOf(obj) {
    if (typeof obj === "string") return obj;
    if (obj.delta !== undefined) return typeof obj.delta === "string" ? obj.delta : (obj.delta.content || "");
    if (obj.choices && obj.choices[0]) {
      var choice = obj.choices[0];
      return (choice.delta && choice.delta.content) || choice.text || "";
    }
    return obj.token || obj.text || obj.content || "";
  }

  function textOf(obj) {
    if (typeof obj === "string") return obj;
    return obj.text || obj.reply || obj.summary || obj.minutes || obj.factsheet || obj.letter || obj.content || "";
  }

  /* Tell the server these results went into the document. Fire and forget: the insertion has
   * happened, and an older server without the route (or a network hiccup) must not spoil it. */
  Client.prototype.reportInserted = function (ids) {
    var self = this;
    (ids || []).filter(Boolean).forEach(function (id) {
      self.fetch("POST", "/v1/usage/inserted", { json: { request_id: id } }).catch(function () {});
    });
  };

  window.PlumeApi = { Client: Client, PlumeError: PlumeError, isAbort: isAbort };
})();
