"""The request loop. It is re-entrant: while a Java callback runs (PROTOCOL.md CB-*), the worker
keeps answering the requests the client sends it, until the callback's reply arrives."""
import io
import itertools
import json
import os
import socket
import sys
import threading
import time

from .callbacks import CallbackError
from .errors import BridgeError, to_wire
from . import lean
from .framing import HEADER as _HEADER, FrameError, read_attachment, read_frame, write_frame
from .fields import SCALARS, is_known_name
from .lean import LEAN
from .server_limits import IDLE_EXIT_STATUS
from .names import resolve
from .policy import OPEN
from .prepared import PreparedCall
from .worker import RequestState
from .values import count_values, longest_string, over_cap, too_long, too_many_values


_LEAN_MAGIC = bytes([lean.MAGIC])


class StreamBroken(BaseException):
    """The protocol stream is out of step or gone: the worker must exit. A BaseException, so that
    user code catching Exception around a callback cannot swallow it."""

    def __init__(self, status):
        super().__init__(status)
        self.status = status


class IdleReader(io.RawIOBase):
    """A socket's bytes for the request loop, each read bounded by what is left of the deadline the
    loop sets while it waits for a request (REMOTE-9): a request sent a byte at a time, or half sent,
    is idleness too. Without a deadline, reads wait as long as they must."""

    def __init__(self, conn):
        self._conn = conn
        self._channel = hasattr(conn, "read_deadline")  # a TLS channel: one read may take many socket reads
        self._timeout = None  # the socket's, as last set
        self.deadline = None  # time.monotonic() seconds, or None

    def readable(self):
        return True

    def fileno(self):
        return self._conn.fileno()

    def end_deadline(self):
        """No deadline from now on; the socket's timeout is lifted at once, since the response's writes
        share the socket."""
        self.deadline = None
        if self._channel:
            self._conn.read_deadline = None
        if self._timeout is not None:
            self._conn.settimeout(None)
            self._timeout = None

    def readinto(self, buffer):
        timeout = None
        if self.deadline is not None:
            timeout = self.deadline - time.monotonic()
            if timeout <= 0:
                raise socket.timeout("the idle deadline passed")
        if timeout != self._timeout:
            self._conn.settimeout(timeout)
            self._timeout = timeout
        if self._channel:
            self._conn.read_deadline = self.deadline
        return self._conn.recv_into(buffer)


