"""The query string as an alert's fields (ingest/query.py), in-process: a `token` in any case is
dropped, never a field; parameters read as a form's; more than MAX_PARAMETERS is refused."""

from __future__ import annotations

import pytest

from triage.ingest.query import MAX_PARAMETERS, BadQuery, Query, read_query


def test_fields_in_order_without_any_token() -> None:
    """`token`, `Token` and `TOKEN` are dropped wherever they stand; `+` is a space, escapes are
    read, a bare name is an empty field, and a name sent twice stays twice."""
    query = read_query("a=1+2&token=t1&b=%C3%A9&Token=t2&bare&a=3&TOKEN=")
    assert query == Query((("a", "1 2"), ("b", "\u00e9"), ("bare", ""), ("a", "3")), True)
    assert read_query("a=1") == Query((("a", "1"),), False)
    assert read_query("") == Query((), False)


def test_an_escape_that_is_no_utf_8_is_kept_for_the_check_to_refuse() -> None:
    """`%FF` is read without failing (the request is not authenticated yet) as a surrogate
    escape, which validate.query_json refuses once it is."""
    [(name, value)] = read_query("a=%FF").fields
    assert (name, value) == ("a", "\udcff")


def test_more_than_max_parameters_is_refused() -> None:
    """MAX_PARAMETERS parameters pass (tokens count too); one more is BadQuery naming the bound."""
    assert len(read_query("&".join(["a=1"] * MAX_PARAMETERS)).fields) == MAX_PARAMETERS
    with pytest.raises(BadQuery, match="1,000"):
        read_query("&".join(["a=1"] * MAX_PARAMETERS) + "&token=x")
