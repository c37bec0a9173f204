"""Users and their API tokens: add and list users; create, list and revoke tokens."""

from __future__ import annotations

from pathlib import Path

import click

from sandbox.cli.demo import print_demo_tokens
from sandbox.cli.failures import CheckFailed, opened, refusals
from sandbox.cli.group import db_option, main, parse_time
from sandbox.cli.output import Shown, out
from sandbox.cli.usage import BadValue
from sandbox.config import default_db_path
from sandbox.tokens import ROLES, AlreadyExpired, Tokens
from schemas.text import visible
from schemas.words import plural


@main.group()
def user() -> None:
    """Add and list users: the persons tokens belong to, with the roles granted to them."""


@user.command("add")
@db_option
@click.argument("user_id")
@click.option("--name", "display_name", required=True, help="The person's display name.")
@click.option("--org", default=None, help="The organisation they act for (required with the applicant role).")
@click.option("--role", "roles", type=click.Choice(ROLES), multiple=True, required=True,
              help="A role granted to them (repeat for several).")
def user_add(db: Path | None, user_id: str, display_name: str, org: str | None, roles: tuple[str, ...]) -> None:
    """Add a person. Their tokens (``token create --user``) act in one of their roles each; four
    eyes compare persons, so they never approve what they recommended, whichever token they use.

    Example: sandbox-registry user add li.wei --name 李伟 --role case_officer --role approver
    """
    with opened(db) as store, refusals(CheckFailed):
        info = Tokens(store.db).add_user(user_id=user_id, display_name=display_name, roles=roles, organisation=org)
    click.echo(f"added {info.id} ({info.display_name}): {', '.join(info.roles)}")


@user.command("list")
@db_option
def user_list(db: Path | None) -> None:
    """List users and the roles granted to them.

    Example: sandbox-registry user list
    """
    with opened(db) as store:
        rows = Tokens(store.db).users()
    table = Shown(plural(len(rows), "user"), "id", "name", "organisation", "roles", "created")
    for u in rows:
        table.add_row(u.id, u.display_name, u.organisation or "", ", ".join(u.roles), u.created_at)
    out().print(table)


@main.group()
def token() -> None:
    """Create, list and revoke API tokens."""


@token.command("create")
@db_option
@click.option("--role", type=click.Choice(ROLES), required=True, help="The role the token acts in.")
@click.option("--user", "user_id", default=None,
              help="The person the token belongs to (a user, recorded as the actor); the role must be theirs.")
@click.option("--name", default=None,
              help="The token's name (default <user>.<role>); without --user, also the actor it records.")
@click.option("--org", default=None, help="The organisation an applicant acts for (required for applicants).")
@click.option("--expires", default=None, help="Expiry time (ISO 8601).")
def token_create(
    db: Path | None, role: str, user_id: str | None, name: str | None, org: str | None, expires: str | None
) -> None:
    """Create a token and print it once (only its hash is stored).

    Example: sandbox-registry token create --user li.wei --role approver
    """
    with opened(db) as store, refusals(CheckFailed):
        try:
            expires_at = parse_time(expires, "--expires")
            secret, _ = Tokens(store.db).create(
                name=name, role=role, organisation=org, user=user_id, expires_at=expires_at
            )
        except AlreadyExpired as e:  # (a value of the option, refused as the others are)
            raise BadValue("--expires", str(e), e.message_zh) from e
    click.echo(secret)


@token.command("demo")
@db_option
def token_demo(db: Path | None) -> None:
    """Issue fresh tokens for the demo's users, one of each role (revoking their earlier ones).

    Example: sandbox-registry token demo --db demo.db
    """
    print_demo_tokens(db or default_db_path())


@token.command("list")
@db_option
def token_list(db: Path | None) -> None:
    """List tokens (never their secrets).

    Example: sandbox-registry token list
    """
    with opened(db) as store:
        rows = Tokens(store.db).list()
    columns = ("id", "name", "user", "role", "organisation", "created", "expires", "revoked")
    table = Shown(plural(len(rows), "token"), *columns)
    for t in rows:
        table.add_row(
            t.id,
            t.name,
            t.user_id or t.name,
            t.role,
            t.organisation or "",
            t.created_at,
            t.expires_at or "",
            t.revoked_at or "",
        )
    out().print(table)


@token.command("revoke")
@db_option
@click.argument("name_or_id")
def token_revoke(db: Path | None, name_or_id: str) -> None:
    """Revoke a token by its name or id.

    Example: sandbox-registry token revoke alice
    """
    with opened(db) as store:
        if not Tokens(store.db).revoke(name_or_id):
            raise CheckFailed(f"no live token named {name_or_id}", f"没有名为 {name_or_id} 的有效令牌")
    click.echo(f"revoked {visible(name_or_id, one_line=True)}")
