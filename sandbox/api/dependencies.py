"""The services a handler may ask for by name, injected with litestar's ``Provide``: every
provider of the app, in one place.

A handler declares the services it uses by name and gets the app's own (opened in its state when
the app starts, reopened when it restarts); no handler, guard or page helper reaches into the
app's state itself. The names:

- ``registry`` (:class:`Registry`), ``read_models``, ``views`` (the cache of project views),
  ``documents`` (the content-addressed files), ``appended`` (the condition notified after every
  command), ``limits``, ``settings``, ``tokens`` (the API tokens) and ``sessions`` (the pages'
  sign-in sessions);
- ``store``: the event store. A handler types it with the narrowest port it uses
  (``NamedPort[EventReader]`` to read the log, ``NamedPort[Audit]`` to verify and export it,
  ``NamedPort[TreeLog]`` for proofs, from ``events.store``, and the register's offline proof
  ``NamedPort[ExtractedLog]``, from ``sandbox.extracts``);
- ``actor`` and ``credential``: who sends the request and its token's id (from the
  authentication middleware, see ``sandbox.api.auth``);
- ``services``: what a page uses, all at once (:class:`PageServices`).

Registered once, on the app.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any, TypeAlias, TypeVar

from litestar import Request
from litestar.di import Dependency, NamedDependency, Provide
from litestar.params import SkipValidationMarker

from events.sqlite import SQLiteEventStore
from events.store import EventStore
from projections.read_models import ReadModels
from sandbox.api.auth import actor_of, credential_of
from sandbox.api.common import ViewCache
from sandbox.api.limits import Limits
from sandbox.config import HttpSettings
from sandbox.documents import DocumentStore
from sandbox.service import Registry
from sandbox.tokens import Tokens
from sandbox.web.render import PageCache
from sandbox.web.sessions import Sessions
from schemas.commands import Actor

T = TypeVar("T")

#: A named dependency typed by a port (a ``Protocol`` of ``events.store``). litestar checks each
#: injected value with ``isinstance``, which a protocol that is not runtime-checkable refuses; the
#: value is the provider's own, so it is taken as given (mypy still checks every use of the port).
NamedPort: TypeAlias = Annotated[T, SkipValidationMarker(), Dependency(kind="named")]


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


@dataclass(frozen=True, slots=True)
class PageServices:
    """The app's services a page uses, as the API's handlers get them one by one, and the cache
    of rendered pages."""

    registry: Registry
    read_models: ReadModels
    views: ViewCache
    store: EventStore  # (the pages read the log, verify and export it)
    documents: DocumentStore
    pages: PageCache


def provide_services(
    registry: NamedDependency[Registry],
    read_models: NamedDependency[ReadModels],
    views: NamedDependency[ViewCache],
    store: NamedPort[EventStore],
    documents: NamedDependency[DocumentStore],
    page_cache: NamedDependency[PageCache],
) -> PageServices:
    return PageServices(registry, read_models, views, store, documents, page_cache)


DEPENDENCIES = {
    "registry": from_state("registry", Registry),
    "store": from_state("store", SQLiteEventStore),
    "read_models": from_state("read_models", ReadModels),
    "views": from_state("views", ViewCache),
    "documents": from_state("documents", DocumentStore),
    "appended": from_state("appended", asyncio.Condition),  # notified after every command
    "limits": from_state("limits", Limits),
    "settings": from_state("settings", HttpSettings),
    "tokens": from_state("tokens", Tokens),
    "sessions": from_state("web_sessions", Sessions),
    "page_cache": from_state("web_pages", PageCache),
    "actor": Provide(provide_actor, sync_to_thread=False),
    "credential": Provide(provide_credential, sync_to_thread=False),
    "services": Provide(provide_services, sync_to_thread=False),
}