class Server:
    short_path = True  # answer the commonest calls by the short path (below); False: every request takes the general path

    def __init__(self, proto_in, proto_out, worker, idle=None):
        """``idle``: None, or (the IdleReader under ``proto_in``, seconds): the worker server's idle
        timeout (REMOTE-9)."""
        self._in = proto_in
        self._out = proto_out
        self._cids = itertools.count(1)
        self._idle = idle
        self.worker = worker
        worker.server = self
        self._state = RequestState(None, ())  # the short path's request in flight

    def serve(self):
        """Answers requests until EOF. Returns the process exit status."""
        worker, short, idle = self.worker, self.short_path, self._idle
        try:
            while True:
                if idle is None:  # the hot path: read_frame inline, as in every request's first step
                    try:
                        payload = read_frame(self._in, worker.limits["max_frame_bytes"])
                    except FrameError as exc:
                        self._fail_stream(exc.code, str(exc))
                else:
                    payload = self._next_payload_unless_idle()
                if payload is None:
                    return 0
                if short and payload[:1] == _LEAN_MAGIC and worker.lean and self._lean_call_now(payload):
                    continue
                request, attachments = message = (self._message(payload) if idle is None
                                                   else self._within_idle_deadline(self._message, payload))
                if (short and type(request) is dict and request.get("op") in _SHORT_OPS and not attachments
                        and self._json_call_now(request)):
                    continue
                response, attachments = self.answer(*message)
                if type(request) is dict and LEAN in request and response["ok"] and self._send_lean(response, attachments):
                    continue
                self.send(response, attachments)
        except StreamBroken as broken:
            return broken.status

    def _next_payload_unless_idle(self):
        """The next frame's payload, None at EOF, under the worker server's idle timeout (REMOTE-9): the
        wait for it has one deadline, which the rest of the request's reading shares (_message), so a
        client that sends nothing, or part of a request, for that long loses its worker. Only the
        wait for a request has it: a long call, a slow response and a callback's reply (the client is
        busy, not idle) are never cut short."""
        self._idle_deadline = time.monotonic() + self._idle[1]
        return self._within_idle_deadline(self._read_or_fail_stream, read_frame, self._in, self.worker.limits["max_frame_bytes"])

    def _within_idle_deadline(self, read, *args):
        reader, seconds = self._idle
        reader.deadline = self._idle_deadline
        try:
            return read(*args)
        except socket.timeout:
            sys.stderr.write(f"snakebridge_worker: worker {os.getpid()} closed: no request for {seconds:g} s "
                             "(the server's --idle-timeout)\n")
            raise StreamBroken(IDLE_EXIT_STATUS) from None
        finally:
            reader.end_deadline()

    # -- the short path (README, Performance) ------------------------------------------------------
    # The commonest requests, a call_prepared (PREP-2) or a call by name (OP-CALL-1) with scalar
    # arguments, lean (LEAN-1) or JSON, in the commonest case: not nested in a callback (only serve()
    # takes it), in a session with no module policy. The short path takes the general path's steps (answer,
    # Worker.handle and _dispatch, the op, Worker.run_user_code and encode_result, send) written out
    # in a few functions, since a Python call costs more than most of the steps it would wrap; it
    # first checks, changing nothing that matters, that the request is of that case, and leaves any
    # other to the general path, which then also reports its errors.

    def _lean_call_now(self, payload):
        """Answers a lean call_prepared or call by the short path: False (nothing done) where it cannot."""
        call = lean.parse_call(payload, self.worker.limits["max_string_length"])
        if call is None:
            return False  # not a call, or not well-formed: the general path says why (LEAN-3)
        op, request_id, session_id, target, args = call
        if op == lean.CALL:
            return self._call_by_name_now(request_id, session_id, target, args, True)
        return self._call_prepared_now(request_id, session_id, target, args, True)

    def _json_call_now(self, request):
        """Answers a JSON call (OP-CALL-1) or call_prepared (PREP-2) by the short path: False (nothing
        done) where it cannot. Its checks are those of answer(), _dispatch and the op, for the case
        that passes them: no release, object, keyword arguments or want other than a value."""
        request_id, session_id = request.get("id"), request.get("session_id")
        if (type(request_id) is not int or type(session_id) is not str or request.get("release")
                or request.get("object") is not None or request.get("want", "value") != "value"):
            return False
        args, kwargs = request.get("args", []), request.get("kwargs", {})
        if type(args) is not list or type(kwargs) is not dict or kwargs or not SCALARS.issuperset(map(type, args)):
            return False
        if request["op"] == "call":
            return self._call_by_name_now(request_id, session_id, request.get("function"), args, False)
        prepared_id = request.get("prepared")
        return type(prepared_id) is str and self._call_prepared_now(request_id, session_id, prepared_id, args, False)

    def _call_prepared_now(self, request_id, session_id, prepared_id, args, lean_answer):
        worker = self.worker
        prepared = worker.registry.use(session_id, prepared_id) if worker.handshaken and session_id else None
        if type(prepared) is not PreparedCall or prepared.recheck:
            return False  # an error to report, a policy to apply, or not a prepared call
        self._run_now(request_id, session_id, prepared.fn, args, lean_answer)
        return True

    def _call_by_name_now(self, request_id, session_id, name, args, lean_answer):
        worker = self.worker
        if not (worker.handshaken and session_id and is_known_name(name)):
            return False
        registry = worker.registry
        if registry.policy(session_id).active:
            return False
        registry.expire_all()  # every session-scoped request's first step (_dispatch): a no-op without a ref TTL
        self._run_now(request_id, session_id, _call_by_name, (name, args), lean_answer)
        return True

    def _run_now(self, request_id, session_id, fn, args, lean_answer):
        """Runs ``fn(*args)`` as the user code of request ``request_id`` and writes its answer: lean
        where ``lean_answer`` and the result has a lean form, else as send() writes any."""
        worker = self.worker
        state = self._state  # the SIGINT gate's view of the request in flight (Worker.handle): one, reused
        state.id = request_id
        worker._requests.append(state)
        worker._latest_id = request_id
        worker.last_result_refs = None
        data = None
        try:
            try:
                worker.interruptible = True  # as Worker.run_user_code, at the top level
                if worker._pending_cancel is not None:
                    worker._raise_pending_cancel()
                result = fn(*args)
            finally:
                worker.interruptible = False
            if lean_answer:
                data = lean.scalar_response(request_id, result, worker.limits)
            if data is None:
                result = worker.encode_result(session_id, result, "value")
                data = _ok_number(request_id, result)
                if data is None:
                    response = {"id": request_id, "ok": True, "result": result}
        except KeyboardInterrupt:
            response = _failure(request_id, BridgeError("cancelled", _INTERRUPTED))
        except Exception as exc:  # a user's exception is an answer (Server.answer)
            response = _failure(request_id, exc)
        finally:
            worker._requests.pop()
            if worker._pending_cancel == request_id:
                worker._pending_cancel = None  # it answered: a cancel it never reached is dropped (CANCEL-3)
            if state.callbacks:
                for callback in state.callbacks:  # callbacks of a callback's reply die with the request (CB-4)
                    callback.live = False
                state.callbacks = []
            state.value = None
        if data is not None:
            self._out.write(_HEADER.pack(len(data)) + data)  # write_frame, inline: one frame
            self._out.flush()
            return
        attachments = state.attachments_out
        if attachments:
            state.attachments_out = []
        if not (response["ok"] and lean_answer and self._send_lean(response, attachments)):
            self.send(response, attachments if response["ok"] else ())

    def _next_message(self):
        """(request, attachments) of the next message, None at EOF."""
        payload = self._read_or_fail_stream(read_frame, self._in, self.worker.limits["max_frame_bytes"])
        return None if payload is None else self._message(payload)

    def _message(self, payload):
        """(request, attachments) of the message whose first frame is ``payload``. ``request`` is the
        decoded JSON, or a BridgeError for a frame that is not JSON (MSG-3: answered, and the loop goes on)."""
        limits = self.worker.limits
        if payload[:1] == _LEAN_MAGIC:
            return self._lean_request(payload), ()
        try:
            request = _parse(payload.decode("utf-8"))
        except RecursionError:
            return BridgeError("protocol", "request nests too deeply to parse"), ()
        except ValueError as exc:  # invalid UTF-8, invalid JSON, or an int longer than max_int_digits
            if "integer string conversion" in str(exc):  # CPython's own words would point at sys.set_int_max_str_digits
                return BridgeError("protocol", f"request holds an integer longer than max_int_digits="
                                               f"{limits['max_int_digits']} decimal digits"), ()
            return BridgeError("protocol", f"request is not valid UTF-8 JSON: {exc}"), ()
        count = request.get("attachments", 0) if type(request) is dict else 0
        if type(count) is not int or not 0 <= count <= limits["max_attachments"]:
            # Without a trustworthy count the next frame cannot be found: say why, then close (ATT-3).
            self._fail_stream("protocol", f"attachments must be an integer from 0 to "
                                          f"max_attachments={limits['max_attachments']}, got {count!r}")
        attachments = [self._read_or_fail_stream(read_attachment, self._in, limits["max_frame_bytes"]) for _ in range(count)]
        if len(payload) > limits["max_string_length"]:  # only a frame this large can hold a string too long
            length = longest_string(_values_of(request), limits["max_string_length"])
            if length is not None:
                error = too_long("str", length, limits["max_string_length"])
                error.request_id = request.get("id") if type(request) is dict else None
                return error, ()
        return request, attachments

    def _lean_request(self, payload):
        """The request of a lean frame, or the protocol error that answers it (LEAN-1, LEAN-3)."""
        if not self.worker.lean:
            return BridgeError("protocol", "a lean frame from a client that did not list lean in its handshake's "
                                           "client_capabilities")
        try:
            return lean.parse_request(payload, self.worker.limits["max_string_length"])
        except BridgeError as error:
            return error

    def _send_lean(self, response, attachments):
        """Writes an ok answer to a lean request as a lean frame, if its result has a lean form (LEAN-2)."""
        limits = self.worker.limits
        data = lean.response(response["id"], response["result"], attachments,
                             min(limits["max_frame_bytes"], limits["max_response_bytes"]))
        if data is None:
            return False
        write_frame(self._out, data)
        return True

    def _read_or_fail_stream(self, read, *args):
        """``read(*args)``; a frame that cannot be read fails the stream (the peer is told why)."""
        try:
            return read(*args)
        except FrameError as exc:
            self._fail_stream(exc.code, str(exc))

    def _fail_stream(self, code, message):
        """The stream is out of step: say why, then close rather than guess at the next frame."""
        self.send({"id": None, "ok": False, "error": {"code": code, "message": message}})
        raise StreamBroken(2)

    def answer(self, request, attachments=()):
        """(response, its attachments) for one request."""
        if isinstance(request, BridgeError):
            request_id = getattr(request, "request_id", None)
            return _failure(request_id if type(request_id) is int else None, request), ()
        if type(request) is not dict:
            return _failure(None, BridgeError("protocol", f"a request must be a JSON object, got {type(request).__name__}")), ()
        request_id = request.get("id")
        if type(request_id) is not int:
            return _failure(None, BridgeError("protocol", "a request needs an integer id")), ()
        try:
            result, attachments_out = self.worker.handle(request, attachments)
            return {"id": request_id, "ok": True, "result": result}, attachments_out
        except KeyboardInterrupt:
            failure = _failure(request_id, BridgeError("cancelled", _INTERRUPTED))
        except Exception as exc:  # a user's exception (a RecursionError too) is an answer, never the end of the worker
            failure = _failure(request_id, exc)
        return failure, ()

    def send(self, message, attachments=()):
        """Writes an answer. One that cannot be sent (past the client's caps, or a str holding a lone
        surrogate, an int past max_int_digits) is replaced by an invalid_value error saying why, the
        refs its result made are dropped, and the session goes on."""
        try:
            data = self._serialize(message, attachments)
        except _UNSENDABLE as exc:
            self.worker.rollback_last_result()
            attachments = ()
            error = exc if type(exc) is BridgeError else _unsendable(exc)
            data = json.dumps(_failure(message.get("id"), error), ensure_ascii=True, default=repr).encode("ascii")
        write_frame(self._out, data, attachments)

    def _serialize(self, message, attachments):
        """The message's JSON frame, checked with its attachments against the client's caps (FRAME-3,
        RESP-1, RESP-2): past one it is an error here, not a broken stream there."""
        if attachments:
            message["attachments"] = len(attachments)
        data = _dumps(message)
        if attachments or len(data) > self.worker.surely_fits:
            _check_caps(message, data, attachments, self.worker.limits)
        return data

    def call_back(self, callback, args, kwargs):
        """Runs a Java callback: sends the client a callback request, answers whatever the client
        asks meanwhile (it may call back into Python), and returns the callback's result."""
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("a SnakeBridge callback can only be called from the worker's main thread")
        worker = self.worker
        encoder = worker.encoder(callback.session_id, attachments=[])  # the callback request's own
        cid = next(self._cids)
        try:
            request = {"op": "callback", "cid": cid, "session_id": callback.session_id, "callback_id": callback.callback_id,
                       "args": encoder.encode(list(args)), "kwargs": encoder.encode(kwargs)}
            data = self._serialize(request, encoder.attachments)  # past the client's caps: raises here (RESP-3)
        except BaseException:
            worker.registry.discard(callback.session_id, encoder.new_ref_ids)  # never sent: the client cannot release them
            raise
        with worker.uninterruptible():
            write_frame(self._out, data, encoder.attachments)
            while True:
                message = self._next_message()
                if message is None:
                    raise StreamBroken(0)  # the client left while its callback ran
                reply, attachments = message
                if not _is_callback_reply(reply):
                    self.send(*self.answer(reply, attachments))  # the callback calls back into Python
                    continue
                if reply.get("cid") != cid:
                    raise BridgeError("protocol", f"callback reply for cid {reply.get('cid')!r} while waiting for {cid}")
                break
        if reply.get("ok"):
            return worker.decoder(callback.session_id, attachments).decode(reply.get("result"))
        error = reply.get("error") if type(reply.get("error")) is dict else {}
        raise CallbackError(error.get("type", "java.lang.Throwable"), error.get("message", ""), error.get("java_error_id"))


