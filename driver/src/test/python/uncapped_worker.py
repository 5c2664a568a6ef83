"""The reference worker, deaf to the client's response caps: it reports max_response_bytes and
max_response_elements as adopted (HS-5), then sends whatever it makes, as a worker that does not
implement PROTOCOL.md RESP-* would. Only the driver's own caps (CLIENT-5) then stand between such a
worker and the JVM's heap. Run as ``python -I uncapped_worker.py <worker sources> <pythonPath>...``,
the directories the driver's bootstrap would put on sys.path."""
import sys

sys.path[0:0] = sys.argv[1:]

from snakebridge_worker import __main__ as worker_main
from snakebridge_worker import ops

_handshake = ops.OPS["handshake"]


def _adopt_then_ignore(worker, request):
    hello = _handshake(worker, request)
    worker.adopt_limits({"max_response_bytes": sys.maxsize, "max_response_elements": sys.maxsize})
    return hello


_adopt_then_ignore.session_scoped = False
ops.OPS["handshake"] = _adopt_then_ignore
sys.exit(worker_main.main())
