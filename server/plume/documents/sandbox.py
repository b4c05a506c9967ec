"""The Jinja sandbox letter models run in, bounded by construction.

Jinja's `SandboxedEnvironment` stops a template from reaching Python's internals, not from asking for
a billion loop iterations or a ten-gigabyte string. `BoundedEnvironment` adds, before any allocation:
- every loop iteration, macro body and call is charged to the render's `Budget` (iterations, output
  characters of the body's static text, deadline); recursive loops are refused at compile time;
- `range()` gives at most `max_iterations` numbers;
- `*`, `+`, `~`, `**`, `%` (and `|format`, `str.format`, `center`, `replace`, `join`…) refuse a result
  larger than `max_output_chars` (or an integer over 100,000 bits) before computing it;
- lists and dicts are immutable (`ImmutableSandboxedEnvironment`): no `append` loop to grow one;
- `lipsum()` is removed.
The same class serves the letter parts and the `output` file-name pattern.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import TemplateSyntaxError, nodes, pass_eval_context
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment, SandboxedEnvironment, _mutable_spec
from jinja2.visitor import NodeTransformer

from plume.documents.budget import DEFAULT_BUDGETS, BudgetExceeded, active, too_large

MAX_INT_BITS = 100_000
MAX_WIDTH = 10_000  # widths and precisions in %-formats and format specs
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.)", re.DOTALL)
_DIGITS = re.compile(r"\d+")


def _limit() -> int:
    budget = active()
    return (budget.limits if budget else DEFAULT_BUDGETS).max_output_chars


def size_of(value: Any, cap: int | None = None, _depth: int = 0) -> int:
    """Characters `value` would print as, estimated from the inside, stopping once past `cap`
    (a list holding the same long string 1,000 times counts it 1,000 times)."""
    cap = _limit() if cap is None else cap
    if isinstance(value, str):
        return len(value)
    if isinstance(value, bool | None | float):
        return 8
    if isinstance(value, int):
        return value.bit_length() // 3 + 1
    if _depth > 20:
        return cap + 1
    if isinstance(value, Mapping):
        items = [x for pair in value.items() for x in pair]
    elif isinstance(value, list | tuple | set | frozenset):
        items = value
    else:
        return 16
    total = 2
    for item in items:
        total += size_of(item, cap, _depth + 1) + 2
        if total > cap:
            return total
    return total


def check_size(n: int) -> None:
    if n > _limit():
        raise too_large(_limit())


def _check_int(value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise BudgetExceeded("Le modèle calcule un nombre démesuré.")


def check_percent(fmt: str, args: Any) -> None:
    """`'%05d' % x`, `|format`: widths and precisions bounded, `*` refused."""
    for match in _PERCENT_SPEC.finditer(fmt):
        for number in match.group(1, 2):
            if number == "*" or (number and int(number) > MAX_WIDTH):
                raise BudgetExceeded(f"Le modèle demande une largeur de format démesurée (au plus {MAX_WIDTH:,}).".replace(",", "'"))
    check_size(len(fmt) + size_of(args))


def check_format_spec(fmt: str) -> None:
    """`'{:>20}'.format(x)`: the same bound; nested `{:{w}}` widths refused."""
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError:
        return  # str.format will raise its own ValueError → RenderFailed
    for _, _, spec, _ in fields:
        if spec and ("{" in spec or any(int(d) > MAX_WIDTH for d in _DIGITS.findall(spec))):
            raise BudgetExceeded(f"Le modèle demande une largeur de format démesurée (au plus {MAX_WIDTH:,}).".replace(",", "'"))


def _binop_size(op: str, left: Any, right: Any) -> None:
    if op == "*":
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(count, int):
                check_size(size_of(seq) * max(count, 0))
        if isinstance(left, int) and isinstance(right, int):
            if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise BudgetExceeded("Le modèle calcule un nombre démesuré.")
    elif op == "+":
        if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
            check_size(size_of(left) + size_of(right))
    elif op == "**":
        if isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
            if left.bit_length() * right > MAX_INT_BITS:
                raise BudgetExceeded("Le modèle calcule un nombre démesuré.")
    elif op == "%" and isinstance(left, str):
        check_percent(left, right)


def bounded_range(*args: int) -> range:
    budget = active()
    limit = (budget.limits if budget else DEFAULT_BUDGETS).max_iterations
    numbers = range(*args)
    if len(numbers) > limit:
        raise BudgetExceeded(f"Le modèle demande une boucle de {len(numbers):,} tours ; au plus {limit:,} par "
                             "document.".replace(",", "'"))
    return numbers


@pass_eval_context
def bounded_concat(eval_ctx: Any, *parts: Any) -> str:
    """`a ~ b`: Jinja's own join, once the result is known to fit."""
    check_size(sum(size_of(p) for p in parts))
    return markup_join(parts) if eval_ctx.autoescape else str_join(parts)


