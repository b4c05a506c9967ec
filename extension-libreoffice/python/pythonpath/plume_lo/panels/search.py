"""« Rechercher »: the commune's documents, searched (Enter or « Rechercher ») and answered from
(« Répondre »), in the collections the clerk may read.

The question box is filled from the selection when there is one. Hits are listed with their article
and page; the chosen one is shown whole, and « Insérer la citation » writes the server's quotation.
« Répondre » is a button of its own rather than an answer shown with every search: an answer needs the
model (seconds to a minute on the commune's CPU server, and it may be off while search works), whereas
a search answers at once and is often all the clerk wants — the article to cite. The answer's passages
then replace the hits, numbered as the answer cites them ([1], [2]…), so each can be cited too.
Everything goes in through the review mode, in one undo step.
"""

from __future__ import annotations

from plume_lo import wording, writer
from plume_lo.actions.capabilities import Capabilities
from plume_lo.actions.search import MAX_QUERY_CHARS, Answer, ListCollections, PutText, Search
from plume_lo.panels.base import SidebarPanel, View

ANSWER_KINDS = ("answer", "passages", "nothing")


class InsertCitation(PutText):
    undo_key = "undo_citation"


class InsertAnswer(PutText):
    undo_key = "undo_answer"


class SearchView(View):
    """What the search panel shows: what the server offers, the collections, the hits, the answer."""

    def show_capabilities(self, tasks: dict) -> bool:
        """Searching and answering as the server offers them now; greyed with its reason otherwise."""
        search, answer = tasks.get("search") or {}, tasks.get("answer") or {}
        searching = bool(search.get("available"))
        answering = searching and bool(answer.get("available"))
        self.enable(searching, "Query", "Collections", "Search", "Hits", "Passage")
        self.enable(answering, "Answer")
        # One sentence for what does not work: the search's reason alone when answering is off for it too.
        greyed = [("Search", search)] if not searching else [] if answering else [("Answer", answer)]
        self.model("Notice").Text = "\n".join(
            wording.labelled(self.language, self.model(button).Label, wording.reason_unavailable(self.language, info))
            for button, info in greyed)
        return searching

    def show_collections(self, collections: list) -> None:
        """Every collection she may read, all chosen: a search looks everywhere unless she narrows it."""
        self.fill("Collections", [self.say("collection_line" if c.get("documents") != 1 else "collection_line_one",
                                           title=c.get("title") or c["id"], documents=c.get("documents", 0))
                                  for c in collections], chosen=None)
        listbox = self.control("Collections")
        listbox.selectItemsPos(tuple(range(len(collections))), True)

    def chosen_collections(self) -> list:
        return list(self.control("Collections").getSelectedItemsPos())

    def show_hits(self, hits: list) -> None:
        self.fill("Hits", [wording.hit_line(self.language, n, hit) for n, hit in enumerate(hits, 1)], chosen=None)
        self.model("Passage").Text = ""
        self.enable(False, "InsertCitation")

    def show_hit(self, hit: dict) -> None:
        self.model("Passage").Text = wording.passage_text(hit)
        self.enable(bool(hit.get("quotation")), "InsertCitation")

    def show_answer(self, answer: dict) -> None:
        """The answer and its numbered sources, or the server's message (passages only, nothing found)."""
        self.model("AnswerText").Text = wording.answer_text(self.language, answer)
        self.enable(bool(answer.get("insert")), "InsertAnswer")
        said = {"answer": "answer_ready", "passages": "answer_passages"}.get(answer.get("kind"))
        lines = [self.say(said)] if said else []
        self.status("\n".join(lines + [str(w) for w in answer.get("warnings") or []]) or self.model("AnswerText").Text)

    def clear_answer(self) -> None:
        self.model("AnswerText").Text = ""
        self.enable(False, "InsertAnswer")


