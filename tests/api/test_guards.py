"""The role guards and the token check, as plain functions over a stand-in connection."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from sandbox.api.auth import READERS, authenticate, role_in, signed_in, token_if_given
from schemas.commands import Actor

CAROL = Actor(id="carol", role="case_officer")
ALICE = Actor(id="alice", role="applicant", organisation="fzbank")


def connection(user: Actor | None, auth: str | None = None) -> Any:
    return SimpleNamespace(user=user, auth=auth)


def test_a_role_guard_lets_its_roles_through_and_refuses_the_others() -> None:
    readers = role_in(READERS)
    readers(connection(CAROL), None)  # type: ignore[arg-type]
    with pytest.raises(PermissionDeniedException, match="applicant"):
        readers(connection(ALICE), None)  # type: ignore[arg-type]


def test_without_a_valid_token_every_guard_but_the_public_ones_says_401_with_the_reason() -> None:
    for guard in (signed_in, role_in(READERS)):
        with pytest.raises(NotAuthorizedException, match="required"):
            guard(connection(None), None)  # type: ignore[arg-type]
        with pytest.raises(NotAuthorizedException, match="revoked"):
            guard(connection(None, "the token is unknown, revoked or expired"), None)  # type: ignore[arg-type]


def test_the_public_may_come_without_a_token_but_not_with_a_bad_one() -> None:
    token_if_given(connection(None), None)  # type: ignore[arg-type]
    token_if_given(connection(ALICE), None)  # type: ignore[arg-type]
    with pytest.raises(NotAuthorizedException):
        token_if_given(connection(None, "the Authorization header must be 'Bearer <token>'"), None)  # type: ignore[arg-type]


class Tokens:
    """A token table with one live token."""

    def authenticate(self, secret: str) -> Any:
        return SimpleNamespace(actor=CAROL, id="a1b2c3") if secret == "good" else None


@pytest.mark.parametrize(
    ("header", "user", "why"),
    [
        (None, None, None),
        ("Bearer good", CAROL, "a1b2c3"),  # (with a valid token, ``auth`` is the token's id)
        ("bearer  good ", CAROL, "a1b2c3"),
        ("Bearer bad", None, "the token is unknown, revoked or expired"),
        ("Basic good", None, "the Authorization header must be 'Bearer <token>'"),
        ("Bearer ", None, "the Authorization header must be 'Bearer <token>'"),
    ],
)
def test_the_middleware_reads_the_actor_from_the_bearer_token(
    header: str | None, user: Actor | None, why: str | None
) -> None:
    result = authenticate(Tokens(), header)  # type: ignore[arg-type]
    assert (result.user, result.auth) == (user, why)
