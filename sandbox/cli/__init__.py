"""The ``sandbox-registry`` command line: a thin click layer over the library.

Each command opens the database and calls one library function. Failures are one line on
standard error and a non-zero exit, never a traceback.

The group and its shared options are in :mod:`group`, failures become one line in
:mod:`failures`; each other module holds the commands of one concern.
"""

from sandbox.cli import demo, log, operations, proofs, register, tokens
from sandbox.cli.group import main
from sandbox.cli.usage import usage_zh

__all__ = ["demo", "log", "main", "operations", "proofs", "register", "tokens", "usage_zh"]
