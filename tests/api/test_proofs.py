"""The public proof routes: the signed checkpoint (C2SP, ``text/plain``) checked with
``cryptography`` on its exact bytes, kept once per head, and inclusion and consistency proofs
between two checkpoints that verify with the RFC 9162 algorithms; bad parameters are 4xx
problems naming the parameter."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from events import merkle
from events.checkpoint import VerifierKey, verify_checkpoint
from sandbox import transparency
from tests.fixtures.api import Api


def with_key(api: Api) -> VerifierKey:
    """The verifier key of the key the app created when it opened the registry."""
    return transparency.load_key(api.app.state.store).verifier


def test_the_checkpoint_is_public_signed_and_kept_once_per_head(api: Api) -> None:
    key = with_key(api)
    r = api.get("/api/v1/audit/checkpoint")  # no token
    assert r.status_code == 200 and r.headers["content-type"] == "text/plain; charset=utf-8"
    text, _, signatures = r.text.partition("\n\n")
    line = signatures.removesuffix("\n").split(" ")
    assert line[:2] == ["\u2014", key.name]
    blob = base64.b64decode(line[2])
    assert blob[:4] == key.id
    Ed25519PublicKey.from_public_bytes(key.public).verify(blob[4:], (text + "\n").encode())
    head = verify_checkpoint(r.text, key)
    assert head.size == api.head()
    assert api.get("/api/v1/audit/checkpoint").status_code == 200
    assert len(api.app.state.store.checkpoints()) == 1  # the same head is kept once


def test_proofs_between_two_checkpoints_verify(api: Api) -> None:
    key = with_key(api)
    first = verify_checkpoint(api.get("/api/v1/audit/checkpoint").text, key)
    pid = api.create("ecny-pilot")
    api.ecny_application(pid)
    second = verify_checkpoint(api.get("/api/v1/audit/checkpoint").text, key)
    assert second.size > first.size
    kept = api.app.state.store.checkpoints()
    assert [size for _, size, *_ in kept] == [second.size, first.size]
    r = api.get("/api/v1/audit/proof/consistency", params={"from": first.size, "to": second.size})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["from"], body["to"]) == (first.size, second.size)
    proof = [bytes.fromhex(h) for h in body["hashes"]]
    assert merkle.verify_consistency(first.size, second.size, proof, first.root, second.root)
    events = api.app.state.store.iter_stored()
    for event in events:
        r = api.get("/api/v1/audit/proof/inclusion", params={"position": event.position, "tree_size": second.size})
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["tree_size"], body["leaf_index"]) == (second.size, event.position - 1)
        path = [bytes.fromhex(h) for h in body["hashes"]]
        assert merkle.verify_inclusion(merkle.event_leaf(event.hash), event.position - 1, second.size, path,
                                       second.root)


def test_a_position_or_size_the_log_does_not_hold_is_a_problem_naming_it(api: Api) -> None:
    head = api.head()
    for path, params, field in [
        ("/api/v1/audit/proof/inclusion", {"position": head + 1}, "position"),
        ("/api/v1/audit/proof/inclusion", {"position": 1, "tree_size": head + 1}, "tree_size"),
        ("/api/v1/audit/proof/consistency", {"from": 2, "to": 1}, "from"),
        ("/api/v1/audit/proof/consistency", {"from": 1, "to": head + 5}, "to"),
    ]:
        r = api.get(path, params=params)
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["code"] == "out_of_range" and body["errors"][0]["field"] == field
        assert body["message_zh"] and body["errors"][0]["source"] == "query"
    r = api.get("/api/v1/audit/proof/inclusion", params={"position": 0})
    assert r.status_code == 400
    r = api.get("/api/v1/audit/proof/inclusion")
    assert r.status_code == 400 and r.json()["errors"][0] == {
        "field": "position", "rule": "is required", "rule_zh": r.json()["errors"][0]["rule_zh"], "source": "query"
    }
    assert "必" in r.json()["errors"][0]["rule_zh"] or "需" in r.json()["errors"][0]["rule_zh"]


def test_without_a_signing_key_the_checkpoint_says_how_to_get_one(api: Api) -> None:
    transparency.key_path(api.app.state.store.path).unlink()  # say, moved away to rotate it
    r = api.get("/api/v1/audit/checkpoint")
    assert r.status_code == 503
    assert r.json()["code"] == "no_signing_key" and "init" in r.json()["message_en"]
