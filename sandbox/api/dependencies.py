"""The services a handler may ask for by name, injected with litestar's ``Provide``.

A handler declares ``registry: Registry``, ``store: SQLiteEventStore``, ``read_models:
ReadModels``, ``views: ViewCache``, ``appended`` (the condition notified after every command),
``actor: Actor``, ``credential`` (its token's id) or ``limits`` and gets the app's own (opened
in its state when the app starts, reopened when it restarts); no handler reaches into the app's
state itself. Registered once, on the app.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from litestar import Request
from litestar.di import Provide

from events.sqlite import SQLiteEventStore
from projections.read_models import ReadModels
from sandbox.api.auth import actor_of, credential_of
from sandbox.api.common import ViewCache
from sandbox.api.limits import Limits
from sandbox.documents import DocumentStore
from sandbox.service import Registry
from schemas.commands import Actor

T = TypeVar("T")


def from_state(name: str, kind: type[T]) -> Provide:
    """A provider of the service the app keeps in its state under ``name`` (a ``kind``).

    It finds the state through the request: litestar hands a provider that asks for ``state``
    a new copy of the app's state, made for every provider of every request."""

    def provide(request: Request[Any, Any, Any]) -> T:
        service: T = getattr(request.app.state, name)
        return service

    provide.__name__ = f"provide_{name}"
    provide.__annotations__ = {"request": Request, "return": kind}  # what litestar reads of it
    return Provide(provide, sync_to_thread=False)


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    return actor_of(request)


def provide_credential(request: Request[Any, Any, Any]) -> str | None:
    """The id of the request's token (None without one): what its command ids are scoped by."""
    return credential_of(request)


DEPENDENCIES = {
    "registry": from_state("registry", Registry),
    "store": from_state("store", SQLiteEventStore),
    "read_models": from_state("read_models", ReadModels),
    "views": from_state("views", ViewCache),
    "documents": from_state("documents", DocumentStore),
    "appended": from_state("appended", asyncio.Condition),  # notified after every command
    "limits": from_state("limits", Limits),
    "actor": Provide(provide_actor, sync_to_thread=False),
    "credential": Provide(provide_credential, sync_to_thread=False),
}