def charge_output(value: Any) -> None:
    """A `{{ value }}` about to be printed: containers checked before they are turned into text,
    the characters charged to the render."""
    if not isinstance(value, str):
        if isinstance(value, list | tuple | set | frozenset | Mapping):
            check_size(size_of(value))
        return
    budget = active()
    if budget is not None:
        budget.chars += len(value)
        if budget.chars > budget.limits.max_output_chars:
            raise too_large(budget.limits.max_output_chars)


def charge(chars: int) -> None:
    """Called at the start of every loop iteration and macro body: one step plus its static text."""
    budget = active()
    if budget is not None:
        budget.step(chars)


# -- string methods and filters that grow their input --------------------------------------------

def _check_str_method(method: Any, args: tuple, kwargs: dict) -> None:
    name, text = method.__name__, method.__self__
    values = [*args, *kwargs.values()]
    if name in ("center", "ljust", "rjust", "zfill"):
        check_size(max([len(text), *[v for v in values if isinstance(v, int)]]))
    elif name == "expandtabs":
        check_size(len(text) * max([8, *[v for v in values if isinstance(v, int)]]))
    elif name == "replace" and len(args) >= 2:
        _check_replace(text, args[0], args[1])
    elif name == "join" and args:
        items = args[0]
        check_size(size_of(items) + len(text) * (len(items) if hasattr(items, "__len__") else 1))


def _check_replace(text: Any, old: Any, new: Any) -> None:
    text, old, new = str(text), str(old), str(new)
    count = text.count(old) if old else len(text) + 1
    check_size(len(text) + count * max(len(new) - len(old), 0))


def _guard(original: Callable, check: Callable[..., None]) -> Callable:
    """A builtin filter with a size check before it runs (pass_* markers kept by functools.wraps)."""

    @functools.wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        check(*args, **kwargs)
        return original(*args, **kwargs)

    return guarded


def _skip_ctx(check: Callable[..., None]) -> Callable[..., None]:
    return lambda _ctx, *args, **kwargs: check(*args, **kwargs)


def _int_arg(position: int, name: str) -> Callable[..., None]:
    def check(*args: Any, **kwargs: Any) -> None:
        value = kwargs.get(name, args[position] if len(args) > position else 0)
        if isinstance(value, int):
            check_size(value)
    return check


def _indent_check(s: Any, width: Any = 4, *_: Any, **kwargs: Any) -> None:
    width = kwargs.get("width", width)
    pad = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
    text = str(s)
    check_size(len(text) + (text.count("\n") + 1) * pad)


def _join_check(value: Any, d: Any = "", *_: Any, **__: Any) -> None:
    if isinstance(value, list | tuple | set | frozenset | Mapping | str):
        check_size(size_of(value) + len(str(d)) * len(value))


def _wordwrap_check(s: Any, width: Any = 79, *args: Any, **kwargs: Any) -> None:
    wrap = kwargs.get("wrapstring") or (args[1] if len(args) > 1 else None) or "\n"
    check_size(len(str(s)) * (1 + len(str(wrap))))


def _nesting(value: Any, depth: int = 0) -> int:
    """How deep lists and mappings nest in `value` (capped: json gives up long before)."""
    if depth >= 100 or not isinstance(value, list | tuple | Mapping):
        return depth
    items = value.values() if isinstance(value, Mapping) else value
    return max((_nesting(item, depth + 1) for item in items), default=depth + 1)


def _tojson_check(value: Any, indent: Any = None, *_: Any, **kwargs: Any) -> None:
    # With an indent, every item gets its own line indented by its depth: 1 item of a long list
    # with indent=100000 is 100'000 characters (seen: 19 GB for a 100'000-item list).
    indent = kwargs.get("indent", indent)
    pad = len(indent) if isinstance(indent, str) else indent if isinstance(indent, int) else 0
    size = size_of(value)
    check_size(size)
    if pad > 0:
        check_size(size * (1 + pad * _nesting(value)))


