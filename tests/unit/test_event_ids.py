"""Event ids: random version-4 UUIDs in canonical text, as ``uuid.UUID`` writes them."""

from __future__ import annotations

import uuid

from events.appending import new_event_id


def test_event_ids_are_canonical_random_uuid4() -> None:
    ids = [new_event_id() for _ in range(2_000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text
    # every variant nibble (8, 9, a, b) occurs: the variant bits are set, not the whole nibble
    assert {text[19] for text in ids} == set("89ab")
