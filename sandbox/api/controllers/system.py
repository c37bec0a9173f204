"""``GET /health``: liveness, for load balancers and operators (no token); and
``GET /.well-known/security.txt``: where to report a vulnerability (RFC 9116)."""

import datetime as dt
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException

from events.store import EventReader
from projections.read_models import ReadModels
from sandbox.api import problems as p
from sandbox.api.auth import PUBLIC_SECURITY
from sandbox.api.dependencies import NamedPort
from sandbox.api.models import Health
from sandbox.config import HttpSettings
from sandbox.service import Registry

#: How long a served security.txt may be relied on: RFC 9116 asks for less than a year.
SECURITY_TXT_LIFETIME = dt.timedelta(days=180)


class HealthController(Controller):
    path = "/health"
    tags = ["system"]
    security = PUBLIC_SECURITY

    @get("/", sync_to_thread=True)
    def health(self, store: NamedPort[EventReader], read_models: NamedDependency[ReadModels]) -> Health:
        """Liveness: the head of the log, how far the read models have caught up, and how many
        failures they hold (status ``degraded`` while there are any)."""
        failures = read_models.failure_count()
        return Health(
            status="degraded" if failures else "ok",
            head_position=store.head().position,
            read_models_position=read_models.position,
            read_model_failures=failures,
        )


class SecurityTxtController(Controller):
    path = "/.well-known/security.txt"
    tags = ["system"]
    security = PUBLIC_SECURITY

    @get("/", sync_to_thread=False, media_type="text/plain", responses=p.responses(404))
    def security_txt(
        self,
        request: Request[Any, Any, Any],
        registry: NamedDependency[Registry],
        settings: NamedDependency[HttpSettings],
    ) -> Response[str]:
        """Where to report a vulnerability (RFC 9116): the contacts of
        ``$SANDBOX_REGISTRY_SECURITY_CONTACT``, an expiry 180 days ahead, the languages (Chinese,
        English) and the file's own address. 404 when no contact is set: no file names nobody."""
        if not settings.security_contacts:
            raise NotFoundException("no security contact is set ($SANDBOX_REGISTRY_SECURITY_CONTACT)")
        expires = (registry.clock().astimezone(dt.UTC) + SECURITY_TXT_LIFETIME).replace(microsecond=0)
        lines = [f"Contact: {contact}" for contact in settings.security_contacts] + [
            f"Expires: {expires.isoformat().replace('+00:00', 'Z')}",
            "Preferred-Languages: zh, en",
            f"Canonical: {str(request.base_url).rstrip('/')}{self.path}",
        ]
        return Response("\n".join(lines) + "\n", media_type="text/plain")
