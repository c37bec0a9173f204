"""The role guards and the token check, as functions over a stand-in connection."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from sandbox.api.auth import READERS, Guard, authenticate, role_in, signed_in, token_if_given
from schemas.commands import Actor

CAROL = Actor(id="carol", role="case_officer")
ALICE = Actor(id="alice", role="applicant", organisation="fzbank")


def connection(user: Actor | None, auth: str | None = None, method: str = "GET") -> Any:
    return SimpleNamespace(user=user, auth=auth, scope={"method": method})


def guarded(guard: Guard, user: Actor | None, auth: str | None = None) -> None:
    """Run ``guard`` over a stand-in connection (the guards are coroutines: see sandbox.api.auth)."""
    asyncio.run(guard(connection(user, auth), None))  # type: ignore[arg-type]


def test_a_role_guard_lets_its_roles_through_and_refuses_the_others() -> None:
    readers = role_in(READERS)
    guarded(readers, CAROL)
    with pytest.raises(PermissionDeniedException, match="applicant"):
        guarded(readers, ALICE)


def test_without_a_valid_token_every_guard_but_the_public_ones_says_401_with_the_reason() -> None:
    for guard in (signed_in, role_in(READERS)):
        with pytest.raises(NotAuthorizedException, match="required"):
            guarded(guard, None)
        with pytest.raises(NotAuthorizedException, match="revoked"):
            guarded(guard, None, "the token is unknown, revoked or expired")


def test_the_public_may_come_without_a_token_but_not_with_a_bad_one() -> None:
    guarded(token_if_given, None)
    guarded(token_if_given, ALICE)
    with pytest.raises(NotAuthorizedException):
        guarded(token_if_given, None, "the Authorization header must be 'Bearer <token>'")


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


def test_every_guard_lets_a_preflight_through_without_a_user() -> None:
    """An OPTIONS request is left alone by the authentication middleware: no guard reads its user."""
    for guard in (role_in(READERS), signed_in, token_if_given):
        asyncio.run(guard(connection(None, "the token is unknown", method="OPTIONS"), None))  # type: ignore[arg-type]
        with pytest.raises(NotAuthorizedException):
            asyncio.run(guard(connection(None, "the token is unknown"), None))  # type: ignore[arg-type]
