"""A tick keeps a signed checkpoint only of a log that can be signed: one in a file with its key
beside it and its Merkle tree kept (the SQLite store); a store in memory is passed over."""

from __future__ import annotations

from pathlib import Path

from events.memory import InMemoryEventStore
from sandbox import transparency
from sandbox.registry import init_registry, make_codec, open_store


def test_a_store_in_memory_is_passed_over() -> None:
    store = InMemoryEventStore(make_codec())
    init_registry(store)
    assert not isinstance(store, transparency.SignedLog)
    assert transparency.keep_on_tick(store) is False


def test_a_log_in_a_file_is_signed_once_it_has_a_key_and_again_only_when_it_moved(tmp_path: Path) -> None:
    store = open_store(tmp_path / "r.db", create=True)
    try:
        init_registry(store)
        assert isinstance(store, transparency.SignedLog)
        assert transparency.keep_on_tick(store) is False  # no key yet
        transparency.ensure_key(store)
        assert transparency.keep_on_tick(store) is True
        assert transparency.keep_on_tick(store) is False  # the head has not moved
        assert [size for _, size, *_ in store.checkpoints()] == [store.head().position]
    finally:
        store.close()
