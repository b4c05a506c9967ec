"""Transcription over HTTP (docs/transcription.md): OpenAI's POST /v1/audio/transcriptions, and the
job routes a sidebar uses to upload, follow, stop and fetch a long recording.

    POST   /v1/audio/transcriptions               multipart: file, model, language, prompt, response_format,
                                                  temperature, stream; Plume's `background=true` → 202 + job
    GET    /v1/audio/transcriptions               the caller's jobs
    GET    /v1/audio/transcriptions/{job_id}      the job (JSON), its transcript (?response_format=…), or
                                                  its progress and segments as Server-Sent Events
    POST   /v1/audio/transcriptions/{job_id}/stop stop, keeping what is done
    DELETE /v1/audio/transcriptions/{job_id}      delete the recording and the transcript

The TranscriptionService is `services.speech` (plume/services.py), on the inference service's scheduler.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import msgspec
from litestar import Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, SkipValidation

from plume.api.audio_upload import receive
from plume.api.problems import Problem
from plume.api.task_support import EventStream, wants_stream
from plume.inference.errors import UnknownModel
from plume.security.middleware import note
from plume.speech import audio, formats
from plume.speech.jobs import ACTIVE, DONE, FAILED, JobRecord
from plume.speech.service import OUTCOME_STATUS, TASK, TranscriptionService, progress

ROUTE = "/v1/audio/transcriptions"
Speech = NamedDependency[SkipValidation[TranscriptionService | None]]  # services.speech
MAX_ACTIVE_PER_USER = 3
OPENAI_DEFAULT_MODEL = "whisper-1"  # what OpenAI clients send: here, the catalog's first speech model


class TranscriptionForm(msgspec.Struct, kw_only=True):
    model: str = ""
    language: str = ""
    prompt: str = ""
    response_format: str = "json"
    temperature: float | None = None
    stream: bool = False
    background: bool = False


# -- routes ------------------------------------------------------------------------------------------------


@post(ROUTE, summary="Transcrire un enregistrement (compatible OpenAI)", tags=["audio"], status_code=200,
      request_max_body_size=None)  # the upload streams to disk under Plume's own limit (audio_upload.py)
async def create_transcription(request: Request, speech: Speech) -> Response | EventStream:
    service = _service(speech)
    settings = service.settings
    _speech_slot(service, "")  # 503 before the upload: no need to send an hour of audio to learn there is no model
    if sum(r.status in ACTIVE for r in service.jobs_of(request.user.name)) >= MAX_ACTIVE_PER_USER:
        raise Problem(429, f"Vous avez déjà {MAX_ACTIVE_PER_USER} transcriptions en cours. Attendez qu'une se termine "
                           "ou arrêtez-en une.", code="too-many-transcriptions")
    job_id, folder = service.store.new_folder()
    try:
        upload = await receive(request, folder, settings.max_audio_bytes)
        form = _form(upload.fields)
        slot = _speech_slot(service, form.model)
        info = await anyio.to_thread.run_sync(audio.probe, upload.path, settings.max_audio_duration_s)
        upload.path.rename(folder / f"audio{upload.suffix}")
    except BaseException:
        service.store.delete(job_id)
        raise
    record = service.store.create(JobRecord(
        id=job_id, user=request.user.name, service=getattr(request.user, "service", None), model=slot.id,
        language=form.language or _default_language(slot), prompt=form.prompt, temperature=form.temperature,
        created_at=time.time(), duration_s=info.duration_s, audio_bytes=upload.size, audio_suffix=upload.suffix))
    note(request, task=TASK, model=slot.id, audio_seconds=round(info.duration_s, 1), audio_bytes=upload.size)
    service.run(record)
    headers = {"Location": f"{ROUTE}/{record.id}", "X-Plume-Job": record.id}
    if form.stream:
        return EventStream(_events(service, record.id, first=_job_json(record)), headers=headers)
    if form.background:
        return Response(_job_json(record), status_code=202, headers=headers)
    return await _wait_for_result(request, service, record, form.response_format, headers)


@get(ROUTE, summary="Mes transcriptions", tags=["audio"])
async def list_transcriptions(request: Request, speech: Speech) -> dict[str, Any]:
    service = _service(speech)
    jobs = sorted(service.jobs_of(request.user.name), key=lambda r: r.created_at, reverse=True)
    return {"object": "list", "data": [_job_json(r) for r in jobs]}


@get(f"{ROUTE}/{{job_id:str}}", summary="Une transcription : état, texte, ou progression (SSE)", tags=["audio"])
async def get_transcription(request: Request, speech: Speech, job_id: FromPath[str],
                            response_format: FromQuery[str | None] = None) -> Any:
    service = _service(speech)
    record = _job(service, request, job_id)
    if wants_stream(request):
        return EventStream(_events(service, record.id))
    if response_format is None:
        return _job_json(record, service)
    if record.status in ACTIVE:
        raise Problem(409, "La transcription n'est pas terminée : suivez sa progression, ou arrêtez-la pour obtenir "
                           "le texte déjà transcrit.", code="not-finished", **progress(record))
    return _render(_checked_format(response_format), service, record)


@post(f"{ROUTE}/{{job_id:str}}/stop", summary="Arrêter une transcription (le texte déjà transcrit est gardé)",
      tags=["audio"], status_code=200)
async def stop_transcription(request: Request, speech: Speech, job_id: FromPath[str]) -> dict[str, Any]:
    service = _service(speech)
    record = _job(service, request, job_id)
    service.request_stop(record)
    return _job_json(service.store.get(record.id) or record)


@delete(f"{ROUTE}/{{job_id:str}}", summary="Effacer une transcription (enregistrement et texte)", tags=["audio"],
        status_code=204)
async def delete_transcription(request: Request, speech: Speech, job_id: FromPath[str]) -> None:
    service = _service(speech)
    await service.delete(_job(service, request, job_id))


ROUTES = [create_transcription, list_transcriptions, get_transcription, stop_transcription, delete_transcription]




# -- helpers -----------------------------------------------------------------------------------------------


def _service(service: TranscriptionService | None) -> TranscriptionService:
    if not isinstance(service, TranscriptionService):
        raise Problem(503, "La transcription n'est pas disponible sur ce serveur.", code="no-speech")
    return service


def _job(service: TranscriptionService, request: Request, job_id: str) -> JobRecord:
    record = service.get(job_id, request.user.name)  # someone else's job is as absent as an unknown one
    if record is None:
        raise Problem(404, "Cette transcription n'existe pas, ou plus : elle a peut-être été effacée.",
                      code="transcription-not-found")
    return record


def _flag(value: str) -> bool:
    return value.strip().lower() in ("true", "1", "yes", "on")


def _form(fields: dict[str, str]) -> TranscriptionForm:
    form = TranscriptionForm(model=fields.get("model", "").strip(), language=fields.get("language", "").strip().lower(),
                             prompt=fields.get("prompt", ""),
                             response_format=_checked_format(fields.get("response_format", "json").strip() or "json"),
                             stream=_flag(fields.get("stream", "")), background=_flag(fields.get("background", "")))
    if form.language and form.language not in _whisper_languages():
        raise Problem(422, "Langue inconnue de Whisper : donnez un code ISO 639-1 (« fr », « de », « it »…).",
                      code="validation")
    if fields.get("temperature", "").strip():
        try:
            temperature = float(fields["temperature"])
        except ValueError:
            temperature = -1.0
        if not 0.0 <= temperature <= 1.0:
            raise Problem(422, "« temperature » doit être un nombre entre 0 et 1.", code="validation")
        form.temperature = temperature or None  # 0: Whisper's own fallback from 0 upwards, as OpenAI does
    return form


def _checked_format(value: str) -> str:
    if value not in formats.FORMATS:
        raise Problem(422, f"« response_format » doit être l'un de : {', '.join(formats.FORMATS)}.", code="validation")
    return value


def _whisper_languages() -> tuple[str, ...]:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return tuple(_LANGUAGE_CODES)


def _speech_slot(service: TranscriptionService, model: str) -> Any:
    inference = service.inference
    try:
        if model and model != OPENAI_DEFAULT_MODEL:
            slot = inference.slot_for_model(model, task=TASK)
            if TASK not in slot.tasks:
                raise Problem(422, f"« {slot.id} » n'est pas un modèle de transcription. La liste des modèles est sur "
                                   "/v1/models.", code="not-a-speech-model")
            return slot
        return inference.slot_for_task(TASK)
    except UnknownModel as exc:
        raise Problem(404, exc.detail, code="unknown-model") from exc


def _default_language(slot: Any) -> str:
    languages = list(getattr(slot.entry, "languages", []) or [])
    return languages[0] if languages else "fr"


def _job_json(record: JobRecord, service: TranscriptionService | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": record.id, "object": "audio.transcription.job", "status": record.status, "model": record.model,
        "language": record.language, "created_at": int(record.created_at),
        "finished_at": int(record.finished_at) if record.finished_at else None,
        **progress(record), "resumed": record.resumed,
        "url": f"{ROUTE}/{record.id}",
    }
    if record.error:
        body["error"] = {"code": record.error_code, "detail": record.error}
    if service is not None and record.status not in ACTIVE:
        body["result"] = formats.verbose(service.segments(record), language=record.language,
                                         duration_s=record.duration_s)
    return body


def _render(fmt: str, service: TranscriptionService, record: JobRecord) -> Response:
    result = formats.render(fmt, service.segments(record), language=record.language, duration_s=record.duration_s)
    headers = {"X-Plume-Job": record.id}
    if record.status != DONE:  # stopped or failed: what was done before
        headers["X-Plume-Warning"] = "transcription incomplete"
    if isinstance(result, dict):
        return Response(result, headers=headers)
    return Response(result, media_type=formats.MEDIA_TYPES[fmt], headers=headers)


async def _wait_for_result(request: Request, service: TranscriptionService, record: JobRecord, fmt: str,
                           headers: dict[str, str]) -> Response:
    """OpenAI's plain request: the answer once transcribed. A client that hangs up meanwhile does not
    want the job any more: it is stopped and deleted."""
    finished = await _end_unless_gone(request, service, record.id)
    if finished is None:
        await service.delete(record)
        raise Problem(499, "La demande a été abandonnée.", code="client-gone")
    if finished.status == FAILED:
        raise Problem(OUTCOME_STATUS.get(finished.error_code or "", 500), finished.error or "", code=finished.error_code,
                      headers=headers, job=finished.id)
    response = _render(fmt, service, finished)
    response.headers.update(headers)
    return response


async def _end_unless_gone(request: Request, service: TranscriptionService, job_id: str) -> JobRecord | None:
    """The job's final record, or None if the client hung up first."""
    async def hung_up() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    async def end() -> JobRecord | None:
        async for kind, value in service.watch(job_id):
            if kind == "end":
                return value
        return None

    waiting = [asyncio.create_task(end()), asyncio.create_task(hung_up())]
    try:
        done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        return waiting[0].result() if waiting[0] in done else None
    finally:
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)