class SearchPanel(SidebarPanel):
    DIALOG = "dialogs/SearchPanel.xdl"
    VIEW = SearchView
    LABELS = {"LabelQuery": "question", "LabelCollections": "collections", "Search": "search", "Answer": "ask",
              "Cancel": "cancel", "LabelHits": "hits", "InsertCitation": "insert_citation", "LabelAnswer": "answer",
              "InsertAnswer": "insert_answer"}

    def __init__(self, ctx, frame, parent):
        super().__init__(ctx, frame, parent)
        self.collections: list = []  # as the server lists them for her
        self.hits: list = []  # those listed, in order
        self.answer = None  # the last answer shown, while it may be inserted
        self.request_id = ""  # of the search or answer the hits come from
        self.on("Search", self.search)
        self.on_enter("Query", self.search)
        self.on("Answer", self.ask)
        self.on("Cancel", self.stop)
        self.on_choice("Hits", self.show_hit)
        self.on("InsertCitation", self.insert_citation)
        self.on("InsertAnswer", self.insert_answer)
        self.on_shown(self.question_from_selection)
        self.question_from_selection()
        self.start("capabilities", Capabilities())

    def question_from_selection(self) -> None:
        """The selected text, when there is some, is the question (a citizen's, pasted in her reply)."""
        doc = self.document()
        selected = " ".join(writer.selected_text(doc).split()) if writer.is_text_document(doc) else ""
        if selected and len(selected) <= MAX_QUERY_CHARS:
            self.view.model("Query").Text = selected

    # -- what the clerk does ------------------------------------------------------------------------

    def chosen_collections(self):
        """The ids chosen; None when all are (the server then searches every one she may read)."""
        chosen = [self.collections[i]["id"] for i in self.view.chosen_collections() if i < len(self.collections)]
        return None if len(chosen) == len(self.collections) else chosen

    def asked(self, action_type) -> None:
        collections = self.chosen_collections()
        if collections == []:
            self.view.status(self.view.say("no_collection"))
            return
        self.start(action_type.__name__.lower(), action_type(query=self.view.model("Query").Text,
                                                             collections=collections))

    def search(self) -> None:
        self.asked(Search)

    def ask(self) -> None:
        self.asked(Answer)

    def show_hit(self) -> None:
        hit = self.chosen_hit()
        if hit is not None:
            self.view.show_hit(hit)

    def chosen_hit(self):
        index = self.view.chosen("Hits")
        return self.hits[index] if 0 <= index < len(self.hits) else None

    def insert_citation(self) -> None:
        hit = self.chosen_hit()
        if hit is not None and hit.get("quotation"):
            self.start("insert", InsertCitation(content=hit["quotation"], request_ids=[self.request_id]))

    def insert_answer(self) -> None:
        if self.answer and self.answer.get("insert"):
            self.start("insert", InsertAnswer(content=self.answer["insert"],
                                              request_ids=[self.answer.get("request_id") or ""]))

    # -- answers ----------------------------------------------------------------------------------------

    def answered(self, pending, ok, message, data):
        if not ok:
            return
        if pending == "capabilities":
            self.view.status("")
            if self.view.show_capabilities(data.get("capabilities") or {}):
                self.start("collections", ListCollections())
        elif pending == "collections":
            self.collections = list(data.get("collections") or [])
            self.view.show_collections(self.collections)
            self.view.status("")
        elif pending == "search":
            self.list_hits(data.get("hits") or [], data.get("request_id") or "")
            self.view.status(self.view.say("hits_found", count=len(self.hits)) if self.hits else
                             self.view.say("hits_none"))
        elif pending == "answer":
            answer = data["answer"]
            self.answer = {**answer, "request_id": data.get("request_id") or ""}
            self.list_hits(answer.get("citations") or [], data.get("request_id") or "")
            self.view.show_answer(answer)

    def list_hits(self, hits: list, request_id: str) -> None:
        self.hits, self.request_id = [h for h in hits if isinstance(h, dict)], request_id
        self.view.show_hits(self.hits)

    def start(self, pending, action, quiet=False):
        if pending in ("search", "answer") and not self.running():
            self.answer = None  # a new question: the old answer must not stay insertable
            self.view.clear_answer()
        return super().start(pending, action, quiet)
