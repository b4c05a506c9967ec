"""The bounded sandbox letter models run in (plume.documents.sandbox) and the separate process that
prepares them (plume.documents.budget.isolated): what a hostile model asks for is refused before it
is computed, what an ordinary letter uses still works."""

from __future__ import annotations

import time
from datetime import date

import pytest
from jinja2 import TemplateSyntaxError
from jinja2.exceptions import SecurityError, UndefinedError

from plume.api.problems import as_problem
from plume.documents.budget import BudgetExceeded, TemplateBudgets, isolated, spending
from plume.documents.formatting import make_environment, plain_environment

LOOPS = "{% for a in range(6000) %}{% for b in range(6000) %}x{% endfor %}{% endfor %}"
NS = "{% set ns = namespace(x='a') %}"

HOSTILE = {
    "nested ranges": LOOPS,
    "one huge range": "{% for a in range(10**9) %}{% endfor %}",
    "string repetition": "{{ 'a' * 10**10 }}",
    "list repetition of a long string": "{{ ['a' * 1000000] * 1000 }}",
    "doubling with ~": NS + "{% for i in range(64) %}{% set ns.x = ns.x ~ ns.x %}{% endfor %}{{ ns.x }}",
    "doubling with +": NS + "{% for i in range(64) %}{% set ns.x = ns.x + ns.x %}{% endfor %}{{ ns.x }}",
    "center filter": "{{ 'a'|center(10**10) }}",
    "ljust method": "{{ 'a'.ljust(10**10) }}",
    "str.format width": "{{ '{:>9999999999}'.format(1) }}",
    "nested format width": "{{ '{:>{w}}'.format(1, w=10**10) }}",
    "%-format width": "{{ '%0999999999999d' % 1 }}",
    "%-format star": "{{ '%*d' % (10**10, 1) }}",
    "format filter width": "{{ '%0999999999999d'|format(1) }}",
    "replace growth": "{{ ('a' * 1000000)|replace('a', 'b' * 100) }}",
    "join growth": "{{ (['a'] * 100000)|join('x' * 1000) }}",
    "indent growth": "{{ ('\n' * 100000)|indent(10**5) }}",
    "huge integer": "{{ 10 ** 1000000 }}",
    "macro fork bomb": "{% macro f(n) %}{% if n > 0 %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}",
    "static text in a long loop": "{% for a in range(100000) %}" + "y" * 1000 + "{% endfor %}",
    "absurd number": "{{ (10 ** 40)|number }}",
    "tojson indent": "{{ ([1] * 100000)|tojson(indent=100000) }}",
    "tojson nested indent": "{{ [[[[['a'] * 1000] * 10] * 10] * 10]|tojson('                ') }}",
}


@pytest.mark.parametrize("source", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize("environment", [make_environment(None), plain_environment()], ids=["letter", "file-name"])
def test_hostile_expressions_are_refused_quickly(environment, source):
    started = time.monotonic()
    with pytest.raises(BudgetExceeded) as refused, spending():
        environment.from_string(source).render(today=date.today())
    assert time.monotonic() - started < 5
    assert as_problem(refused.value).status in (413, 422)  # the status the client gets
    assert any(ch in refused.value.detail for ch in "éèà'")


def test_recursive_loops_and_list_mutation_and_lipsum_are_not_available():
    env = make_environment(None)
    with pytest.raises(TemplateSyntaxError, match="recursive"):
        env.from_string("{% for a in [1] recursive %}{{ loop([1]) }}{% endfor %}")
    with pytest.raises(SecurityError):
        env.from_string("{% set l = [1] %}{{ l.append(2) }}").render()
    with pytest.raises(UndefinedError):
        env.from_string("{{ lipsum(10**6) }}").render()


def test_budget_limits_are_the_configured_ones():
    small = TemplateBudgets(max_iterations=50, max_output_chars=1000, render_timeout_s=5)
    env = make_environment(None)
    with pytest.raises(BudgetExceeded, match="50"), spending(small):
        env.from_string("{% for a in range(60) %}x{% endfor %}").render()
    with pytest.raises(BudgetExceeded, match="1'000"), spending(small):
        env.from_string("{{ 'a' * 1001 }}").render()
    with spending(small):
        assert env.from_string("{% for a in range(40) %}x{% endfor %}").render() == "x" * 40


def test_ordinary_letters_still_work():
    env = make_environment(None)
    source = ("{% macro ligne(x) %}[{{ x }}]{% endmacro %}{% for a in range(3) %}{{ ligne(a ~ '-' ~ loop.index) }}"
              "{% endfor %}|{{ '%05d' % 7 }}|{{ '{:>4}'.format('a') }}|{{ 'x' * 3 }}|{{ ['a', 'b']|join(', ') }}|"
              "{{ 'a-b'|replace('-', ' / ') }}|{{ [1, 2] + [3] }}|{{ 2 ** 10 }}|{{ 'abc'|center(7) }}")
    with spending():
        out = env.from_string(source).render()
    assert out == "[0-1][1-2][2-3]|00007|   a|xxx|a, b|a / b|[1, 2, 3]|1024|  abc  "  # an untyped number is written as it is


def test_a_babel_pattern_babel_cannot_apply_is_a_value_error():
    with pytest.raises(ValueError):
        make_environment(None).from_string('{{ today|date("zzzz") }}').render(today=date.today())


def test_isolated_process_is_killed_past_its_time_and_memory():
    started = time.monotonic()
    with pytest.raises(BudgetExceeded, match="temps autorisé") as late:
        isolated(time.sleep, 30, limits=TemplateBudgets(prepare_timeout_s=1))
    assert time.monotonic() - started < 10 and as_problem(late.value).status == 422
    with pytest.raises(BudgetExceeded, match="mémoire") as big:
        isolated(bytearray, 3 * 1024**3, limits=TemplateBudgets(prepare_memory_mb=700))
    assert as_problem(big.value).status == 413
    assert isolated(sum, [1, 2, 3]) == 6
    with pytest.raises(ZeroDivisionError):  # the child's own errors come back as they are
        isolated(divmod, 1, 0)
