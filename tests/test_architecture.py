"""The shape of the server's code, read from its source with `ast` (nothing is imported): no package
imports one above it, no import cycle between packages, no module over 400 lines without its reason.

A "package" here is a folder of server/plume (api, tasks…) or a module at its top (app, config…);
`plume` is the package's own __init__ (version, telemetry off). Every import counts, also one inside a
function, and `importlib.import_module("plume.…")` with a literal prefix.

ALLOWED is the exact table of what each package imports today. A new import between packages is a
design decision: add it to ALLOWED only where LAYERS permits it (tests below check both).
"""

from __future__ import annotations

import ast
from pathlib import Path

PLUME = Path(__file__).resolve().parents[1] / "server" / "plume"

# Top to bottom: a package may import its own layer or the ones below, never one above.
LAYERS = [
    {"__main__", "cli"},                                          # the `plume` command
    {"app"},                                                      # the Litestar application
    {"api", "evaluation", "evaluation_answers"},                  # HTTP controllers; `plume eval`'s measuring
    {"services"},                                                 # every service, built once and injected
    {"mailbox"},                                                  # the IMAP worker, calling the tasks
    {"routing"},                                                  # which service handles a mail (triage)
    {"tasks"},                                                    # the writing tasks
    {"search", "speech", "ops"},                                  # the commune's documents; recordings; usage, backup
    {"documents", "inference", "mail", "word_addin"},             # letters, engines, e-mail parsing
    {"language", "security"},                                     # language tools; tokens, audit, limits
    {"plume", "config", "errors", "files", "workers", "tempdirs"},  # version, settings, refusals, writes, lanes, tmp
]

# What each package imports, exactly, today.
ALLOWED: dict[str, set[str]] = {
    "__main__": {"cli"},
    "cli": {"app", "config", "documents", "evaluation", "evaluation_answers", "inference", "mail", "mailbox", "ops",
            "plume", "routing", "search", "security", "speech", "tasks", "word_addin"},
    "app": {"plume", "api", "config", "mailbox", "security", "services"},
    "services": {"config", "documents", "inference", "language", "ops", "routing", "search", "security", "speech",
                 "tasks", "tempdirs"},
    "api": {"documents", "errors", "inference", "language", "mail", "ops", "plume", "search", "security", "services",
            "speech", "tasks", "word_addin", "workers"},
    "evaluation": {"config", "documents", "inference", "language", "mail", "routing", "tasks"},
    "evaluation_answers": {"config", "evaluation", "inference", "language", "search", "tasks"},
    "tasks": {"config", "documents", "errors", "files", "inference", "language", "mail", "search", "workers"},
    "mailbox": {"config", "files", "mail", "routing", "security", "tasks"},
    "documents": {"errors", "files", "security"},
    "inference": {"config", "errors"},
    "mail": set(),
    "ops": {"config", "files", "search", "security"},
    "search": {"config", "documents", "inference", "security"},
    "speech": {"errors", "files", "inference"},
    "routing": {"errors", "files", "inference", "mail", "tasks"},
    "word_addin": {"config"},
    "language": set(),
    "security": {"errors", "files"},
    "plume": set(),
    "config": set(),
    "errors": set(),
    "files": set(),
    "workers": set(),
    "tempdirs": set(),
}

# Imports that still go up today, each with what removes it. The lead empties this when merging.
KNOWN_UPWARD = {
    ("security", "ops"): "security/middleware.py stamps request ids with ops.usage's ledger, which it builds "
                         "lazily; branch h-core builds the ledger once and injects it (issue 19 item 2): the "
                         "stamping then goes beside the ledger, out of security/.",
}

MAX_LINES = 400
REASON = "Long because:"
# Modules over MAX_LINES that branch h-core is splitting (issue 19 item 2): the lead empties this when merging.
LONG_FOR_NOW: dict[str, str] = {}


# -- reading the source ---------------------------------------------------------------------------

def package_of(path: Path, root: Path) -> str:
    parts = path.relative_to(root).parts
    if len(parts) > 1:
        return parts[0]
    return root.name if parts[0] == "__init__.py" else Path(parts[0]).stem


