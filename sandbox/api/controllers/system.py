"""``GET /health``: liveness, for load balancers and operators (no token)."""

from litestar import Controller, get
from litestar.di import NamedDependency

from events.sqlite import SQLiteEventStore
from projections.read_models import ReadModels
from sandbox.api.auth import PUBLIC_SECURITY
from sandbox.api.models import Health


class HealthController(Controller):
    path = "/health"
    tags = ["system"]
    security = PUBLIC_SECURITY

    @get("/", sync_to_thread=True)
    def health(self, store: NamedDependency[SQLiteEventStore], read_models: NamedDependency[ReadModels]) -> Health:
        """Liveness: the head of the log, how far the read models have caught up, and how many
        failures they hold (status ``degraded`` while there are any)."""
        failures = read_models.failure_count()
        return Health(
            status="degraded" if failures else "ok",
            head_position=store.head().position,
            read_models_position=read_models.position,
            read_model_failures=failures,
        )