_FILTER_CHECKS: dict[str, Callable[..., None]] = {
    "center": _int_arg(1, "width"),
    "indent": _indent_check,
    "format": lambda value, *args, **kwargs: check_percent(str(value), kwargs or args),
    "replace": _skip_ctx(lambda s, old, new, *_, **__: _check_replace(s, old, new)),
    "join": _skip_ctx(_join_check),
    "wordwrap": _skip_ctx(_wordwrap_check),
    "batch": _int_arg(1, "linecount"),
    "slice": _skip_ctx(_int_arg(1, "slices")),
    "string": lambda value, *_, **__: check_size(size_of(value)),
    "pprint": lambda value, *_, **__: check_size(size_of(value)),
    "tojson": _skip_ctx(_tojson_check),
    "list": lambda value, *_, **__: check_size(size_of(value)) if isinstance(value, str) else None,
}


# -- the environment -----------------------------------------------------------------------------

_CHARGED = (nodes.For, nodes.Macro, nodes.CallBlock)
_MUTATORS = frozenset().union(*(names for _, names in _mutable_spec))


def _static_chars(body: list[nodes.Node]) -> int:
    """Characters of template text in `body`, not counting nested loops and macros (they charge
    their own)."""
    total = 0
    stack: list[nodes.Node] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, nodes.TemplateData):
            total += len(node.data)
        elif not isinstance(node, _CHARGED):
            stack.extend(node.iter_child_nodes())
    return total


class _Bounder(NodeTransformer):
    """Rewrites the parsed template before code generation: charges in loop and macro bodies,
    `~` through `bounded_concat`."""

    def _charged(self, node: nodes.Node) -> nodes.Node:
        self.generic_visit(node)
        cost = nodes.ExprStmt(nodes.Call(nodes.EnvironmentAttribute("plume_charge"),
                                         [nodes.Const(_static_chars(node.body))], [], None, None))
        cost.set_lineno(node.lineno)
        node.body = [cost, *node.body]
        return node

    def visit_For(self, node: nodes.For) -> nodes.Node:
        if node.recursive:
            raise TemplateSyntaxError("boucle « recursive » non autorisée dans un modèle de lettre", node.lineno)
        return self._charged(node)

    visit_Macro = visit_CallBlock = _charged

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        call = nodes.Call(nodes.EnvironmentAttribute("plume_concat"), list(node.nodes), [], None, None)
        call.set_lineno(node.lineno)
        return call


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox plus the bounds above."""

    intercepted_binops = frozenset({"*", "+", "**", "%"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals["range"] = bounded_range
        self.globals.pop("lipsum", None)
        self.plume_charge = charge
        self.plume_concat = bounded_concat
        for name, check in _FILTER_CHECKS.items():
            if name in self.filters:
                self.filters[name] = _guard(self.filters[name], check)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        # The immutable sandbox's check walks abstract base classes on every attribute access
        # (`commune.nom`…): only names of mutating methods need it.
        if attr in _MUTATORS:
            return super().is_safe_attribute(obj, attr, value)
        return SandboxedEnvironment.is_safe_attribute(self, obj, attr, value)

    def _generate(self, source: nodes.Template, *args: Any, **kwargs: Any) -> str:
        return super()._generate(_Bounder().visit(source), *args, **kwargs)

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        _binop_size(operator_, left, right)
        return super().call_binop(context, operator_, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - Jinja's signature
        budget = active()
        if budget is not None and __obj is not charge:  # charge() counts its own step
            budget.step()
        if isinstance(getattr(__obj, "__self__", None), str) and hasattr(__obj, "__name__"):
            _check_str_method(__obj, args, kwargs)
        for value in (*args, *kwargs.values()):
            _check_int(value)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapper = super().wrap_str_format(value)
        if wrapper is None:
            return None
        fmt = value.__self__

        @functools.wraps(wrapper)
        def checked(*args: Any, **kwargs: Any) -> str:
            check_format_spec(fmt)
            check_size(len(fmt) + size_of(args) + size_of(kwargs))
            return wrapper(*args, **kwargs)

        return checked


__all__ = ["BoundedEnvironment", "size_of", "check_size", "charge_output"]
