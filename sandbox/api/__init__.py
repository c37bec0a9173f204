"""The HTTP API (litestar): every role's work over the registry."""

from sandbox.api.app import create_app, run_server

__all__ = ["create_app", "run_server"]