_SHORT_OPS = ("call", "call_prepared")  # the JSON ops the short path may take (a tuple: "in" must not hash the op)


def _ok_number(request_id, result):
    """The JSON frame of an ok response whose (encoded) result is a number, bool or None, byte for byte
    what send() writes for it (json writes numbers by their repr); None for any other result."""
    cls = type(result)
    if cls is float:
        text = float.__repr__(result)  # encode_result let only finite floats through
    elif cls is int and -(1 << 63) <= result < (1 << 63):
        text = int.__repr__(result)
    elif cls is bool or result is None:
        text = "true" if result is True else "false" if result is False else "null"
    else:
        return None
    return b'{"id":%d,"ok":true,"result":%s}' % (request_id, text.encode("ascii"))


def _call_by_name(name, args):
    """ops.call's user code (_invoke) under no module policy: resolve, then call."""
    return resolve(None, name, OPEN)(*args)


_INTERRUPTED = "the call was interrupted (KeyboardInterrupt)"
_VALUE_FIELDS = ("args", "kwargs", "value", "result", "rows", "columns")


def _values_of(message):
    """The values a message carries (VAL-LIM-3 caps these, not protocol fields such as ids)."""
    if type(message) is not dict:
        return None
    values = [message.get(field) for field in _VALUE_FIELDS]
    calls = message.get("calls")
    if type(calls) is list:
        values.extend(_values_of(call) for call in calls)
    return values


