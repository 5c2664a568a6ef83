"""The reference worker with one deliberate defect, so the build can prove that the conformance
suite catches it: ``python3 broken_worker.py DEFECT`` (the worker package on PYTHONPATH).

Each defect is one the original SnakeBridge had or a classic protocol mistake (see REFERENCE-NOTES
and the seed research note)."""
import collections
import os
import sys
import types
import uuid

from snakebridge_worker import __main__ as worker_main
from snakebridge_worker import decoder, ops, registry, worker


def release_session_by_prefix():
    """release_session("a") also removes the refs of session "a:b" (original defect 4)."""
    release = registry.Registry.release_session

    def by_prefix(self, session_id):
        return sum(release(self, sid) for sid in [s for s in list(self._sessions) if s.startswith(session_id)])
    registry.Registry.release_session = by_prefix


def bare_key_error():
    """A missing ref is a bare KeyError instead of ref_not_found (the seed note's central finding)."""
    def key_error(ref_id, session_id, reason):
        return KeyError(f"Unknown SnakeBridge reference: {ref_id}")
    registry.ref_not_found = key_error
    decoder.ref_not_found = key_error


def ttl_never_expires():
    """ref_ttl_seconds is accepted but never applied (original defect 2: TTL documented, disabled)."""
    registry.Registry._expire = lambda self, session, now: None


def top_level_int_as_float():
    """Top-level ints come back as floats (original defect 6: 6 becomes 6.0)."""
    encode_result = worker.Worker.encode_result

    def mangled(self, session_id, value, want):
        result = encode_result(self, session_id, value, want)
        return float(result) if type(result) is int else result
    worker.Worker.encode_result = mangled


def print_corrupts_protocol():
    """The protocol shares fd 1 with user code, so print() and os.write(1, ...) corrupt it."""
    worker_main._claim_protocol_streams = lambda: (os.fdopen(os.dup(0), "rb"), os.fdopen(1, "wb", buffering=0))


def refs_visible_across_sessions():
    """A ref resolves in whatever session holds it (original defect 9's consequence: no isolation)."""
    resolve, ref_id = registry.Registry.resolve, decoder.Decoder.ref_id

    def resolve_anywhere(self, session_id, wanted):
        owner = self._owner.get(wanted)
        if owner is not None and owner != session_id:
            return self._sessions[owner].refs[wanted].obj
        return resolve(self, session_id, wanted)

    def without_session_check(self, value):
        if type(value) is dict and value.get("session_id") not in (None, self._session_id):
            value = dict(value, session_id=self._session_id)
        return ref_id(self, value)
    registry.Registry.resolve = resolve_anywhere
    decoder.Decoder.ref_id = without_session_check


def ignores_response_caps():
    """Reports the client's max_response_bytes and max_response_elements as adopted (HS-5), then sends
    whatever it makes: a client that trusted it would have to hold all of it."""
    handshake = ops.OPS["handshake"]

    def adopt_then_ignore(worker_, request):
        hello = handshake(worker_, request)
        worker_.adopt_limits({"max_response_bytes": sys.maxsize, "max_response_elements": sys.maxsize})
        return hello
    adopt_then_ignore.session_scoped = False
    ops.OPS["handshake"] = adopt_then_ignore


def counter_ref_ids():
    """Ref ids from a counter, dressed as version-4 UUIDs: 32 hex digits, all distinct, and guessable."""
    count = iter(range(1, 1 << 64))
    registry.uuid = types.SimpleNamespace(uuid4=lambda: uuid.UUID(int=next(count), version=4))


def scanning_eviction():
    """evict_lru finds the least recently used ref with a scan of every ref (O(n)) instead of taking the front."""
    class ScanningRefs(collections.OrderedDict):
        def popitem(self, last=True):
            if last:
                return super().popitem(last=True)
            oldest = min(self, key=lambda ref_id: self[ref_id].last_used)
            return oldest, self.pop(oldest)
    init = registry._Session.__init__

    def with_scanning_refs(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.refs = ScanningRefs()
    registry._Session.__init__ = with_scanning_refs


def undeclared_callbacks_accepted():
    """Does not declare the callbacks capability, yet takes callback values as if it did (HS-4)."""
    ops.CAPABILITIES.remove("callbacks")


def no_parent_death_signal():
    """The worker outlives a parent that died (only the optional FRAME-7 covers this)."""
    worker_main._die_with_parent = lambda: None


def cancel_word_ignored():
    """Maps the cancel word and declares cancel_target, yet a SIGINT interrupts whatever request is in
    flight, as a signal without a word would: a late cancel lands in the next request (CANCEL-3)."""
    on_sigint = worker.Worker._on_sigint

    def whatever_runs(self, signum, frame):
        word = self.cancel_word
        word.took(word.target())
        self.cancel_word = None
        try:
            on_sigint(self, signum, frame)
        finally:
            self.cancel_word = word
    worker.Worker._on_sigint = whatever_runs


DEFECTS = {f.__name__: f for f in (release_session_by_prefix, bare_key_error, ttl_never_expires, top_level_int_as_float,
                                    print_corrupts_protocol, refs_visible_across_sessions, ignores_response_caps,
                                    counter_ref_ids, scanning_eviction, undeclared_callbacks_accepted,
                                    no_parent_death_signal, cancel_word_ignored)}

if __name__ == "__main__":
    DEFECTS[sys.argv[1]]()
    sys.exit(worker_main.main())
