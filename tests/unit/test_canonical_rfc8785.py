"""The canonical form against RFC 8785 (JSON Canonicalization Scheme), through the ``rfc8785``
package: the same bytes for every payload the log can hold, except the key order the README states
as the one difference (code points here, UTF-16 code units in RFC 8785, which differ only when an
object has a key with a character beyond U+FFFF and one with a character from U+E000 to U+FFFF)."""

from __future__ import annotations

from typing import Any

import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from events.codec import canonical_json

MAX_SAFE = 2**53 - 1

# Every character, those beyond U+FFFF and the private-use and specials block below it included.
text = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)
keys = st.one_of(text, st.sampled_from(["\ue000", "\uffff", "\U0001f600", "\U00010000", "a", "é"]))
values = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE, MAX_SAFE) | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=20,
)


def utf16(key: str) -> bytes:
    return key.encode("utf-16-be")


def orders_agree(value: Any) -> bool:
    """Whether every object in ``value`` sorts its keys alike by code point and by UTF-16."""
    if isinstance(value, dict):
        return sorted(value) == sorted(value, key=utf16) and all(map(orders_agree, value.values()))
    if isinstance(value, list):
        return all(map(orders_agree, value))
    return True


@given(values)
def test_the_canonical_bytes_are_rfc8785_where_key_orders_agree(value: Any) -> None:
    ours = canonical_json(value)
    if orders_agree(value):
        assert ours == rfc8785.dumps(value)
    else:
        assert ours != rfc8785.dumps(value)


@given(values)
def test_the_only_difference_is_the_order_of_keys(value: Any) -> None:
    """Written in RFC 8785's form, but with each object's members in code-point order, the value
    gives exactly the canonical bytes: escapes, numbers and white space are RFC 8785's."""

    def jcs(v: Any) -> bytes:
        if isinstance(v, dict):
            return b"{" + b",".join(rfc8785.dumps(k) + b":" + jcs(v[k]) for k in sorted(v)) + b"}"
        if isinstance(v, list):
            return b"[" + b",".join(jcs(x) for x in v) + b"]"
        return rfc8785.dumps(v)

    assert canonical_json(value) == jcs(value)


def test_a_key_beyond_u_ffff_sorts_after_one_of_the_specials_block_here_and_before_it_in_rfc8785() -> None:
    value = {"\U0001f600": 1, "\uff61": 2}
    assert canonical_json(value) == '{"｡":2,"😀":1}'.encode()
    assert rfc8785.dumps(value) == '{"😀":1,"｡":2}'.encode()