def _module_name(path: Path, root: Path) -> list[str]:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imported(node: ast.AST, path: Path, root: Path) -> list[str]:
    """The dotted names an import statement (or import_module call) brings in."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            here = _module_name(path, root)
            package = here if path.name == "__init__.py" else here[:-1]
            base = ".".join(package[:len(package) - node.level + 1] + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        return [f"{base}.{alias.name}" for alias in node.names]  # `from plume import api` names plume.api
    if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
        first = node.args[0] if node.args else None
        if isinstance(first, ast.JoinedStr) and first.values:
            first = first.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return [first.value]
    return []


def import_edges(root: Path) -> dict[tuple[str, str], list[str]]:
    """(importing package, imported package) → where ("file:line"), for every import between two."""
    units = {package_of(p, root) for p in root.rglob("*.py")}
    edges: dict[tuple[str, str], list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        source = package_of(path, root)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            for name in _imported(node, path, root):
                parts = name.split(".")
                if parts[0] != root.name:
                    continue
                target = parts[1] if len(parts) > 1 and parts[1] in units else root.name
                if target != source:
                    edges.setdefault((source, target), []).append(f"{path.relative_to(root)}:{node.lineno}")
    return edges


def layer_of(layers: list[set[str]]) -> dict[str, int]:
    return {unit: depth for depth, layer in enumerate(layers) for unit in layer}


def upward(edges, layers: list[set[str]]) -> list[tuple[str, str]]:
    depth = layer_of(layers)
    return sorted((a, b) for a, b in edges if depth[b] < depth[a])


def cycles(edges) -> list[list[str]]:
    """The import cycles between packages: each strongly connected group of two or more (Tarjan)."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def long_modules(root: Path, max_lines: int) -> dict[str, int]:
    """Modules over `max_lines` whose docstring has no line starting with « Long because: »."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        docstring = ast.get_docstring(ast.parse(text)) or ""
        if lines > max_lines and not any(line.strip().startswith(REASON) for line in docstring.splitlines()):
            found[path.relative_to(root).as_posix()] = lines
    return found


# -- the rules ---------------------------------------------------------------------------------------

EDGES = import_edges(PLUME)


def test_every_package_has_one_layer_and_one_row():
    packages = {package_of(p, PLUME) for p in PLUME.rglob("*.py")}
    placed = [unit for layer in LAYERS for unit in layer]
    assert len(placed) == len(set(placed)), "a package is in two layers"
    assert packages == set(placed) == set(ALLOWED), (
        f"new package(s) {sorted(packages - set(placed))}: give each a layer in LAYERS and a row in ALLOWED; "
        f"gone: {sorted(set(placed) - packages)}")


def test_the_table_allows_no_import_upward():
    allowed = [(a, b) for a, targets in ALLOWED.items() for b in targets]
    assert upward(allowed, LAYERS) == []


def test_no_package_imports_what_the_table_does_not_allow():
    unexpected = {edge: where for edge, where in EDGES.items()
                  if edge[1] not in ALLOWED.get(edge[0], set()) and edge not in KNOWN_UPWARD}
    assert not unexpected, "\n".join(
        f"{a} imports {b} ({', '.join(where[:3])}): "
        + ("that goes up (LAYERS); move the code instead" if (a, b) in upward([(a, b)], LAYERS) else
           "not in ALLOWED; add it if the design wants it")
        for (a, b), where in sorted(unexpected.items()))


def test_no_import_cycle_between_packages():
    allowed = [(a, b) for a, targets in ALLOWED.items() for b in targets]
    present = [edge for edge in EDGES if edge not in KNOWN_UPWARD]
    assert cycles(allowed + present) == []


def test_each_known_upward_import_is_still_there_and_goes_up():
    for edge, why in KNOWN_UPWARD.items():
        assert edge in EDGES, f"{edge[0]} no longer imports {edge[1]}: remove it from KNOWN_UPWARD ({why})"
        assert upward([edge], LAYERS) == [edge], f"{edge} does not go up: it belongs in ALLOWED"


def test_no_module_over_400_lines_without_its_reason():
    long = long_modules(PLUME, MAX_LINES)
    unexplained = {name: n for name, n in long.items() if name not in LONG_FOR_NOW}
    assert not unexplained, (
        f"over {MAX_LINES} lines: {unexplained}. Split it by concern, or write at the top of its docstring "
        f"a line « {REASON} … » saying why it reads better whole")
    finished = sorted(set(LONG_FOR_NOW) - set(long))
    assert not finished, f"{finished} no longer over {MAX_LINES} lines (or now say why): remove from LONG_FOR_NOW"


def test_the_checks_see_planted_violations(tmp_path):
    """The rules above can fail: a small tree with one of each violation."""
    root = tmp_path / "plume"
    (root / "low").mkdir(parents=True)
    (root / "high").mkdir()
    (root / "__init__.py").write_text("")
    (root / "low" / "__init__.py").write_text("def f():\n    from plume.high import x\n")  # upward, in a function
    (root / "high" / "__init__.py").write_text("from ..low import y\nfrom plume import side\n")  # relative
    (root / "side.py").write_text('import importlib\nimportlib.import_module(f"plume.high.{1}")\n')
    (root / "long.py").write_text('"""A long module."""\n' + "x = 1\n" * 400)
    (root / "reasoned.py").write_text('"""A long module.\n\nLong because: one table.\n"""\n' + "x = 1\n" * 400)
    edges = import_edges(root)
    assert set(edges) == {("low", "high"), ("high", "low"), ("high", "side"), ("side", "high")}
    assert edges[("low", "high")] == ["low/__init__.py:2"]
    assert upward(edges, [{"high"}, {"low", "side"}, {"plume"}]) == [("low", "high"), ("side", "high")]
    assert cycles(edges) == [["high", "low", "side"]]
    assert long_modules(root, MAX_LINES) == {"long.py": 401}
