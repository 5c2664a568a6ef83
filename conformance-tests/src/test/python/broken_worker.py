"""The reference worker with one deliberate defect, so the build can prove that the conformance
suite catches it: ``python3 broken_worker.py DEFECT`` (the worker package on PYTHONPATH).

Each defect is one the original SnakeBridge had or a classic protocol mistake (see REFERENCE-NOTES
and the seed research note), and breaks exactly one behaviour: a defect may fail several rules only
when they all rest on that behaviour (a missing ref's error code, say). ConformanceSuiteTest lists
the rules each one fails."""
import collections
import os
import sys
import types
import uuid

from snakebridge_worker import __main__ as worker_main
from snakebridge_worker import callbacks, cancel, decoder, ops, policy, registry, server, worker
from snakebridge_worker.errors import BridgeError, ref_not_found


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


# -- sessions and module policies (SES-*, POL-*) -------------------------------------------------------

def session_info_creates_session():
    """Asking about a session creates it (a get-or-create on the read path): every probe costs memory,
    and the id is taken, so reset_session cannot move a session to it."""
    session_info = registry.Registry.session_info

    def creating(self, session_id):
        self._session(session_id)
        return session_info(self, session_id)
    registry.Registry.session_info = creating


def unknown_limits_ignored():
    """open_session drops limits it does not know instead of refusing them: a typo (max_ref) is silently lost."""
    from_wire = registry.Limits.from_wire.__func__

    def known_only(cls, fields, base):
        return from_wire(cls, {k: v for k, v in fields.items() if k in cls.__slots__}, base)
    registry.Limits.from_wire = classmethod(known_only)


def worker_live_refs_per_session():
    """session_info's worker_live_refs counts the request's session only, not the worker's refs over all sessions."""
    session_info = registry.Registry.session_info

    def per_session(self, session_id):
        info = session_info(self, session_id)
        return dict(info, worker_live_refs=info["live_refs"])
    registry.Registry.session_info = per_session


def reset_forgets_limits():
    """reset_session opens the new session with the default limits instead of the old session's."""
    reset = registry.Registry.reset_session

    def with_defaults(self, session_id, new_session_id):
        released = reset(self, session_id, new_session_id)
        self._sessions[new_session_id].limits = self.default_limits
        return released
    registry.Registry.reset_session = with_defaults


def reset_drops_policy():
    """reset_session opens the new session without the old one's module policy: a pool's next borrower escapes it."""
    reset = registry.Registry.reset_session

    def without_policy(self, session_id, new_session_id):
        released = reset(self, session_id, new_session_id)
        self._sessions[new_session_id].policy = registry.OPEN
        return released
    registry.Registry.reset_session = without_policy



def private_names_under_policy():
    """A module policy judges modules only: private names, dunders and interpreter internals pass (gi_frame, __globals__)."""
    policy.ModulePolicy.check_attribute = lambda self, owner, name: None


def policy_judges_by_name():
    """A module policy judges the name a request used, not the module that defines what it reached:
    statistics.reduce passes under allow ["statistics"], though functools defines it."""
    policy.ModulePolicy.check_object = lambda self, obj: None


def modules_mutable_under_policy():
    """A module policy does not stop set_attr, setitem or mutating methods on modules, classes and their namespaces."""
    policy.ModulePolicy.check_mutable = lambda self, owner: None

# -- refs (REF-*) ---------------------------------------------------------------------------------

def one_invalid_ref_reason():
    """Every invalid ref is reason "malformed": a ref without an id is not told apart (missing_id)."""
    ref_id = decoder.Decoder.ref_id

    def lumped(self, value):
        try:
            return ref_id(self, value)
        except BridgeError as exc:
            if exc.code == "invalid_ref":
                raise BridgeError("invalid_ref", "invalid ref", reason="malformed") from None
            raise
    decoder.Decoder.ref_id = lumped