# What makes a message unsendable: a cap (a BridgeError saying which), or what JSON cannot express.
_UNSENDABLE = (BridgeError, ValueError, TypeError, UnicodeEncodeError, RecursionError)


def _unsendable(exc):
    """Why a message cannot be written, in words about the value: never the message itself (a
    UnicodeEncodeError's repr holds the whole frame being written)."""
    if isinstance(exc, UnicodeEncodeError):
        char = exc.object[exc.start]
        return BridgeError("invalid_value", f"the result holds a str with a lone surrogate (U+{ord(char):04X}), which "
                                            "UTF-8 cannot carry; request it as a ref, or encode it in Python "
                                            "(errors='surrogatepass') and return bytes")
    return BridgeError("invalid_value", f"result cannot be sent: {type(exc).__name__}: {str(exc)[:200]}")


def _check_caps(message, data, attachments, limits):
    """Raises the invalid_value error of the first cap the message (its JSON ``data`` and its attachment
    frames) exceeds: the client's frame size, total bytes, or JSON values."""
    total = 0
    for frame in (data, *attachments):
        size = frame.nbytes if type(frame) is memoryview else len(frame)
        if size > limits["max_frame_bytes"]:
            raise over_cap(f"a frame of {size} bytes", "max_frame_bytes", limits["max_frame_bytes"])
        total += size
    if total > limits["max_response_bytes"]:
        raise over_cap(f"a message of {total} bytes (its JSON and attachments)", "max_response_bytes",
                       limits["max_response_bytes"])
    max_values = limits["max_response_elements"]
    if len(data) > max_values and count_values(message, max_values) > max_values:
        raise too_many_values(max_values)


