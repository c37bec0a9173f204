"""The operator's commands: init, serve, tick (the timers) and upgrade (the bundled programs)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import click

from events.errors import StoreError
from events.sqlite import utc_now
from sandbox import transparency
from sandbox.cli.failures import CheckFailed, cannot_open, no_project, opened, refusals, registry_at
from sandbox.cli.group import db_option, main, parse_time
from sandbox.cli.usage import BadValue
from sandbox.config import (
    ACCESS_LOG_ENV,
    DEFAULT_TICK_SECONDS,
    TICK_ENV,
    HttpSettings,
    default_db_path,
    default_tick_seconds,
)
from sandbox.program_upgrade import upgrade_bundled
from sandbox.registry import init_registry
from sandbox.service import Registry
from schemas.dates import CHINA
from schemas.lifecycle import State
from schemas.words import plural


@main.command()
@db_option
def init(db: Path | None) -> None:
    """Create the registry database and record its genesis event (safe to run again).

    Example: sandbox-registry init --db registry.db
    """
    with opened(db, create=True) as store:
        result = init_registry(store)
        published = Registry(store).install_bundled()
        head = store.head()
        state = "already initialised" if result.duplicate and not published else "initialised"
        click.echo(f"{store.path}: {state}; {plural(head.position, 'event')}, head hash {head.hash}")
        with refusals():
            key, created = transparency.ensure_key(store)
        click.echo(f"checkpoint signing key: {key} ({'created, mode 0600' if created else 'kept'})")


#: How far ahead of this machine's clock a ``tick --now`` may be without ``--future`` (clock skew).
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


@main.command()
@db_option
@click.option("--now", "now_text", default=None, help="Record the timers due at this time (ISO 8601; default: now).")
@click.option(
    "--future",
    is_flag=True,
    help="Allow a --now later than this machine's clock: a demonstration, whose timer events say they occurred then.",
)
@click.option(
    "--project",
    "projects",
    multiple=True,
    metavar="ID",
    help="Only this project's timers (repeatable; default: every project of the registry).",
)
def tick(db: Path | None, now_text: str | None, future: bool, projects: tuple[str, ...]) -> None:
    """Record every timer that has come due: notices closing, test periods ending, reports overdue.

    Running it twice for the same time records nothing new. A time later than this machine's
    clock is refused unless --future is given: the timer events would record as facts (a notice
    closed, a report overdue) what has not happened yet. With --project, only that project's
    timers are recorded (a demonstration moves one project's clock, not the whole registry's).
    Example: sandbox-registry tick --project 3f2a9c1b7d4e --now 2026-03-01T09:00:00+08:00
    """
    now = parse_time(now_text, "--now")
    if now is not None and not future and now > dt.datetime.now(dt.UTC) + FUTURE_TOLERANCE:
        raise BadValue(
            "--now",
            f"{now_text} is later than this machine's clock; timers record what has happened (add --future for a"
            " demonstration)",
            f"{now_text} 晚于本机时间；计时事件只记录已发生的事（演示时可加 --future）",
        )
    skipped: list[str] = []
    with registry_at(db) as registry:
        unknown = [p for p in projects if registry.load(p).state == State.NONE]
        if unknown:
            raise no_project(", ".join(unknown))
        written = registry.tick(now, project_ids=projects or None, skipped=skipped)
        with refusals():
            signed = transparency.keep_on_tick(registry.store)
    click.echo(f"recorded {plural(written, 'timer event')}" + ("; checkpoint kept" if signed else ""))
    if skipped:
        raise CheckFailed(
            f"the timers of {', '.join(skipped)} could not be evaluated (see the log); the others were recorded",
            f"项目 {', '.join(skipped)} 的计时无法计算（见日志），其余项目已记录",
        )


@main.command("upgrade")
@db_option
@click.option("--effective-from", "effective_from", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The day the new versions take effect (YYYY-MM-DD, today or later; default: today, China time).")
def upgrade_programs(db: Path | None, effective_from: dt.datetime | None) -> None:
    """Publish each bundled program whose rules differ from the registry's latest version as
    its next version (a registry created by an earlier release). Projects already submitted
    keep the version they bound to; drafts and later submissions take the new one.

    Example: sandbox-registry upgrade --effective-from 2027-01-01
    """
    today = utc_now().astimezone(CHINA).date()
    with registry_at(db) as registry:
        published = upgrade_bundled(registry, effective_from.date() if effective_from else today, today)
    for d in published:
        click.echo(f"{d.ref}: published, in force from {d.effective_from} / 已发布，自 {d.effective_from} 起生效")
    if not published:
        click.echo("every program is up to date with the bundled definitions / 各项目类型均已是随附的最新定义")


@main.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--tick-seconds",
    default=None,
    type=click.FloatRange(0),
    help=f"Record due timers every N seconds (0: never; default ${TICK_ENV}, else {DEFAULT_TICK_SECONDS:g}).",
)
@click.option(
    "--access-log/--no-access-log",
    default=None,
    help=f"One JSON line per request on standard error (default ${ACCESS_LOG_ENV}, else on).",
)
def serve(db: Path | None, host: str, port: int, tick_seconds: float | None, access_log: bool | None) -> None:
    """Serve the API and its documentation page (http://HOST:PORT/schema).

    Example: sandbox-registry serve --port 8000 --no-access-log
    """
    from sandbox.api import create_app, run_server

    path = db or default_db_path()
    with refusals():
        every = default_tick_seconds() if tick_seconds is None else tick_seconds
        settings = HttpSettings.from_env()
    if access_log is not None:
        settings = dataclasses.replace(settings, access_log=access_log)
    try:
        app = create_app(path, tick_seconds=every, settings=settings)
    except StoreError as e:
        raise cannot_open(path, e) from e
    click.echo(f"serving {path} on http://{host}:{port}  (API /api/v1, docs /schema)", err=True)
    run_server(app, host, port, timeout_graceful_shutdown=30)
