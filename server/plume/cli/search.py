"""`plume search index | query`: keep the index of the commune's documents up to date, and ask it.

    plume search index --collections collections.toml [--collection ID]
    plume search query "TEXTE" --collections collections.toml [--collection ID] [--k 5] [--format json]
    plume search faq --collections collections.toml --collection ID [--with-model] [--format json]

`index` reads only what changed since its last run, shows progress on stderr, names each file it
could not read (exit 0: a bad file never stops the run; 3 when files were found and none could be
read). A server using the same index sees the new passages at its next search, without a restart.
`query` searches every collection (or those named) as an administrator would, for IT's checks.
`faq --collection ID [--with-model] [--format json]` proposes the questions the collection answers best,
each with its checked answer and citation (plume.tasks.faq), for a template owner to review.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import msgspec

from plume.cli.common import add_settings_options, settings_from


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("search", help="recherche dans les documents de la commune (index, question)")
    commands = parser.add_subparsers(dest="search_command", metavar="ACTION", required=True)
    index = commands.add_parser("index", help="mettre l'index à jour (seulement ce qui a changé)")
    _common(index)
    index.add_argument("--quiet", action="store_true", help="sans progression")
    index.set_defaults(func=run_index)
    query = commands.add_parser("query", help="poser une question à l'index")
    query.add_argument("text", help="la question")
    _common(query)
    query.add_argument("--k", type=int, default=5, help="nombre de passages (défaut 5)")
    query.add_argument("--format", choices=["text", "json"], default="text")
    query.set_defaults(func=run_query)
    faq = commands.add_parser("faq", help="proposer les questions auxquelles une collection répond le mieux (FAQ à relire)")
    _common(faq)
    faq.add_argument("--limit", type=int, default=15, help="nombre de questions (défaut 15)")
    faq.add_argument("--format", choices=["markdown", "json"], default="markdown")
    faq.add_argument("--with-model", action="store_true",
                     help="faire formuler les questions et rédiger les réponses par le modèle du catalogue "
                          "(--models ; chaque phrase vérifiée)")
    faq.add_argument("--quiet", action="store_true", help="sans progression")
    faq.set_defaults(func=run_faq)


def _common(parser: argparse.ArgumentParser) -> None:
    add_settings_options(parser)
    parser.add_argument("--collections", type=Path, dest="collections_file",
                        help="fichier des collections (collections.toml ; ou le réglage collections_file)")
    parser.add_argument("--collection", action="append", default=None, metavar="ID",
                        help="seulement cette collection (répétable)")
    parser.add_argument("--models", type=Path, dest="models_file", help="catalogue des modèles (plongements ONNX)")


def _service(args: argparse.Namespace):
    from plume.search.collections import CollectionsError
    from plume.search.dense import EmbedderUnavailable
    from plume.search.service import build_search_service

    settings = settings_from(args, collections_file=args.collections_file, models_file=args.models_file)
    if settings.collections_file is None:
        print("Indiquez le fichier des collections : --collections collections.toml.", file=sys.stderr)
        raise SystemExit(2)
    try:
        service = build_search_service(settings)
        every = service.collections()
    except (CollectionsError, EmbedderUnavailable) as exc:
        print(str(exc), file=sys.stderr)
        raise SystemExit(2) from None
    if unknown := [c for c in args.collection or [] if c not in every]:
        print(f"Collection inconnue : {', '.join(unknown)} (connues : {', '.join(every) or 'aucune'}).",
              file=sys.stderr)
        raise SystemExit(2)
    return service


def run_index(args: argparse.Namespace) -> int:
    service = _service(args)

    def progress(done: int, total: int, path: str) -> None:
        if not args.quiet:
            print(f"\r  {done}/{total} {path[:60]:<60}", end="", file=sys.stderr, flush=True)

    def starting(collection) -> None:
        if not args.quiet:
            print(f"\n{collection.id} ({collection.path})", file=sys.stderr, flush=True)

    reports = service.index(args.collection, progress=progress, on_collection=starting)
    if not args.quiet:
        print(file=sys.stderr)
    seen = failed = 0
    for report in reports:
        print(f"{report.collection} : {report.added} ajouté(s), {report.updated} modifié(s), "
              f"{report.removed} retiré(s), {report.unchanged} inchangé(s), {len(report.failed)} illisible(s)")
        for path, reason in report.failed:
            print(f"  illisible : {path} — {reason}", file=sys.stderr)
        seen += report.added + report.updated + report.unchanged
        failed += len(report.failed)
    service.store.close()
    return 3 if failed and not seen else 0


def run_query(args: argparse.Namespace) -> int:
    from plume.search.service import MAX_K

    service = _service(args)
    every = service.collections()
    collections = [every[c] for c in args.collection] if args.collection else list(every.values())
    hits = service.search(args.text, collections, max(1, min(args.k, MAX_K)))
    service.store.close()
    if args.format == "json":
        print(json.dumps({"hits": msgspec.to_builtins(hits)}, ensure_ascii=False, indent=2))
        return 0
    for rank, hit in enumerate(hits, 1):
        where = ", ".join(x for x in (hit.locator, f"p. {hit.page}" if hit.page else None) if x)
        print(f"{rank}. {hit.title}{' — ' + where if where else ''}  [{hit.collection}/{hit.document}, "
              f"score {hit.score:.2f}]")
        print(f"   {hit.heading}")
        print(f"   {' '.join(hit.text.split())[:300]}")
    if not hits:
        print("Aucun passage trouvé.")
    return 0


def run_faq(args: argparse.Namespace) -> int:
    import asyncio

    from plume.tasks import faq

    if not args.collection or len(args.collection) != 1:
        print("Indiquez une collection : --collection ID.", file=sys.stderr)
        return 2
    service = _service(args)
    collection = service.collections()[args.collection[0]]
    settings = settings_from(args, collections_file=args.collections_file, models_file=args.models_file)

    def progress(done: int, total: int) -> None:
        if not args.quiet:
            print(f"\r  {done}/{total} passages", end="" if done < total else "\n", file=sys.stderr, flush=True)

    async def build():
        if not args.with_model:
            return await faq.build(service, collection, settings.search_answer_min_score, args.limit, None, progress)
        from plume.inference.service import InferenceService

        models = InferenceService(settings)
        await models.start()
        try:
            for slot in models.slots.values():
                await slot.loaded.wait()
            from plume.tasks.answer import model_task

            if not models.has_model(model_task(models)):
                print("Aucun modèle pour « answer » ni « chat » dans le catalogue (--models).", file=sys.stderr)
                raise SystemExit(2)
            return await faq.build(service, collection, settings.search_answer_min_score, args.limit, models, progress)
        finally:
            await models.stop()

    result = asyncio.run(build())
    service.store.close()
    if args.format == "json":
        print(json.dumps(msgspec.to_builtins(result), ensure_ascii=False, indent=2))
    else:
        print(faq.markdown(result), end="")
    return 0
