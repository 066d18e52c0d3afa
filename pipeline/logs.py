"""One JSON object per log line, in the web process and the workers.

Log collectors (Clever Cloud, Loki, ...) split on newlines and index fields:
a record with a traceback must stay one line, and a job's lines must be
findable by job_id / campaign_id / stage. Those come from the record's
`extra=` or from the `log_context()` around the code that logs.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

CONTEXT_FIELDS = ("job_id", "campaign_id", "stage")
# Also copied when a record carries them (the failure middleware logs its reason).
_EXTRA_FIELDS = CONTEXT_FIELDS + ("establishment_id", "chunk", "reason")

_context: ContextVar[dict] = ContextVar("campaign_mail_log_context", default={})


@contextmanager
def log_context(**fields):
    """Tags every record logged inside (in this thread or task) with these fields."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict:
    return dict(_context.get())


class JsonFormatter(logging.Formatter):
    def __init__(self, component: str):
        super().__init__()
        self.component = component

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "component": self.component,
        }
        line.update(_context.get())
        line.update({name: getattr(record, name) for name in _EXTRA_FIELDS if getattr(record, name, None) is not None})
        if record.exc_info:
            # The plain traceback: file, line and code, never the frames' local variables.
            line["exc"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record is emitted.

    dramatiq's worker processes swap sys.stderr for a pipe to the parent.
    """

    def __init__(self):
        logging.Handler.__init__(self)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def configure_logging(component: str, level: str | int = "INFO") -> None:
    """Makes the root logger (so dramatiq's loggers too) and gunicorn's write JSON lines.

    Plain stream handlers already there (dramatiq's CLI installs one writing to
    its pipe, gunicorn one per logger) keep their stream and get the JSON
    format; other handlers (files, pytest's capture) are left alone. Safe to
    call again.
    """
    formatter = JsonFormatter(component)
    root = logging.getLogger()
    root.setLevel(level)
    for logger in (root, logging.getLogger("gunicorn.error"), logging.getLogger("gunicorn.access")):
        for handler in logger.handlers:
            if type(handler) in (logging.StreamHandler, _StderrHandler):
                handler.setFormatter(formatter)
    # fpdf2's font subsetting logs some twenty INFO lines per PDF written.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    if not root.handlers:
        handler = _StderrHandler()
        handler.setFormatter(formatter)
        root.addHandler(handler)
