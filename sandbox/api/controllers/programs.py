"""``/api/v1/programs``: the programs and their published versions (rules as data)."""

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody

from sandbox.api import problems as p
from sandbox.api.auth import PUBLIC_SECURITY, SECURITY, role_in
from sandbox.api.common import IdempotencyKey, check_bounds, check_names, command_id, request_digest
from sandbox.api.models import ProgramOut, ProgramPublished
from sandbox.service import Registry
from schemas import commands as c
from schemas.commands import Actor
from schemas.errors import DomainError


def _program_out(registry: Registry, key: str) -> ProgramOut:
    versions = registry.program_versions(key)
    if not versions:
        raise NotFoundException(f"no program {key}")
    latest = versions[-1]
    return ProgramOut(
        key=key,
        kind=latest.kind,
        name_zh=latest.name_zh,
        name_en=latest.name_en,
        latest_version=latest.version,
        versions=versions,
    )


class ProgramController(Controller):
    path = "/programs"
    tags = ["programs"]

    @get("/", sync_to_thread=True, security=PUBLIC_SECURITY)
    def list_programs(self, registry: NamedDependency[Registry]) -> list[ProgramOut]:
        """Every program with all its published versions (rules as data, with Chinese and English labels)."""
        return [_program_out(registry, key) for key in registry.program_keys()]

    @get("/{key:str}", sync_to_thread=True, security=PUBLIC_SECURITY, responses=p.responses(400, 404))
    def get_program(self, registry: NamedDependency[Registry], key: FromPath[str]) -> ProgramOut:
        """One program and its versions."""
        return _program_out(registry, key)

    @post(
        "/{key:str}/versions",
        sync_to_thread=True,
        security=SECURITY,
        guards=[role_in({"approver"})],
        status_code=201,
        responses=p.responses(*p.CREATE),
    )
    def publish_program(
        self,
        registry: NamedDependency[Registry],
        key: FromPath[str],
        data: JSONBody[c.PublishProgramVersion],
        actor: NamedDependency[Actor],
        credential: NamedDependency[str | None],
        idempotency_key: IdempotencyKey = None,
    ) -> ProgramPublished:
        """Publish a new version of a program (roles: approver). Projects already submitted keep theirs."""
        check_bounds(data)
        check_names(data.definition, path="definition")
        if data.definition.key != key:
            raise DomainError(
                "invalid_value", field="definition.key", rule_zh="须与路径一致", rule_en="must match the path"
            )
        position = registry.publish_program(
            data.definition,
            actor,
            command_id=command_id(credential, idempotency_key, actor=actor, store=registry.store),
            changes=data.changes,
            request=request_digest("publish_program", key, data) if idempotency_key else None,
        )
        return ProgramPublished(key=key, version=data.definition.version, position=position)
