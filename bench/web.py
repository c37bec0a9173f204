"""Web benchmark: the pages against the JSON endpoints serving the same data, in the same run.

Run with ``make bench`` or ``.venv/bin/python bench/web.py [--projects 500] [--quick]``.

One server (``sandbox.api.create_app`` served as ``sandbox-registry serve`` serves it, see
``bench/http.py``) over a demo registry of ``--projects`` synthetic projects besides the named
stories (built by ``sandbox-registry demo``'s own function). 8 concurrent clients, each on a
kept-alive connection of its own, with every request prepared as bytes (the load generator of
``bench/http.py``), send a fixed number of requests per case:

- ``register``: ``GET /`` (the public register page, its first 25 entries) against
  ``GET /api/v1/register?limit=25`` (the same entries as JSON), no token;
- ``case``: ``GET /projects/{id}`` (the case page, signed in as a case officer through
  ``/login``) against ``GET /api/v1/projects/{id}`` (the same project as JSON, with the officer's
  bearer token); client ``i`` reads projects ``i, i+8, ...`` of the first 64 in turn.

Each case prints ``NAME: HTML req/s, JSON req/s, ratio=R`` with ``R = HTML / JSON`` requests per
second (best of ``--repeat`` runs each; the sides alternate). Goal: R >= 0.8. The machine is small
and shared: compare ratios from one run only.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path and its http.py would shadow the standard
# library's ``http``; the repository's root is where ``bench.http`` is found.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import os
import platform
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from bench.http import Run, Served, http_request, load, server
from sandbox.demo import build_demo
from sandbox.tokens import Tokens

CLIENTS = 8
GOAL = 0.8
PROJECTS_READ = 64


@dataclass
class Case:
    name: str
    html: list[Run] = field(default_factory=list)
    json: list[Run] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return best(self.html).rate / best(self.json).rate

    def print(self) -> None:
        html, json_ = best(self.html), best(self.json)
        verdict = "meets" if self.ratio >= GOAL else "MISSES"
        errors = sum(r.errors for r in self.html + self.json)
        print(
            f"{self.name}: HTML {html.rate:.0f} req/s p50={html.percentile(0.5):.1f}ms"
            f" p99={html.percentile(0.99):.1f}ms,"
            f" JSON {json_.rate:.0f} req/s p50={json_.percentile(0.5):.1f}ms p99={json_.percentile(0.99):.1f}ms,"
            f" ratio={self.ratio:.2f} (goal >= {GOAL:.2f}: {verdict}); {len(self.html)} runs per side of"
            f" {html.count} requests, errors {errors}; server CPU per request HTML"
            f" {html.server_cpu / html.count * 1000:.2f} ms, JSON {json_.server_cpu / json_.count * 1000:.2f} ms",
            flush=True,
        )


def best(runs: list[Run]) -> Run:
    return max(runs, key=lambda r: r.rate)


def signed_in(served: Served, secret: str) -> str:
    """The cookies a browser holds after signing in through the page's form (the session and
    the CSRF token), as a ``Cookie`` header."""
    with httpx.Client(base_url=served.base) as client:
        client.get("/login")
        r = client.post("/login", data={"token": secret, "_csrf_token": client.cookies["csrftoken"]})
        if r.status_code != 303:
            raise RuntimeError(f"signing in failed: {r.status_code} {r.text[:300]}")
        return "; ".join(f"{name}={client.cookies[name]}" for name in ("sbr_session", "csrftoken"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--projects", type=int, default=500, help="synthetic demo projects (default 500)")
    parser.add_argument("--requests", type=int, default=800, help="requests per case and run (default 800)")
    parser.add_argument("--repeat", type=int, default=2, help="runs per side per case; best counts")
    parser.add_argument("--quick", action="store_true", help="tiny smoke run (40 projects, 160 requests, 1 run)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a ratio misses its goal")
    args = parser.parse_args(argv)
    if args.quick:
        args.projects, args.requests, args.repeat = 40, 160, 1
    print(
        f"bench/web.py: python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, {os.cpu_count()} cpus,"
        f" {CLIENTS} clients, {args.projects} demo projects, {args.requests} requests per case and run,"
        f" {args.repeat} runs per side",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        db = Path(tmp) / "registry.db"
        started = time.perf_counter()
        build_demo(db, projects=args.projects)
        print(f"    demo registry built in {time.perf_counter() - started:.0f} s", flush=True)
        tokens = Tokens.open(db)
        officer, _ = tokens.create(name="bench-officer", role="case_officer")
        tokens.close()
        with server("ours", db) as served:
            pids = [
                p["id"]
                for p in httpx.get(
                    f"{served.base}/api/v1/projects",
                    params={"limit": PROJECTS_READ},
                    headers={"Authorization": f"Bearer {officer}"},
                ).json()["items"]
            ]
            session = {"Cookie": signed_in(served, officer)}
            bearer = {"Authorization": f"Bearer {officer}"}

            def pid(i: int, k: int) -> str:
                return pids[(i + CLIENTS * k) % len(pids)]

            sides: dict[str, tuple[Callable[[int, int], bytes], Callable[[int, int], bytes]]] = {
                "register": (
                    lambda i, k: http_request("GET", "/", {}),
                    lambda i, k: http_request("GET", "/api/v1/register?limit=25", {}),
                ),
                "case": (
                    lambda i, k: http_request("GET", f"/projects/{pid(i, k)}", session),
                    lambda i, k: http_request("GET", f"/api/v1/projects/{pid(i, k)}", bearer),
                ),
            }
            cases = [Case(name) for name in sides]
            for _ in range(args.repeat):
                for case in cases:
                    html, json_ = sides[case.name]
                    case.json.append(asyncio.run(load(served, args.requests, json_, CLIENTS)))
                    case.html.append(asyncio.run(load(served, args.requests, html, CLIENTS)))
        for case in cases:
            case.print()
    missed = [c.name for c in cases if c.ratio < GOAL]
    print("goals: all met" if not missed else f"goals: missed by {', '.join(missed)}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
