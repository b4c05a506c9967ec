"""The commune's letter templates: list them, read one's fields, fill them from case notes, and put
the letter in the document or in a new one."""

from __future__ import annotations

from dataclasses import dataclass

from plume_lo import writer
from plume_lo.actions.base import Action, Listing, check, undo_title
from plume_lo.client import Client, PlumeError, quote


@dataclass
class InsertTemplate(Action):
    template_id: str
    values: dict
    mode: str = "insert"  # insert | new
    language: str = ""  # one of the template's languages (de, it…); empty: French
    needs_document = False  # « new » opens one

    def capture(self, doc):
        if not self.template_id:
            raise PlumeError("no_template")
        return None

    def work(self, client: Client, snapshot, job):
        check(job)
        body = {"values": self.values, "format": "odt", **({"language": self.language} if self.language else {})}
        data = client.post_file(f"/v1/templates/{quote(self.template_id)}/render", body)
        self.request_id, self.warning = client.last_request_id, client.last_warning
        return data

    def apply(self, ctx, doc, snapshot, data: bytes):
        # `warning`: the letter is in French, the template having no version in the language asked for.
        said = {"warning": self.warning} if self.warning else {}
        if self.mode == "new" or doc is None:
            writer.open_document(ctx, data)
            return {"opened": True, "usage": [self.request_id], **said}
        with writer.undo_step(doc, undo_title(ctx, "undo_template")):
            writer.insert_document(doc, data)
        return {"inserted": True, "usage": [self.request_id], **said}


@dataclass
class ExtractFields(Action):
    """Case notes -> values for a template's fields (nothing changes in the document)."""
    template_id: str
    notes: str
    needs_document = False

    def capture(self, doc):
        if not self.template_id:
            raise PlumeError("no_template")
        return None

    def work(self, client: Client, snapshot, job):
        check(job)
        return client.post_json(f"/v1/templates/{quote(self.template_id)}/extract", {"text": self.notes})

    def apply(self, ctx, doc, snapshot, answer):
        return {"values": answer.get("values") or {}, "missing": answer.get("missing") or []}


@dataclass
class ListTemplates(Listing):
    def work(self, client: Client, snapshot, job):
        listing = client.get_json("/v1/templates")
        return listing.get("templates", listing) if isinstance(listing, dict) else listing

    def apply(self, ctx, doc, snapshot, templates):
        return {"templates": templates}


@dataclass
class GetTemplate(Listing):
    template_id: str

    def work(self, client: Client, snapshot, job):
        return client.get_json(f"/v1/templates/{quote(self.template_id)}")

    def apply(self, ctx, doc, snapshot, template):
        return {"template": template}
