"""The API's controllers, one per resource, mounted under ``/api/v1`` (health at the root).

Each controller declares its guards (who may use it), its tags and the problems each route can
answer; its handlers are thin: they take the services they need by name (injected, see
``sandbox.api.dependencies``), call one service or read-model function, and return its result.
Refusals are raised as domain errors or the HTTP layer's own problems, and turned into problem
documents in one place (``sandbox.api.problems``).
"""

from litestar import Controller

from sandbox.api.controllers.audit import AuditController, EventController
from sandbox.api.controllers.documents import DocumentController
from sandbox.api.controllers.programs import ProgramController
from sandbox.api.controllers.projects import CommandController, ProjectController
from sandbox.api.controllers.proofs import ProofsController
from sandbox.api.controllers.queue import QueueController
from sandbox.api.controllers.reference import ReferenceController
from sandbox.api.controllers.register import RegisterController
from sandbox.api.controllers.system import HealthController, SecurityTxtController

#: Every controller under ``/api/v1``.
API_CONTROLLERS: list[type[Controller]] = [
    ProgramController,
    ReferenceController,
    ProjectController,
    CommandController,
    DocumentController,
    RegisterController,
    QueueController,
    AuditController,
    ProofsController,
    EventController,
]

__all__ = ["API_CONTROLLERS", "HealthController", "SecurityTxtController"]
