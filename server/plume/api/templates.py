"""Letter templates: list, describe, render (.docx / .odt / .pdf), upload new versions.

The library (`templates`) is built once by plume.services and injected; its refusals (no such
template, values that do not fit…) are mapped to problems in one place, api/problems.py."""

from __future__ import annotations

from typing import Any, Literal

import anyio
import msgspec
from litestar import Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from plume import workers
from plume.api.problems import Problem
from plume.documents.library import RenderedDocument, TemplateInfo, TemplateLibrary, TemplateVersion
from plume.security.auth import requires
from plume.security.middleware import note
from plume.security.roles import Role


class TemplateSummary(msgspec.Struct, kw_only=True):
    id: str
    title: str
    category: str
    service: str
    description: str
    formats: list[str]
    owner: str = ""
    version: str = ""
    languages: list[str] = msgspec.field(default_factory=lambda: ["fr"])


class RenderRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    values: dict[str, Any] = msgspec.field(default_factory=dict)
    format: Literal["docx", "odt", "pdf"] = "docx"
    # The letter's language (de, it, en…): its language version when the template has one, else the
    # French model with a warning (header X-Plume-Warning). None: French.
    language: str | None = None


class UploadResult(msgspec.Struct, kw_only=True):
    id: str
    revision: int
    files: list[str]
    template: TemplateInfo
    warnings: list[str] = msgspec.field(default_factory=list)  # e.g. LibreOffice cannot make its PDF


@get("/v1/templates", summary="Liste des modèles de lettres", tags=["modèles"])
async def list_templates(templates: NamedDependency[TemplateLibrary]) -> list[TemplateSummary]:
    return [TemplateSummary(id=t.id, title=t.title, category=t.category, service=t.service, description=t.description,
                            formats=t.formats, owner=t.owner, version=t.version, languages=t.languages)
            for t in await anyio.to_thread.run_sync(templates.list)]


@get("/v1/templates/{template_id:str}", summary="Un modèle et ses champs", tags=["modèles"])
async def get_template(template_id: FromPath[str], templates: NamedDependency[TemplateLibrary]) -> TemplateInfo:
    return await anyio.to_thread.run_sync(templates.get, template_id)


@get("/v1/templates/{template_id:str}/versions", summary="Versions d'un modèle", tags=["modèles"])
async def template_versions(template_id: FromPath[str],
                            templates: NamedDependency[TemplateLibrary]) -> list[TemplateVersion]:
    return await anyio.to_thread.run_sync(templates.versions, template_id)


@post("/v1/templates/{template_id:str}/render", summary="Remplir un modèle", tags=["modèles"], status_code=200)
async def render_template(request: Request, template_id: FromPath[str], data: JSONBody[RenderRequest],
                          templates: NamedDependency[TemplateLibrary]) -> Response[bytes]:
    note(request, task="template-render", template=template_id)
    # In a worker thread of its lane: the event loop keeps answering while a letter is filled, and PDF
    # renders (LibreOffice, seconds each) wait in a lane of their own, never for the threads of the others.
    document: RenderedDocument = await workers.run("pdf" if data.format == "pdf" else "render", templates.render,
                                                   template_id, data.values, data.format, data.language)
    return Response(document.content, media_type=document.media_type, headers=document.headers())


@put("/v1/templates/{template_id:str}", summary="Téléverser une nouvelle version d'un modèle", tags=["modèles"],
     guards=[requires(Role.TEMPLATE_OWNER)], status_code=201)
async def upload_template(request: Request, template_id: FromPath[str],
                          templates: NamedDependency[TemplateLibrary]) -> UploadResult:
    note(request, task="template-upload", template=template_id)
    form = await request.form()
    upload, manifest = form.get("file"), form.get("manifest")
    language = form.get("language")  # a language version (model.de.docx…): "de", "it", "en"…
    language = language if isinstance(language, str) and language.strip() else None
    if upload is not None and not isinstance(upload, UploadFile):
        raise Problem(422, "La partie « file » doit être un fichier .docx ou .odt (multipart/form-data).",
                      code="upload-refused")
    if isinstance(manifest, UploadFile):
        manifest_bytes = await manifest.read()
    else:
        manifest_bytes = manifest.encode("utf-8") if isinstance(manifest, str) and manifest else None
    data = await upload.read() if upload is not None else None
    file_name = upload.filename if upload is not None else None
    images = []  # parts "image" (repeatable): picture files the `image` fields may name, by their file name
    for part in form.getall("image") if "image" in form else []:
        if not isinstance(part, UploadFile):
            raise Problem(422, "La partie « image » doit être un fichier PNG ou JPEG (multipart/form-data).",
                          code="upload-refused")
        images.append((part.filename or "", await part.read()))
    user = getattr(request.user, "name", None)
    version = await workers.run("upload", templates.upload, template_id, file_name, data, manifest_bytes, user,
                                language, images)
    info = await anyio.to_thread.run_sync(templates.get, template_id)
    return UploadResult(id=template_id, revision=version.revision, files=version.files, template=info,
                        warnings=version.warnings)


ROUTES = [list_templates, get_template, template_versions, render_template, upload_template]