async def _events(service: TranscriptionService, job_id: str, first: dict[str, Any] | None = None
                  ) -> AsyncIterator[dict[str, str]]:
    """`job` (when given), then `segment` {delta, start, end, paragraph…} and `progress` {percent…} as the
    transcription goes, and `done` (the verbose_json result; also when stopped) or `error`. The
    client can leave and come back: the job goes on, and a new stream replays what is done."""
    def message(event: str, data: Any) -> dict[str, str]:
        return {"event": event, "data": msgspec.json.encode(data).decode()}

    if first is not None:
        yield message("job", first)
    async for kind, value in service.watch(job_id):
        if kind == "segment":
            yield message("segment", {"type": "transcript.text.delta", "delta": value.text, "id": value.id,
                                      "start": value.start, "end": value.end, "text": value.text,
                                      "paragraph": value.paragraph or value.id == 0})
        elif kind == "progress":
            yield message("progress", value)
        elif kind == "end":
            record: JobRecord = value
            if record.status == FAILED:
                yield message("error", {"status": OUTCOME_STATUS.get(record.error_code or "", 500),
                                        "title": "Transcription interrompue", "detail": record.error,
                                        "code": record.error_code, "job": _job_json(record, service)})
            else:
                result = formats.verbose(service.segments(record), language=record.language,
                                         duration_s=record.duration_s)
                yield message("done", {"type": "transcript.text.done", **result, "job": _job_json(record)})
