"""The names of the log's streams: one per project, program and reference dataset.

Every reader and writer names a stream through these (the prefixes are part of the stored log:
they never change).
"""

from __future__ import annotations

PROJECT_PREFIX = "project-"
PROGRAM_PREFIX = "program-"
REFERENCE_PREFIX = "reference-"


def project_stream(project_id: str) -> str:
    """The stream of one project's events."""
    return PROJECT_PREFIX + project_id
