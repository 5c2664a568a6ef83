"""Python ``logging`` records to the driver's log, with their level and logger name.

The driver gives the worker a nonce in ``SNAKEBRIDGE_LOG_NONCE`` (fresh for each process). With it,
the worker configures the root logger as an application's ``basicConfig`` would, before any user
code runs: one handler, the root at Python's default level (WARNING). Levels are set as usual
(``logging.getLogger().setLevel(logging.INFO)``). As in any Python program whose logging is
configured, a plain ``logging.basicConfig(...)`` then does nothing; ``basicConfig(force=True, ...)``
replaces the handler, and that output reaches the driver as plain stderr lines. (Python's
``lastResort`` would leave ``basicConfig`` free, but the module-level ``logging.warning()`` calls
``basicConfig()`` itself when the root has no handler, so its records would never be marked.)
Each record is one stderr line::

    snakebridge-log <nonce> <levelno> <logger name> <message, traceback included, newlines as \\n>

and the driver (native-shim StderrPump) logs it at the record's level under
``io.snakebridge.worker.python.<logger name>``. Only a line with this process's nonce counts as a
record: output that imitates the form (a ``print`` of untrusted data) stays plain output.
"""
import logging
import os
import sys

NONCE_VARIABLE = "SNAKEBRIDGE_LOG_NONCE"
MARKER = "snakebridge-log"


class RecordLineHandler(logging.Handler):
    """Writes each record as one marked line. Its level is NOTSET: the loggers' levels decide."""

    def __init__(self, nonce, stream):
        super().__init__()
        self.prefix = f"{MARKER} {nonce} "
        self.stream = stream
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record):
        try:
            name = "_".join(record.name.split()) or "root"  # one word: the driver splits on spaces
            text = self.format(record).replace("\n", "\\n")  # one record, one line
            self.stream.write(f"{self.prefix}{record.levelno} {name} {text}\n")
            self.stream.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)


def install_from_environment():
    """Takes the nonce out of the environment (child processes must not inherit it) and, if there was
    one, gives the root logger the handler, unless something (a sitecustomize) configured it already.
    Without a nonce (a worker not started by the driver) logging stays as Python leaves it."""
    nonce = os.environ.pop(NONCE_VARIABLE, "")
    root = logging.getLogger()
    if nonce and not root.handlers:
        # sys.__stderr__: the pipe to the driver even when user code redirects sys.stderr, whose
        # capture must not receive the nonce.
        root.addHandler(RecordLineHandler(nonce, sys.__stderr__))