def _is_callback_reply(message):
    return type(message) is dict and "cid" in message and "op" not in message


def _failure(request_id, exc):
    return {"id": request_id, "ok": False, "error": to_wire(exc)}


def _make_parse():
    """json.loads without its per-call wrapper (a regex for surrounding whitespace, type checks):
    the C scanner reads the whole text in one call, as it does for every request a driver writes.
    Anything else (whitespace around the JSON, trailing data, invalid JSON) goes to json.loads,
    so its result and its error message stay exactly json.loads's."""
    scan = json.JSONDecoder().scan_once

    def parse(text):
        try:
            value, end = scan(text, 0)
            if end == len(text):
                return value
        except (StopIteration, ValueError):
            pass
        return json.loads(text)
    return parse


_parse = _make_parse()


def _make_dumps():
    """The fastest exact JSON writer this interpreter has. JSONEncoder.encode builds a new C encoder
    for every message (half its cost for a small response), so one is built once and reused where
    the C accelerator has the signature we know; elsewhere, one reused JSONEncoder. No cycle check
    (markers=None): results are acyclic by construction (the encoder refuses cycles), and a cycle
    anywhere else ends in RecursionError, which send() reports."""
    encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))

    def portable(message):
        return encoder.encode(message).encode("utf-8")
    try:
        from json.encoder import c_make_encoder, encode_basestring
        c_encode = c_make_encoder(None, encoder.default, encode_basestring, None, ":", ",", False, False, False)

        def fast(message):
            return "".join(c_encode(message, 0)).encode("utf-8")
        probe = {"k": [1, 1.5, "\u00e9", None, True]}
        if fast(probe) == portable(probe):
            return fast
    except (ImportError, TypeError):
        pass
    return portable


_dumps = _make_dumps()
