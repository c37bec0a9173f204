"""The demo registry: believable pilots lived through the same commands as the API, and the
demo users' tokens.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress

from sandbox import transparency
from sandbox.cli.failures import opened, refusals
from sandbox.cli.group import db_option, main
from sandbox.cli.output import Shown, out
from sandbox.config import default_db_path
from sandbox.tokens import Tokens
from schemas.words import plural


@main.command()
@db_option
@click.option("--projects", default=0, show_default=True, type=click.IntRange(0, 100_000),
              help="Synthetic projects with full histories to add beside the named stories.")
@click.option("--seed", default=2025, show_default=True, type=int, help="Seed for the synthetic projects.")
@click.option("--tokens/--no-tokens", default=True, show_default=True,
              help="Also issue a token for one demo user of each role and print them.")
def demo(db: Path | None, projects: int, seed: int, tokens: bool) -> None:
    """Build a new registry of believable pilots, through the same commands as the API.

    Ten named projects across the three programs (graduated, in test, rejected, withdrawn,
    suspended and reinstated, forced out, an objection upheld...) lived over simulated months
    from January 2025 to yesterday, plus N synthetic ones. The database must not exist yet.
    Example: sandbox-registry demo --db demo.db --projects 200 --seed 7
    """
    from sandbox.demo import build_demo

    path = db or default_db_path()
    with Progress(console=Console(stderr=True)) as progress:
        task = progress.add_task("living the demo projects", total=None)

        def advance(ended: int, total: int) -> None:
            progress.update(task, completed=ended, total=total)

        with refusals():
            result = build_demo(path, projects=projects, seed=seed, progress=advance)
    with opened(path) as store, refusals():
        transparency.ensure_key(store)
    table = Shown(f"{path}: {plural(result.head, 'event')} up to {result.until}")
    table.add_column("project")
    table.add_column("story")
    for label, pid in result.stories.items():
        table.add_row(pid, label)
    console = out()
    console.print(table)
    click.echo("states: " + ", ".join(f"{state} {n}" for state, n in result.states.items()))
    if tokens:
        print_demo_tokens(path)


def print_demo_tokens(path: Path) -> None:
    """Fresh tokens for the demo's users, one of each role, printed once (``demo``, ``token demo``)."""
    from sandbox.demo import demo_tokens

    with opened(path) as store:
        issued = demo_tokens(Tokens(store.db))
    click.echo("demo tokens, shown once (`sandbox-registry token demo` issues fresh ones):")
    for name, role, org, secret in issued:  # plain lines: a token must copy whole
        click.echo(f"  {role:<13} {name:<14} {org or '':<7} {secret}")
