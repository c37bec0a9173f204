"""Verifiable register extracts: ``GET /api/v1/register/{id}/proof``, ``sandbox-registry
register-proof`` and ``sandbox-registry audit entry``. The bundle is checked here independently
(the signature with ``cryptography``'s Ed25519, each event's hash recomputed from its record by
the README's canonical form, each inclusion proof by the test's own RFC 9162 recursion), no
private value appears in it, and every tampering is refused naming what failed."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from events.checkpoint import SigningKey, VerifierKey
from sandbox import extracts, transparency
from sandbox.cli import main
from sandbox.config import DB_ENV
from sandbox.registry import make_codec
from sandbox.transparency import KEY_ENV, ORIGIN_ENV
from tests.fixtures.api import Api, running
from tests.fixtures.merkle_reference import root_from_inclusion

COMMENT = "支持小微企业融资创新，但担心数据安全"
GROUNDS = "数据来源合法性存疑"
OBJECTOR, CONTACT = "陈先生", "138 0000 0001"
ITEMS, SUMMARY = "补充风险补偿金到位证明", "已补充：风险补偿金到位"
ASSESSMENT = "内部评估意见：待补充渗透测试"
PRIVATE = (COMMENT, GROUNDS, OBJECTOR, CONTACT, ITEMS, SUMMARY, ASSESSMENT)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, str, Path]]:
    """A project on the register with a request for information, a comment, two objections
    (one dismissed) and an assessment: private events among the public ones."""
    db = tmp_path_factory.mktemp("extract") / "registry.db"
    with running(db) as api:
        pid = api.create("fintech-sandbox")
        api.fintech_application(pid)
        api.do(pid, "alice", "submit")
        api.do(pid, "carol", "request_information", {"items": [ITEMS]})
        api.do(pid, "alice", "supply_information", {"summary": SUMMARY})
        api.do(pid, "carol", "accept_intake")
        api.do(pid, "sam", "file_assessment", {"topic": "technical_security_review", "outcome": "favourable",
                                               "summary": ASSESSMENT})
        api.assess(pid)
        api.do(pid, "carol", "open_public_notice", {"channel": "官网公示栏"})
        api.do(pid, "pat", "comment", {"text": COMMENT})
        api.do(pid, None, "object", {"grounds": GROUNDS, "name": OBJECTOR, "contact": CONTACT})
        api.do(pid, None, "object", {"grounds": "第二项异议", "name": "李女士", "contact": "139 0000 0002"})
        first = next(e for e in api.events(pid) if e["type"] == "ObjectionFiled")
        api.do(pid, "carol", "dispose_objection", {"objection_id": first["data"]["objection_id"],
                                                   "outcome": "dismissed", "reason": "来源授权齐全"})
        yield api, pid, db


def key_of(api: Api) -> VerifierKey:
    return transparency.load_key(api.app.state.store).verifier


def H(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def check_independently(bundle: dict[str, Any], key: VerifierKey) -> None:
    """What an outsider does with the README alone, written here from the specifications."""
    note = bundle["checkpoint"]
    text, _, signature_lines = note.partition("\n\n")
    dash, name, blob = signature_lines.removesuffix("\n").split(" ")
    signature = base64.b64decode(blob)
    assert (dash, name, signature[:4]) == ("\u2014", key.name, key.id)
    Ed25519PublicKey.from_public_bytes(key.public).verify(signature[4:], (text + "\n").encode())
    origin, size, root = text.split("\n")
    size_n, root_hash = int(size), base64.b64decode(root)
    assert origin == key.name and size_n == bundle["tree_size"]
    versions = []
    for item in bundle["events"]:
        if "record" in item:
            record = dict(item["record"])
            claimed = record.pop("hash")
            canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            assert hashlib.sha256(canonical.encode()).hexdigest() == claimed
            assert record["position"] == item["position"]
            versions.append(record["version"])
        else:
            claimed = item["withheld"]["hash"]
            versions.append(item["withheld"]["version"])
        leaf = H(b"\x00" + bytes.fromhex(claimed))
        proof = [bytes.fromhex(h) for h in item["inclusion"]]
        assert root_from_inclusion(item["position"] - 1, size_n, leaf, proof) == root_hash
    assert versions == list(range(1, len(versions) + 1))


def test_the_extract_is_public_verifies_independently_and_holds_nothing_private(
    world: tuple[Api, str, Path],
) -> None:
    api, pid, _ = world
    r = api.get(f"/api/v1/register/{pid}/proof")  # no token
    assert r.status_code == 200, r.text
    bundle = r.json()
    check_independently(bundle, key_of(api))
    served = api.get(f"/api/v1/register/{pid}", params={"position": bundle["tree_size"]}).json()
    assert bundle["entry"] == served == api.get(f"/api/v1/register/{pid}").json()
    assert served["comments"] == 1 and served["objections"] == {"total": 2, "upheld": 0, "dismissed": 1, "open": 1}
    assert "RETURNED_FOR_INFO" in [h["state"] for h in served["history"]]
    # every event of the stream is there, the private ones withheld
    stream = api.events(pid)
    assert [e["position"] for e in bundle["events"]] == [e["position"] for e in stream]
    whole = {i["record"]["type"] for i in bundle["events"] if "record" in i}
    withheld = {i["withheld"]["type"] for i in bundle["events"] if "withheld" in i}
    assert {"CommentReceived", "ObjectionFiled", "AssessmentFiled", "InformationRequested"} <= withheld
    assert {"DraftCreated", "PublicNoticeOpened", "ObjectionDisposed"} <= whole
    assert not whole & withheld
    # nothing private: no comment, grounds, objector, information exchanged or assessment, and no
    # commenter's or objector's identity
    text = r.text
    for value in PRIVATE:
        assert value not in text, value
    assert '"actor":"pat"' not in text.replace(" ", "")
    public_actors = {e["metadata"]["actor"] for e in stream if e["metadata"]["role"] == "public"}
    assert all(i["record"]["metadata"]["role"] != "public" for i in bundle["events"] if "record" in i)
    assert public_actors and all(f'"{a}"' not in text for a in public_actors - {"anonymous"})
    # and the code the CLI uses agrees
    extracts.check_extract(r.content, key_of(api), make_codec())


def test_a_project_not_on_the_register_has_no_extract(world: tuple[Api, str, Path]) -> None:
    api, _, _ = world
    draft = api.create("fintech-sandbox")
    for pid in (draft, "no-such-project"):
        r = api.get(f"/api/v1/register/{pid}/proof")
        assert r.status_code == 404, r.text


def _drop_event(b: dict[str, Any]) -> None:
    del b["events"][2]


def _alter_record(b: dict[str, Any]) -> None:
    item = next(i for i in b["events"] if "record" in i and i["record"]["type"] == "DraftCreated")
    item["record"]["data"]["title"] += "（改）"


def _alter_record_and_its_hash(b: dict[str, Any]) -> None:
    """A changed event whose hash is recomputed, as a forger would: its proof no longer fits."""
    item = next(i for i in b["events"] if "record" in i and i["record"]["type"] == "DraftCreated")
    record = item["record"]
    record["data"]["title"] += "（改）"
    body = {k: v for k, v in record.items() if k != "hash"}
    record["hash"] = hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()


def _alter_entry(b: dict[str, Any]) -> None:
    b["entry"]["comments"] += 1


def _withhold_a_public_event(b: dict[str, Any]) -> None:
    item = next(i for i in b["events"] if "record" in i and i["record"]["type"] == "PublicNoticeOpened")
    r = item.pop("record")
    item["withheld"] = {"position": r["position"], "version": r["version"], "type": "CommentReceived",
                        "hash": r["hash"]}


def _retype_a_withheld_event(b: dict[str, Any]) -> None:
    """Say a withheld objection was a comment: the proofs still hold, the entry no longer."""
    item = next(i for i in b["events"] if "withheld" in i and i["withheld"]["type"] == "ObjectionFiled")
    item["withheld"] = {k: v for k, v in item["withheld"].items() if k != "objection_id"} | {"type": "CommentReceived"}


def _withheld_objection_without_its_id(b: dict[str, Any]) -> None:
    item = next(i for i in b["events"] if "withheld" in i and i["withheld"]["type"] == "ObjectionFiled")
    del item["withheld"]["objection_id"]


def _bad_signature(b: dict[str, Any]) -> None:
    text, _, sig = b["checkpoint"].partition("\n\n")
    lines = text.split("\n")
    b["checkpoint"] = "\n".join([lines[0], str(int(lines[1]) + 1), lines[2]]) + "\n\n" + sig
    b["tree_size"] += 1


TAMPERING: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "a dropped event": (_drop_event, "an event is missing"),
    "an altered event": (_alter_record, "its hash is not the SHA-256 of its content"),
    "an altered event with its hash recomputed": (_alter_record_and_its_hash, "inclusion proof does not lead"),
    "an altered entry": (_alter_entry, "fields differ: comments"),
    "a public event withheld": (_withhold_a_public_event, "fields differ"),
    "a withheld event retyped": (_retype_a_withheld_event, "fields differ: comments, objections"),
    "a checkpoint whose signature does not verify": (_bad_signature, "does not verify"),
    "a withheld objection without its id": (_withheld_objection_without_its_id, "cannot be replayed"),
}


@pytest.mark.parametrize("case", TAMPERING)
def test_a_tampered_extract_is_refused_naming_what_failed(
    world: tuple[Api, str, Path], tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, pid, _ = world
    bundle = api.get(f"/api/v1/register/{pid}/proof").json()
    tamper, why = TAMPERING[case]
    changed = copy.deepcopy(bundle)
    tamper(changed)
    with pytest.raises(extracts.ExtractRefused, match=why):
        extracts.check_extract(json.dumps(changed).encode(), key_of(api), make_codec())
    # and from the command line: exit 1, the reason in English and in Chinese, no traceback
    for name in (DB_ENV, KEY_ENV, ORIGIN_ENV):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "entry.json"
    path.write_text(json.dumps(changed), encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", "entry", str(path), "--key", key_of(api).text()])
    assert result.exit_code == 1, result.output
    assert why in result.output and "Traceback" not in result.output
    assert any("\u4e00" <= c <= "\u9fff" for c in result.output)


@pytest.mark.parametrize("depth", [600, 5000, 100_000])
def test_a_bundle_nested_too_deep_is_refused_without_a_traceback(
    world: tuple[Api, str, Path], tmp_path: Path, depth: int
) -> None:
    api, pid, _ = world
    bundle = api.get(f"/api/v1/register/{pid}/proof").json()
    item = next(i for i in bundle["events"] if "record" in i)
    text = json.dumps(bundle).replace(
        json.dumps(item["record"]["data"]), '{"x":' * depth + "1" + "}" * depth, 1
    )
    path = tmp_path / "deep.json"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", "entry", str(path), "--key", key_of(api).text()])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # a refusal, not an error
    assert result.output.startswith("Error: ") and "Traceback" not in result.output, result.output


def test_a_checkpoint_of_another_size_or_another_key_is_refused(world: tuple[Api, str, Path]) -> None:
    """The extract's checkpoint swapped for an earlier (genuine) one, or checked with the wrong key."""
    api, pid, _ = world
    earlier = api.get("/api/v1/audit/checkpoint").text  # genuine, and holding all of the project's events
    api.create("fintech-sandbox")  # the log grows
    bundle = api.get(f"/api/v1/register/{pid}/proof").json()
    assert bundle["tree_size"] > int(earlier.split("\n")[1])
    swapped = {**bundle, "checkpoint": earlier}
    with pytest.raises(extracts.ExtractRefused, match="checkpoint is of"):
        extracts.check_extract(json.dumps(swapped).encode(), key_of(api), make_codec())
    swapped["tree_size"] = int(earlier.split("\n")[1])
    with pytest.raises(extracts.ExtractRefused, match="inclusion proof does not lead"):
        extracts.check_extract(json.dumps(swapped).encode(), key_of(api), make_codec())
    other = SigningKey.generate(key_of(api).name).verifier  # another registry calling itself the same
    with pytest.raises(extracts.ExtractRefused, match="no signature by"):
        extracts.check_extract(json.dumps(bundle).encode(), other, make_codec())


def test_the_command_line_gives_the_same_extract_and_checks_it(
    world: tuple[Api, str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api, pid, db = world
    for name in (DB_ENV, KEY_ENV, ORIGIN_ENV):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    made = runner.invoke(main, ["register-proof", pid, "--db", str(db)])
    assert made.exit_code == 0, made.output
    bundle = json.loads(made.output)
    check_independently(bundle, key_of(api))
    assert bundle["entry"] == api.get(f"/api/v1/register/{pid}").json()
    path = tmp_path / "entry.json"
    path.write_text(made.output, encoding="utf-8")
    checked = runner.invoke(main, ["audit", "entry", str(path), "--key", key_of(api).text()])
    assert checked.exit_code == 0, checked.output
    assert checked.output.startswith(f"ok: the entry of project {pid}")
    missing = runner.invoke(main, ["register-proof", "no-such-project", "--db", str(db)])
    assert missing.exit_code != 0 and "not on the public register" in missing.output
    assert "不在公开登记册上" in missing.output and "Traceback" not in missing.output
