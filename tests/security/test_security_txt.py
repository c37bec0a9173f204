"""Where to report a vulnerability: ``/.well-known/security.txt`` (RFC 9116) from
``$SANDBOX_REGISTRY_SECURITY_CONTACT``, and no such file when no contact is set."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from sandbox.api import create_app
from sandbox.cli import main
from sandbox.config import SECURITY_CONTACT_ENV, HttpSettings, Refused
from tests.fixtures.api import Clock

PATH = "/.well-known/security.txt"


def _fields(text: str) -> list[tuple[str, str]]:
    return [(name, value.strip()) for name, _, value in (line.partition(":") for line in text.splitlines())]


def test_the_contacts_set_are_published_as_rfc_9116_asks(tmp_path: Path) -> None:
    clock = Clock()
    settings = HttpSettings(security_contacts=("mailto:security@registry.example", "https://registry.example/report"))
    with TestClient(create_app(tmp_path / "r.db", clock=clock, settings=settings)) as client:
        r = client.get(PATH, headers={"Host": "registry.example"})
        assert r.status_code == 200 and r.headers["content-type"] == "text/plain; charset=utf-8"
        fields = _fields(r.text)
        assert [v for k, v in fields if k == "Contact"] == list(settings.security_contacts)
        assert dict(fields)["Preferred-Languages"] == "zh, en"
        assert dict(fields)["Canonical"] == f"http://registry.example{PATH}"
        expires = dt.datetime.fromisoformat(dict(fields)["Expires"])
        assert clock() < expires < clock() + dt.timedelta(days=365)  # (RFC 9116: less than a year ahead)
        assert client.head(PATH).status_code == 200


def test_without_a_contact_there_is_no_file(tmp_path: Path) -> None:
    with TestClient(create_app(tmp_path / "r.db")) as client:
        r = client.get(PATH)
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


def test_the_setting_takes_addresses_and_refuses_anything_else(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECURITY_CONTACT_ENV, "security@registry.example, https://registry.example/report")
    assert HttpSettings.from_env().security_contacts == (
        "mailto:security@registry.example", "https://registry.example/report"
    )
    for wrong in ("call the maintainers", "http://registry.example/report", "ftp:x"):
        monkeypatch.setenv(SECURITY_CONTACT_ENV, wrong)
        with pytest.raises(Refused) as refused:
            HttpSettings.from_env()
        assert SECURITY_CONTACT_ENV in str(refused.value) and SECURITY_CONTACT_ENV in refused.value.message_zh
    monkeypatch.delenv(SECURITY_CONTACT_ENV)
    assert HttpSettings.from_env().security_contacts == ()


def test_serve_refuses_a_contact_that_is_no_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECURITY_CONTACT_ENV, "ask at the front desk")
    result = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "r.db")])
    assert result.exit_code == 2 and SECURITY_CONTACT_ENV in result.output, result.output
    assert not (tmp_path / "r.db").exists()  # (it stopped before opening anything)
