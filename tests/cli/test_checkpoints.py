"""Signed checkpoints, proofs and the auditor's checks from the command line: the key file beside
the database (mode 0600, never in the log or the export), the C2SP note checked byte for byte with
``cryptography``'s Ed25519 and a key id computed here from the specification, proofs that verify,
``audit verify`` against checkpoints (a wrong key, another log, a rotated key), and
``verify --head``."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from events import merkle
from sandbox.cli import main
from sandbox.config import DB_ENV
from sandbox.transparency import KEY_ENV, ORIGIN_ENV
from tests.fixtures.stores import drop_triggers, notes, open_sqlite, raw_connection, write


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in (DB_ENV, KEY_ENV, ORIGIN_ENV):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def run(runner: CliRunner, *args: str | Path, code: int = 0) -> Result:
    result = runner.invoke(main, [str(a) for a in args])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def db(runner: CliRunner, tmp_path: Path) -> Path:
    path = tmp_path / "registry.db"
    run(runner, "init", "--db", path)
    return path


def vkey_parts(vkey: str) -> tuple[str, bytes, bytes]:
    name, hex_id, material = vkey.strip().split("+", 2)
    raw = base64.b64decode(material)
    assert raw[:1] == b"\x01" and len(raw) == 33
    return name, bytes.fromhex(hex_id), raw[1:]


def test_init_creates_the_signing_key_beside_the_database_readable_by_its_owner_only(
    runner: CliRunner, db: Path, tmp_path: Path
) -> None:
    key = tmp_path / "registry.db.signing-key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    secret = key.read_text().strip().split("+", 4)[4]
    assert run(runner, "init", "--db", db).output.endswith("(kept)\n")  # safe to run again
    export = run(runner, "export", "--db", db).output
    assert secret not in export and secret.encode() not in db.read_bytes()


def test_the_checkpoint_is_a_c2sp_signed_note_whose_signature_verifies_on_its_exact_bytes(
    runner: CliRunner, db: Path
) -> None:
    note = run(runner, "checkpoint", "--db", db).output
    vkey = run(runner, "checkpoint", "--key", "--db", db).output
    name, key_id, public = vkey_parts(vkey)
    assert key_id == hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]
    text, signature_line = note.split("\n\n")
    text += "\n"
    origin, size, root_b64 = text.splitlines()
    assert origin == name and origin.startswith("sandbox-registry/")
    assert signature_line.startswith(f"\u2014 {name} ") and signature_line.endswith("\n")
    blob = base64.b64decode(signature_line.split(" ")[2])
    assert blob[:4] == key_id and len(blob) == 68
    Ed25519PublicKey.from_public_bytes(public).verify(blob[4:], text.encode())  # raises if it does not verify
    # the root is the RFC 9162 root of the events' hashes
    hashes = [json.loads(line)["hash"] for line in run(runner, "export", "--db", db).output.splitlines()]
    assert int(size) == len(hashes)
    assert base64.b64decode(root_b64) == merkle.root_of_leaves([merkle.event_leaf(h) for h in hashes])


def test_prove_gives_proofs_that_verify_against_the_checkpoints_roots(runner: CliRunner, db: Path) -> None:
    first = run(runner, "checkpoint", "--db", db).output
    run(runner, "token", "create", "--db", db, "--role", "auditor", "--name", "a")  # no event: same head
    size = int(first.splitlines()[1])
    root = base64.b64decode(first.splitlines()[2])
    hashes = [json.loads(line)["hash"] for line in run(runner, "export", "--db", db).output.splitlines()]
    for position in range(1, size + 1):
        proof = json.loads(run(runner, "prove", "inclusion", str(position), "--db", db).output)
        assert (proof["tree_size"], proof["leaf_index"]) == (size, position - 1)
        leaf = merkle.event_leaf(hashes[position - 1])
        assert merkle.verify_inclusion(leaf, position - 1, size, [bytes.fromhex(h) for h in proof["hashes"]], root)
    for old in range(1, size):
        proof = json.loads(run(runner, "prove", "consistency", str(old), str(size), "--db", db).output)
        old_root = merkle.root_of_leaves([merkle.event_leaf(h) for h in hashes[:old]])
        assert merkle.verify_consistency(old, size, [bytes.fromhex(h) for h in proof["hashes"]], old_root, root)
    out_of_range = run(runner, "prove", "inclusion", str(size + 1), "--db", db, code=2).output
    assert f"position must be from 1 to {size}" in out_of_range and "须在" in out_of_range


def test_audit_verify_checks_checkpoints_against_the_export(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    before = tmp_path / "before.checkpoint"
    before.write_text(run(runner, "checkpoint", "--db", db).output)
    vkey = tmp_path / "registry.vkey"
    vkey.write_text(run(runner, "checkpoint", "--key", "--db", db).output)
    run(runner, "tick", "--db", db, "--now", "2031-01-01T00:00:00Z", "--future")  # a new year's timers, maybe
    other = tmp_path / "other.db"
    run(runner, "init", "--db", other)  # another registry: its own key
    (tmp_path / "other.vkey").write_text(run(runner, "checkpoint", "--key", "--db", other).output)
    export = tmp_path / "export.jsonl"
    run(runner, "export", "--db", db, "--out", export)
    ok = run(runner, "audit", "verify", export, "--checkpoint", before, "--key", vkey).output
    assert f"checkpoint {before}" in ok and "is signed and matches the export" in ok
    assert "rule" not in ok
    # signed by another key: refused
    refused = run(runner, "audit", "verify", export, "--checkpoint", before, "--key", tmp_path / "other.vkey", code=1)
    assert "no signature by" in refused.output
    # a checkpoint of another log, checked with that log's key: the export's root differs
    theirs = tmp_path / "theirs.checkpoint"
    theirs.write_text(run(runner, "checkpoint", "--db", other).output)
    mismatch = run(runner, "audit", "verify", export, "--checkpoint", theirs, "--key", tmp_path / "other.vkey", code=1)
    assert "another Merkle root" in mismatch.output or "the export holds" in mismatch.output
    # a signature changed by one byte: refused
    forged = tmp_path / "forged.checkpoint"
    text = before.read_text()
    forged.write_text(text.replace(text.splitlines()[1], str(int(text.splitlines()[1]) + 1), 1))
    assert "does not verify" in run(runner, "audit", "verify", export, "--checkpoint", forged, "--key", vkey,
                                    code=1).output


def test_audit_verify_checks_a_consistency_proof_between_two_checkpoints_without_the_export(
    runner: CliRunner, db: Path, tmp_path: Path
) -> None:
    before = tmp_path / "before.checkpoint"
    before.write_text(run(runner, "checkpoint", "--db", db).output)
    store = open_sqlite(db)
    store.append([write("notes", *notes(*map(str, range(40))))], command_id="forty notes")
    store.close()
    after = tmp_path / "after.checkpoint"
    after.write_text(run(runner, "checkpoint", "--db", db).output)
    vkey = run(runner, "checkpoint", "--key", "--db", db).output.strip()
    old, new = (int(f.read_text().splitlines()[1]) for f in (before, after))
    served = json.loads(run(runner, "prove", "consistency", str(old), str(new), "--db", db).output)
    proof = tmp_path / "consistency.json"
    proof.write_text(json.dumps(served))
    # either order of the checkpoints: the smaller tree is the older
    for pair in ((before, after), (after, before)):
        ok = run(runner, "audit", "verify", "--checkpoint", pair[0], "--checkpoint", pair[1], "--proof", proof,
                 "--key", vkey).output
        assert f"checkpoints of {old} and {new} events are signed and consistent" in ok
    # a proof changed in one hash, or of other sizes, or not a proof: exit 1 naming why, in both languages
    cases = {
        "does not show that the tree": {**served, "hashes": [("0" * 64), *served["hashes"][1:]]},
        f"the proof is from {old} to {new + 1} events": {**served, "to": new + 1},
        "not a consistency proof": {"from": old, "to": new, "hashes": ["not hex"]},
    }
    for why, body in cases.items():
        proof.write_text(json.dumps(body))
        refused = run(runner, "audit", "verify", "--checkpoint", before, "--checkpoint", after, "--proof", proof,
                      "--key", vkey, code=1).output
        assert why in refused and "证明" in refused, refused
    # a proof needs two checkpoints, and without an export there must be a proof
    assert "--proof" in run(runner, "audit", "verify", "--checkpoint", before, "--proof", proof, "--key", vkey,
                            code=2).output
    assert "EXPORT" in run(runner, "audit", "verify", "--checkpoint", before, "--key", vkey, code=2).output


def test_a_rotated_key_leaves_old_checkpoints_verifying_with_the_old_key(
    runner: CliRunner, db: Path, tmp_path: Path
) -> None:
    old_note = tmp_path / "old.checkpoint"
    old_note.write_text(run(runner, "checkpoint", "--db", db).output)
    old_vkey = run(runner, "checkpoint", "--key", "--db", db).output
    key = tmp_path / "registry.db.signing-key"
    key.rename(tmp_path / "retired.signing-key")
    assert "(created, mode 0600)" in run(runner, "init", "--db", db).output
    new_vkey = run(runner, "checkpoint", "--key", "--db", db).output
    assert new_vkey != old_vkey and vkey_parts(new_vkey)[0] == vkey_parts(old_vkey)[0]  # same name, new id
    new_note = tmp_path / "new.checkpoint"
    new_note.write_text(run(runner, "checkpoint", "--db", db).output)
    export = tmp_path / "export.jsonl"
    run(runner, "export", "--db", db, "--out", export)
    run(runner, "audit", "verify", export, "--checkpoint", old_note, "--key", old_vkey.strip())
    run(runner, "audit", "verify", export, "--checkpoint", new_note, "--key", new_vkey.strip())
    run(runner, "audit", "verify", export, "--checkpoint", old_note, "--key", new_vkey.strip(), code=1)


def test_verify_head_checks_a_saved_head_is_still_in_the_log(runner: CliRunner, db: Path) -> None:
    lines = run(runner, "export", "--db", db).output.splitlines()
    third = json.loads(lines[2])["hash"]
    assert "still holds the saved head 3:" in run(runner, "verify", "--db", db, "--head", f"3:{third}").output
    other = "0" * 64
    assert "not the saved head hash" in run(runner, "verify", "--db", db, "--head", f"3:{other}", code=1).output
    beyond = run(runner, "verify", "--db", db, "--head", f"{len(lines) + 1}:{third}", code=1).output
    assert f"before the saved head {len(lines) + 1}" in beyond
    assert "POSITION:HASH" in run(runner, "verify", "--db", db, "--head", "three", code=2).output


def test_checkpoint_without_a_key_says_how_to_get_one(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    (tmp_path / "registry.db.signing-key").unlink()
    result = run(runner, "checkpoint", "--db", db, code=2)
    assert "no signing key" in result.output and "sandbox-registry init" in result.output


def test_an_origin_that_cannot_name_a_key_is_refused_by_init(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ORIGIN_ENV, "my registry")
    result = run(runner, "init", "--db", tmp_path / "r.db", code=2)
    assert "SANDBOX_REGISTRY_ORIGIN cannot name a signing key" in result.output and "不能" in result.output
    assert not (tmp_path / "r.db.signing-key").exists()


def test_the_origin_setting_names_the_key_and_the_checkpoints(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ORIGIN_ENV, "registry.example/sandbox")
    run(runner, "init", "--db", tmp_path / "r.db")
    monkeypatch.setenv(ORIGIN_ENV, "registry.example/renamed")  # a later setting does not split name and origin
    note = run(runner, "checkpoint", "--db", tmp_path / "r.db").output
    assert note.startswith("registry.example/sandbox\n") and "\n\u2014 registry.example/sandbox " in note


def rewrite_last_event(db: Path) -> int:
    """Change the last event's data and re-hash it, as someone with the file could (the chain
    stays whole: nothing follows it). Returns its position."""
    conn = raw_connection(db)
    drop_triggers(conn)
    row = conn.execute("SELECT * FROM events ORDER BY position DESC LIMIT 1").fetchone()
    columns = [d[0] for d in conn.execute("SELECT * FROM events LIMIT 0").description]
    record = dict(zip(columns, row, strict=True))
    record["data"] = json.loads(record["data"]) | {"forged": 1}
    record["metadata"] = json.loads(record["metadata"])
    record.pop("hash")
    digest = hashlib.sha256(
        json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    data = json.dumps(record["data"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    conn.execute("UPDATE events SET data = ?, hash = ? WHERE position = ?", (data, digest, record["position"]))
    conn.close()
    return int(record["position"])


def test_verify_finds_a_rewritten_event_under_a_kept_checkpoint(runner: CliRunner, db: Path) -> None:
    run(runner, "checkpoint", "--db", db)  # kept: the head as signed
    position = rewrite_last_event(db)
    found = run(runner, "verify", "--db", db, code=1).output
    assert f"FAILED at position {position}: rule tree" in found
    assert "no longer have the root of the signed checkpoint" in found and "签名检查点" in found


def test_verify_finds_a_changed_subtree_and_a_log_cut_below_a_kept_checkpoint(
    runner: CliRunner, db: Path, tmp_path: Path
) -> None:
    store = open_sqlite(db)
    store.append([write("notes", *notes(*map(str, range(30))))], command_id="thirty notes")  # 38 events
    store.close()
    conn = raw_connection(db)
    assert conn.execute("SELECT count(*) FROM merkle_subtrees").fetchone()[0] == 3  # 0-15, 16-31, 0-31
    drop_triggers(conn)  # as someone rewriting the file would
    conn.execute("UPDATE merkle_subtrees SET hash = zeroblob(32) WHERE level = 4 AND idx = 1")
    conn.close()
    changed = run(runner, "verify", "--db", db, code=1).output
    assert "FAILED at position 17: rule tree: the stored Merkle subtree of events 17 to 32" in changed
    assert "子树被改动" in changed
    conn = raw_connection(db)
    drop_triggers(conn)  # the store put them back when verify opened it
    conn.execute("DELETE FROM merkle_subtrees")
    conn.close()
    run(runner, "verify", "--db", db)  # the tree is computed again when the store opens
    run(runner, "checkpoint", "--db", db)
    conn = raw_connection(db)
    drop_triggers(conn)
    head = conn.execute("SELECT max(position) FROM events").fetchone()[0]
    conn.execute("DELETE FROM events WHERE position = ?", (head,))
    conn.execute("DELETE FROM checkpoints")  # the readers' marks too: only the signed head is left
    conn.close()
    cut = run(runner, "verify", "--db", db, code=1).output
    assert f"FAILED at position {head}" in cut and f"checkpoint of {head} events was kept" in cut