def never_issued_ids_called_released():
    """An id the worker never issued is ref_not_found with reason "released" instead of "unknown"."""
    missing = registry.Registry._missing

    def assume_released(self, session_id, ref_id):
        error = missing(self, session_id, ref_id)
        if error.details.get("reason") == registry.UNKNOWN:
            return ref_not_found(ref_id, session_id, registry.RELEASED)
        return error
    registry.Registry._missing = assume_released


def ref_limit_policy_ignored():
    """ref_limit_policy is stored but not applied: a full session always evicts, even under "reject"."""
    add = registry.Registry.add

    def always_evict(self, session_id, obj):
        session = self._session(session_id)
        limits = session.limits
        session.limits = registry.Limits(limits.max_refs, "evict_lru", limits.ref_ttl_seconds)
        try:
            return add(self, session_id, obj)
        finally:
            session.limits = limits
    registry.Registry.add = always_evict


def worker_id_ignored():
    """A ref's worker_id is not checked: a ref made by an earlier worker process is looked up as if it were this one's."""
    ref_id = decoder.Decoder.ref_id

    def without_worker_id(self, value):
        if type(value) is dict:
            value = {k: v for k, v in value.items() if k != "worker_id"}
        return ref_id(self, value)
    decoder.Decoder.ref_id = without_worker_id


def without_ref_ttl():
    """Not broken: has no TTL and does not declare ref_ttl, so REF-6 does not bind it (its tests are skipped)."""
    ttl_never_expires()
    ops.CAPABILITIES.remove("ref_ttl")


# -- cancel (CANCEL-*) ----------------------------------------------------------------------------

def cancel_answered_as_python_exception():
    """A cancelled call is answered as a python_exception (a RuntimeError) instead of "cancelled"."""
    run_user_code = worker.Worker.run_user_code

    def converting(self, fn, *args, **kwargs):
        try:
            return run_user_code(self, fn, *args, **kwargs)
        except KeyboardInterrupt:
            raise RuntimeError("interrupted") from None
    worker.Worker.run_user_code = converting


def cancel_drops_session():
    """A cancelled call takes its session's refs with it, as if the cancel had broken the session."""
    answer = server.Server.answer

    def dropping(self, request, attachments=()):
        response, attachments_out = answer(self, request, attachments)
        if (response.get("error") or {}).get("code") == "cancelled" and type(request) is dict:
            self.worker.registry.release_session(request.get("session_id"))
        return response, attachments_out
    server.Server.answer = dropping


def cancel_word_left_visible():
    """Maps the cancel word but leaves its file and variable in place: user code can find the word and
    aim SIGINTs of its own at any request (CANCEL-2)."""
    def mapped_in_place(path):
        fd = os.open(path, os.O_RDWR)
        try:
            return cancel.CancelWord(cancel.mmap.mmap(fd, cancel.SIZE))
        finally:
            os.close(fd)
    cancel.open_word = mapped_in_place
    cancel.from_environment = lambda: (mapped_in_place(os.environ[cancel.ENVIRONMENT_VARIABLE])
                                       if cancel.ENVIRONMENT_VARIABLE in os.environ else None)


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


# -- callbacks (CB-*) -----------------------------------------------------------------------------

def callback_arity_unchecked():
    """A callback does not check its arity: a call with the wrong number of arguments goes to the client."""
    def unchecked(self, *args, **kwargs):
        if not self.live:
            raise RuntimeError(f"Java callback {self.callback_id} was passed to a call that has returned")
        return self._worker.server.call_back(self, args, kwargs)
    callbacks.Callback.__call__ = unchecked


def callbacks_not_reentrant():
    """While a callback runs, a request from the client is refused (protocol error) instead of answered."""
    answer = server.Server.answer

    def busy(self, request, attachments=()):
        if self.worker._requests and type(request) is dict:
            return {"id": request.get("id"), "ok": False,
                    "error": {"code": "protocol", "message": "busy: a callback is in flight"}}, ()
        return answer(self, request, attachments)
    server.Server.answer = busy


def callback_error_id_dropped():
    """A callback's error reply raises CallbackError without its java_error_id: the client cannot chain its exception."""
    server.CallbackError = lambda java_type, message, java_error_id: callbacks.CallbackError(java_type, message, None)


