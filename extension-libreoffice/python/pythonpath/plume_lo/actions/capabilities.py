"""What this server can do now (GET /v1/capabilities): the panel and the context menu offer only that."""

from __future__ import annotations

from dataclasses import dataclass

from plume_lo.actions.base import Listing
from plume_lo.client import Client

# The last /v1/capabilities answer seen in this LibreOffice (the context menu offers only that).
KNOWN: dict = {}


@dataclass
class Capabilities(Listing):
    def work(self, client: Client, snapshot, job):
        answer = client.get_json("/v1/capabilities")
        return answer if isinstance(answer, dict) else {}

    def apply(self, ctx, doc, snapshot, answer):
        KNOWN.clear()
        KNOWN.update(answer.get("tasks") or {})
        return {"capabilities": dict(KNOWN)}
