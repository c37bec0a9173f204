"""Signed checkpoints: the C2SP ``tlog-checkpoint`` note text inside a C2SP ``signed-note``,
signed with Ed25519, and the key formats (pure functions over given keys and text).

A checkpoint's text is three lines: the origin (the log's name), the tree size in decimal, and the
root hash in standard base64, each ending in a newline. The signed note is that text, a blank
line, and one signature line per key: an em dash, a space, the key name, a space, and base64 of
the 4-byte key id and the 64-byte Ed25519 signature of the text. The key id is the first four
bytes of SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key); a verifier key is written
``name+<key id in hex>+<base64(0x01 ‖ public key)>`` and a signing key (the file beside the
database) ``PRIVATE+KEY+name+<key id in hex>+<base64(0x01 ‖ 32-byte seed)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"
_SIGNATURE_LINE = re.compile(r"\u2014 (\S+) ([A-Za-z0-9+/=]+)\n")
_NAME = re.compile(r"[^\s+]+")


class CheckpointError(ValueError):
    """A key, a note or a checkpoint that is malformed or does not verify."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: the log's origin, its size and its root hash."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        """The note text of the C2SP ``tlog-checkpoint`` form."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise CheckpointError(f"{what} is not standard base64") from e


def _check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise CheckpointError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public: bytes) -> bytes:
    """The 4-byte key id of an Ed25519 key under ``name`` (C2SP signed-note)."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A named Ed25519 public key, as a verifier holds it."""

    name: str
    public: bytes

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.public)

    def text(self) -> str:
        return f"{self.name}+{self.id.hex()}+{base64.b64encode(ED25519 + self.public).decode()}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        parts = text.strip().split("+", 2)  # base64 may hold "+"
        if len(parts) != 3:
            raise CheckpointError("a verifier key is name+keyid+base64 key")
        name, hex_id, material = parts
        key = _b64decode(material, "the verifier key")
        if len(key) != 33 or key[:1] != ED25519:
            raise CheckpointError("the verifier key is not an Ed25519 key (type 0x01 and 32 bytes)")
        vkey = cls(_check_name(name), key[1:])
        if vkey.id.hex() != hex_id:
            raise CheckpointError(f"the verifier key's id {hex_id} is not the one its name and key give")
        return vkey


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A named Ed25519 private key."""

    name: str
    private: Ed25519PrivateKey

    @classmethod
    def generate(cls, name: str) -> SigningKey:
        return cls(_check_name(name), Ed25519PrivateKey.generate())

    @property
    def verifier(self) -> VerifierKey:
        return VerifierKey(self.name, public_bytes(self.private.public_key()))

    def text(self) -> str:
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = self.private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return f"PRIVATE+KEY+{self.name}+{self.verifier.id.hex()}+{base64.b64encode(ED25519 + seed).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> SigningKey:
        parts = text.strip().split("+", 4)  # base64 may hold "+"
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise CheckpointError("a signing key is PRIVATE+KEY+name+keyid+base64 key")
        name, hex_id, material = parts[2:]
        seed = _b64decode(material, "the signing key")
        if len(seed) != 33 or seed[:1] != ED25519:
            raise CheckpointError("the signing key is not an Ed25519 key (type 0x01 and 32 bytes)")
        key = cls(_check_name(name), Ed25519PrivateKey.from_private_bytes(seed[1:]))
        if key.verifier.id.hex() != hex_id:
            raise CheckpointError(f"the signing key's id {hex_id} is not the one its name and key give")
        return key

    def sign(self, text: str) -> str:
        """The signed note of ``text`` (which ends in a newline) with this key's signature."""
        if not text.endswith("\n"):
            raise CheckpointError("a note's text ends in a newline")
        signature = self.private.sign(text.encode())
        line = base64.b64encode(self.verifier.id + signature).decode()
        return f"{text}\n\u2014 {self.name} {line}\n"


def split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """The text of a signed note and its signatures (key name, key id ‖ signature)."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise CheckpointError("a signed note holds no control character but newline")
    cut = note.rfind("\n\n")
    if cut < 0 or not note.endswith("\n"):
        raise CheckpointError("a signed note is text, a blank line and signature lines")
    text, block = note[: cut + 1], note[cut + 2 :]
    signatures: list[tuple[str, bytes]] = []
    for line in block.splitlines(keepends=True):
        match = _SIGNATURE_LINE.fullmatch(line)
        if match is None:
            raise CheckpointError(f"not a signature line: {line.rstrip()!r}")
        blob = _b64decode(match[2], "a signature")
        if len(blob) < 5:
            raise CheckpointError("a signature is a 4-byte key id and the signature")
        signatures.append((match[1], blob))
    if not signatures:
        raise CheckpointError("a signed note has at least one signature")
    return text, signatures


def verify_note(note: str, key: VerifierKey) -> str:
    """The note's text, if ``key`` signed it (a signature of another key is ignored)."""
    text, signatures = split_note(note)
    mine = [blob[4:] for name, blob in signatures if name == key.name and blob[:4] == key.id]
    if not mine:
        raise CheckpointError(f"the note has no signature by {key.name}+{key.id.hex()}")
    public = Ed25519PublicKey.from_public_bytes(key.public)
    for signature in mine:
        try:
            public.verify(signature, text.encode())
        except InvalidSignature:
            raise CheckpointError(f"the signature by {key.name}+{key.id.hex()} does not verify") from None
    return text


def parse_checkpoint(text: str) -> Checkpoint:
    """The tree head of a checkpoint's note text (extension lines are allowed and ignored)."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise CheckpointError("a checkpoint is an origin, a size and a root hash, one a line")
    origin, size, root = lines[0], lines[1], lines[2]
    if not re.fullmatch(r"0|[1-9][0-9]*", size):
        raise CheckpointError(f"the tree size {size!r} is not a decimal number")
    digest = _b64decode(root, "the root hash")
    if len(digest) != 32:
        raise CheckpointError("the root hash is not 32 bytes")
    return Checkpoint(origin, int(size), digest)


def verify_checkpoint(note: str, key: VerifierKey) -> Checkpoint:
    """The tree head of a signed checkpoint, if ``key`` signed it."""
    return parse_checkpoint(verify_note(note, key))