def callbacks_outlive_request():
    """A callback stays live after the request that carried it: called later, it asks the client."""
    callbacks.Callback.live = property(lambda self: True, lambda self, value: None)


def exported_callbacks_die_with_request():
    """A callback marked exported is treated as any other: it dies with the request that carried it (CB-6)."""
    new_callback = worker.Worker.new_callback

    def never_exported(self, session_id, callback_id, arity, exported=False):
        return new_callback(self, session_id, callback_id, arity, False)
    worker.Worker.new_callback = never_exported


def sigint_during_callback_lost():
    """A SIGINT that arrives while a callback's frames are in flight is dropped, not raised when the callback returns."""
    def forgetful(self, signum, frame):
        if self.interruptible:
            raise KeyboardInterrupt
    worker.Worker._on_sigint = forgetful


# -- batches (BATCH-*) ----------------------------------------------------------------------------

def batch_fails_whole_for_a_bad_op():
    """A batch with a call of an op that cannot be batched fails whole, instead of that call alone."""
    batch = ops.OPS["batch"]

    def validating(worker_, request, session_id):
        calls = request.get("calls")
        if type(calls) is list and any(type(c) is dict and c.get("op") not in ops._BATCHABLE for c in calls):
            raise BridgeError("protocol", "a batch call has an op that cannot be batched")
        return batch(worker_, request, session_id)
    validating.session_scoped = True
    ops.OPS["batch"] = validating


def failed_promise_passed_as_none():
    """A promise of a call that failed is passed on as None instead of failing its call with dependency_failed."""
    promise = decoder.DECODERS["promise"]

    def none_for_failed(decoder_, value, depth):
        try:
            return promise(decoder_, value, depth)
        except BridgeError as exc:
            if exc.code == "dependency_failed":
                return None
            raise
    decoder.DECODERS["promise"] = none_for_failed


def want_none_makes_a_ref():
    """want "none" answers null but still registers a ref to the result: intermediate objects pile up."""
    encode_result = worker.Worker.encode_result

    def keeping(self, session_id, value, want):
        if want == "none":
            encode_result(self, session_id, value, "ref")
            return None
        return encode_result(self, session_id, value, want)
    worker.Worker.encode_result = keeping


DEFECTS = {f.__name__: f for f in (
    release_session_by_prefix, bare_key_error, ttl_never_expires, top_level_int_as_float, print_corrupts_protocol,
    refs_visible_across_sessions, ignores_response_caps, counter_ref_ids, scanning_eviction, undeclared_callbacks_accepted,
    no_parent_death_signal, session_info_creates_session, unknown_limits_ignored, worker_live_refs_per_session,
    reset_forgets_limits, reset_drops_policy, one_invalid_ref_reason, never_issued_ids_called_released, ref_limit_policy_ignored,
    worker_id_ignored, without_ref_ttl, cancel_answered_as_python_exception, cancel_drops_session, cancel_word_ignored,
    cancel_word_left_visible,
    callback_arity_unchecked,
    callbacks_not_reentrant, callback_error_id_dropped, callbacks_outlive_request, exported_callbacks_die_with_request,
    sigint_during_callback_lost,
    batch_fails_whole_for_a_bad_op, failed_promise_passed_as_none, want_none_makes_a_ref, private_names_under_policy,
    policy_judges_by_name, modules_mutable_under_policy)}

if __name__ == "__main__":
    if sys.argv[1] == "--list":  # ConformanceSuiteTest checks that every defect is in its table
        print("\n".join(DEFECTS))
        sys.exit(0)
    # Each defect is written against the worker's general path (Worker.run_user_code, Server.answer...);
    # its short path for the commonest calls (server.py) would answer those calls without it.
    server.Server.short_path = False
    DEFECTS[sys.argv[1]]()
    sys.exit(worker_main.main(sys.argv[2:]))  # "serve --listen ...": a worker server whose forked workers have the defect
