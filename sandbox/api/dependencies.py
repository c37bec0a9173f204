"""The services a handler may ask for by name, injected with litestar's ``Provide``.

A handler declares ``registry: Registry``, ``store: SQLiteEventStore``, ``read_models:
ReadModels``, ``views: ViewCache``, ``appended`` (the condition notified after every command),
``actor: Actor``, ``credential`` (its token's id) or ``limits`` and gets the app's own (opened
in its state when the app starts, reopened when it restarts); no handler reaches into the app's
state itself. Registered once, on the app.
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import Provide

from events.sqlite import SQLiteEventStore
from projections.read_models import ReadModels
from sandbox.api.auth import actor_of, credential_of
from sandbox.api.common import ViewCache
from sandbox.api.limits import Limits
from sandbox.documents import DocumentStore
from sandbox.service import Registry
from schemas.commands import Actor


def provide_registry(state: State) -> Registry:
    registry: Registry = state.registry
    return registry


def provide_store(state: State) -> SQLiteEventStore:
    store: SQLiteEventStore = state.store
    return store


def provide_read_models(state: State) -> ReadModels:
    models: ReadModels = state.read_models
    return models


def provide_views(state: State) -> ViewCache:
    views: ViewCache = state.views
    return views


def provide_documents(state: State) -> DocumentStore:
    documents: DocumentStore = state.documents
    return documents


def provide_appended(state: State) -> asyncio.Condition:
    """Notified after every command of this app (the event stream waits on it)."""
    appended: asyncio.Condition = state.appended
    return appended


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    return actor_of(request)


def provide_credential(request: Request[Any, Any, Any]) -> str | None:
    """The id of the request's token (None without one): what its command ids are scoped by."""
    return credential_of(request)


def provide_limits(state: State) -> Limits:
    limits: Limits = state.limits
    return limits


DEPENDENCIES = {
    "registry": Provide(provide_registry, sync_to_thread=False),
    "store": Provide(provide_store, sync_to_thread=False),
    "read_models": Provide(provide_read_models, sync_to_thread=False),
    "views": Provide(provide_views, sync_to_thread=False),
    "documents": Provide(provide_documents, sync_to_thread=False),
    "appended": Provide(provide_appended, sync_to_thread=False),
    "actor": Provide(provide_actor, sync_to_thread=False),
    "credential": Provide(provide_credential, sync_to_thread=False),
    "limits": Provide(provide_limits, sync_to_thread=False),
}
