/* « Transcrire un enregistrement » (docs/transcription.md, « What a sidebar calls »): the recording is
 * uploaded as a background job, its progress and text follow as Server-Sent Events, Stop keeps what is
 * done; the transcript (« [00:01:05] Intervenant : … », one paragraph per pause) goes into the document
 * as the review mode says, and the job is then deleted from the server (a recording is personal data).
 * « Faire le procès-verbal » sends the transcript as it now reads in the document (the speakers named)
 * to POST /v1/text/minutes, which fills the commune's PV template; the .docx goes in as the review mode
 * says. A job the clerk left (pane closed) is listed again from GET /v1/audio/transcriptions. */
(function () {
  "use strict";
  var P = window.Plume, $ = P.$, t = P.t;
  var ROUTE = "/v1/audio/transcriptions";
  var FORMATS = ["wav", "mp3", "m4a", "ogg", "webm", "flac"];   // until the server says (capabilities)
  var RECONNECTS = 3;   // a dropped stream is opened again: the server replays the segments
  var limits = { formats: FORMATS, maxBytes: null };
  var current = null;   // {id, requestId, transcript, status} of the job shown

  /* ---------- choosing the file ---------- */

  function showLimits(tasks) {
    var info = tasks && tasks.transcribe;
    if (info && info.formats) limits = { formats: info.formats, maxBytes: info.max_audio_bytes || null };
    $("transcribe-file").setAttribute("accept", limits.formats.map(function (f) { return "." + f; }).join(","));
    $("transcribe-limits").textContent = t(limits.maxBytes ? "transcribe.limits" : "transcribe.formats",
      { formats: limits.formats.join(", "), size: size(limits.maxBytes) });
  }

  /* « 1 Go », « 8 Mo » (« GB », « MB » in German), as the server writes its limit. */
  function size(bytes) {
    if (!bytes) return "";
    var giga = bytes >= 1024 * 1024 * 1024, value = bytes / (giga ? 1024 * 1024 * 1024 : 1024 * 1024);
    return (Math.round(value * 10) / 10).toLocaleString(P.german() ? "de-CH" : "fr-CH") + " " +
      t(giga ? "transcribe.gigabytes" : "transcribe.megabytes");
  }

  /* The chosen recording, checked here before a byte is sent: its kind and its size. */
  function chosenFile() {
    var file = $("transcribe-file").files[0];
    if (!file) throw P.userError(t("transcribe.noFile"));
    var suffix = (file.name.split(".").pop() || "").toLowerCase();
    if (file.name.indexOf(".") === -1 || limits.formats.indexOf(suffix) === -1) {
      throw P.userError(t("transcribe.wrongFormat", { formats: limits.formats.join(", ") }));
    }
    if (limits.maxBytes && file.size > limits.maxBytes) throw P.userError(t("transcribe.tooBig", { size: size(limits.maxBytes) }));
    return file;
  }

  /* ---------- transcribing ---------- */

  function transcribe() {
    P.perform("busy.upload", async function (signal, progress) {
      var file = chosenFile(), form = new FormData();
      form.append("file", file, file.name);
      form.append("language", $("transcribe-language").value);
      form.append("background", "true");
      var job = await P.state.client.upload(ROUTE, form, signal);
      current = { id: job.id, requestId: P.state.client.lastRequestId, transcript: "", status: job.status };
      $("transcribe-file").value = "";
      await follow(signal, progress);
    });
  }

  /* Progress and text as they come; Stop (the Cancel button) keeps what is done. */
  async function follow(signal, progress) {
    $("panel-transcrire").removeAttribute("data-job-status");
    P.cancelSays("transcribe.stop");
    showResult(t("transcribe.waiting"), 0, "");
    setReady(false);
    for (var attempt = 0; ; attempt++) {
      var lost = new window.PlumeApi.PlumeError("unreachable");   // a stream that ends without its end
      try {
        var end = await events(signal, progress);
        if (end) return finished(end.job.status, end.transcript);
      } catch (error) {
        if (error.kind === "cancelled") return stop(progress);
        if (error.job && error.job.result) finished(error.job.status, error.job.result.transcript);
        if (error.kind !== "unreachable") throw error;   // the job failed: what it did is shown
        lost = error;
      }
      if (attempt >= RECONNECTS) throw lost;
      await new Promise(function (resolve) { setTimeout(resolve, 1000 * (attempt + 1)); });   // then replayed
    }
  }

  /* One reading of the job's events; the `done` event, or null if the stream ended without one. */
  async function events(signal, progress) {
    var text = [], end = null;
    await P.state.client.follow(ROUTE + "/" + encodeURIComponent(current.id), signal, function (event, data) {
      if (event === "segment") {
        text.push((data.paragraph && text.length ? "\n\n" : text.length ? " " : "") + data.text);
        $("transcribe-preview").textContent = text.join("");
      } else if (event === "progress") {
        progress("busy.transcribe", { percent: Math.floor(data.percent) });
        showResult(t("transcribe.percent", { percent: Math.floor(data.percent) }), data.percent);
      } else if (event === "done") {
        end = data;
      }
    });
    return end;
  }

  /* Stop, keeping what is done: the server ends the job at its next 30-second step, and its stream
   * then ends with the transcript so far. */
  async function stop(progress) {
    progress("busy.stopping");
    await P.state.client.json("POST", ROUTE + "/" + encodeURIComponent(current.id) + "/stop");
    var end = await events(undefined, progress);
    if (!end) throw new window.PlumeApi.PlumeError("unreachable");
    finished(end.job.status, end.transcript);
  }

  /* The job ended (done, stopped, failed): its transcript shown, ready to insert or delete. */
  function finished(status, transcript) {
    current.status = status;
    current.transcript = transcript || "";
    var said = status === "done" ? "transcribe.done" : status === "stopped" ? "transcribe.stopped" : "transcribe.failed";
    showResult(t(said, { count: paragraphs(current.transcript).length }), status === "done" ? 100 : null, current.transcript);
    setReady(true);
    $("panel-transcrire").setAttribute("data-job-status", status);
    if (status === "stopped") P.showMessage("info", t("transcribe.stoppedKept"));
  }

  function showResult(status, percent, text) {
    $("transcribe-status").textContent = status;
    if (percent !== null && percent !== undefined) $("transcribe-progress").value = percent;
    if (text !== undefined) $("transcribe-preview").textContent = text;
    $("transcribe-result").hidden = false;
  }

  /* Insert and delete are offered once the job has ended (insert only with some text). */
  function setReady(ready) {
    $("transcribe-insert").disabled = !ready || !current.transcript.trim();
    $("transcribe-delete").disabled = !ready;
  }

  /* One Word paragraph per paragraph of the transcript (the server separates them by a blank line). */
  function paragraphs(transcript) {
    return transcript.split(/\n+/).filter(function (line) { return line.trim(); });
  }

  /* ---------- into the document, then gone from the server ---------- */

  function insertTranscript() {
    if (!current || !current.transcript.trim()) return;
    var job = current;
    P.perform("busy.working", async function () {
      // Selected once inserted: the PV is made from the selection, after the names are put in.
      await P.putResult({ text: paragraphs(job.transcript).join("\n"), select: true }, [job.requestId],
        "transcribe.inserted", null, function () { return forget(job); });
    });
  }

  /* Delete the job (recording and transcript) from the server; the sentence that says so. */
  async function forget(job) {
    try {
      await P.state.client.fetch("DELETE", ROUTE + "/" + encodeURIComponent(job.id));
    } catch (error) {
      if (error.status !== 404) return t("transcribe.notDeleted");
    }
    if (current === job) {
      current = null;
      $("transcribe-result").hidden = true;
    }
    listJobs();
    return t("transcribe.deleted");
  }

  function deleteJob() {
    if (!current) return;
    var job = current;
    P.perform("busy.working", async function () {
      var said = await forget(job);
      P.showMessage(said === t("transcribe.deleted") ? "ok" : "error", said);
    });
  }

  /* ---------- the procès-verbal ---------- */

  function makeMinutes() {
    P.perform("busy.minutes", async function (signal) {
      var whole = document.querySelector("input[name=transcribe-scope]:checked").value === "document";
      var text = whole ? await window.PlumeWord.readDocumentText() : await window.PlumeWord.readSelectionText();
      if (!text.trim()) throw P.userError(t(whole ? "error.emptyDocument" : "transcribe.selectTranscript"));
      var client = P.state.client;
      var blob = await client.blob("/v1/text/minutes", { text: text, format: "docx" }, signal);
      var requestId = client.lastRequestId, base64 = await P.blobToBase64(blob);
      P.checkNotCancelled(signal);
      // The whole document cannot be replaced by its PV: then it goes after the selection.
      await P.putResult({ docx: base64 }, [requestId], "transcribe.minutesInserted", whole ? "after" : null);
    });
  }

  /* ---------- jobs left on the server ---------- */

  /* The clerk's jobs (the pane was closed, Word restarted): each can be taken up again or deleted.
   * Not through perform(): listing must not take the Cancel button. */
  async function listJobs() {
    var data;
    try { data = await P.state.client.json("GET", ROUTE); } catch (error) { return; }   // said when she acts
    var list = $("transcribe-job-list"), others = data.data.filter(function (job) { return !current || job.id !== current.id; });
    list.innerHTML = "";
    others.forEach(function (job) { list.appendChild(jobItem(job)); });
    $("transcribe-jobs").hidden = !others.length;
    list.setAttribute("data-loaded", String(Date.now()));
  }

  function jobItem(job) {
    var li = document.createElement("li"), when = new Date(job.created_at * 1000);
    li.setAttribute("data-job", job.id);
    var line = document.createElement("p");
    line.textContent = t("transcribe.job", {
      date: when.toLocaleDateString(P.german() ? "de-CH" : "fr-CH"),
      time: when.toLocaleTimeString(P.german() ? "de-CH" : "fr-CH", { hour: "2-digit", minute: "2-digit" }),
      status: t("transcribe.status." + job.status), percent: Math.floor(job.percent || 0)
    });
    li.appendChild(line);
    li.appendChild(button("transcribe.resume", "resume", function () { resume(job); }));
    li.appendChild(button("transcribe.delete", "secondary delete", function () {
      P.perform("busy.working", async function () { P.showMessage("ok", await forget(job)); });
    }));
    return li;
  }

  function button(key, className, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = className;
    b.textContent = t(key);
    b.addEventListener("click", onClick);
    return b;
  }

  /* A job left running is followed again (its segments replayed); a finished one shows its transcript. */
  function resume(job) {
    P.perform("busy.working", async function (signal, progress) {
      current = { id: job.id, requestId: "", transcript: "", status: job.status };
      listJobs();
      var fresh = await P.state.client.json("GET", ROUTE + "/" + encodeURIComponent(job.id), undefined, signal);
      if (fresh.result) return finished(fresh.status, fresh.result.transcript);
      await follow(signal, progress);
    });
  }

  P.panels.register({
    id: "transcrire",
    capability: "transcribe",
    engineButtons: "#transcribe-run",
    init: function () {
      showLimits(null);
      $("transcribe-run").addEventListener("click", transcribe);
      $("transcribe-insert").addEventListener("click", insertTranscript);
      $("transcribe-delete").addEventListener("click", deleteJob);
      $("transcribe-minutes").addEventListener("click", makeMinutes);
    },
    shown: function () { if (!P.state.operation) listJobs(); },
    capabilities: function (tasks) {
      showLimits(tasks);
      var minutes = tasks && tasks.minutes;
      $("transcribe-minutes").disabled = !!(minutes && !minutes.available);
    },
    settingsChanged: function () { current = null; $("transcribe-result").hidden = true; }
  });
})();
