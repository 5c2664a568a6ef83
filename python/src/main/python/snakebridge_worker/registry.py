"""The session-scoped ref registry.

Each session keeps its refs in insertion/use order (an OrderedDict), so that least-recently-used
eviction and idle-TTL expiry both take from the front: every operation is O(1) amortized, whatever
the number of live refs. A bounded memory of removed ids ("tombstones") lets a late use say *why*
the ref is gone.
"""
import time
import uuid
from collections import OrderedDict

from .errors import BridgeError, ref_not_found
from .policy import OPEN, ModulePolicy
from .server_limits import NO_LIMITS

RELEASED = "released"
EXPIRED = "expired"
EVICTED = "evicted"
SESSION_RELEASED = "session_released"
UNKNOWN = "unknown"

POLICIES = ("reject", "evict_lru")


class Limits:
    __slots__ = ("max_refs", "ref_limit_policy", "ref_ttl_seconds")

    def __init__(self, max_refs, ref_limit_policy, ref_ttl_seconds):
        if type(max_refs) is not int or max_refs < 1:
            raise BridgeError("invalid_argument", f"max_refs must be an integer >= 1, got {max_refs!r}")
        if ref_limit_policy not in POLICIES:
            raise BridgeError("invalid_argument",
                              f"ref_limit_policy must be one of {', '.join(POLICIES)}, got {ref_limit_policy!r}")
        if type(ref_ttl_seconds) not in (int, float) or not ref_ttl_seconds >= 0:
            raise BridgeError("invalid_argument", f"ref_ttl_seconds must be a number >= 0, got {ref_ttl_seconds!r}")
        self.max_refs = max_refs
        self.ref_limit_policy = ref_limit_policy
        self.ref_ttl_seconds = ref_ttl_seconds

    @classmethod
    def from_wire(cls, fields, base):
        unknown = set(fields) - set(cls.__slots__)
        if unknown:
            raise BridgeError("invalid_argument", f"unknown limit(s) {sorted(unknown)}; known: {list(cls.__slots__)}")
        return cls(**{name: fields.get(name, getattr(base, name)) for name in cls.__slots__})

    def to_wire(self):
        return {name: getattr(self, name) for name in self.__slots__}


class _Entry:
    __slots__ = ("obj", "last_used")

    def __init__(self, obj, now):
        self.obj = obj
        self.last_used = now


class _Session:
    __slots__ = ("id", "limits", "policy", "refs")

    def __init__(self, session_id, limits, policy=OPEN):
        self.id = session_id
        self.limits = limits
        self.policy = policy
        self.refs = OrderedDict()


class Registry:
    def __init__(self, defaults, clock=time.monotonic, server_limits=NO_LIMITS):
        """``server_limits``: what the worker server that forked this worker bounds (REMOTE-6): a
        session's max_refs never passes its, and its module policy is under every session's."""
        self.server_limits = server_limits
        self._max_refs_cap = server_limits.max_refs
        self.default_limits = Limits(server_limits.max_refs_for(defaults["max_refs"]), defaults["ref_limit_policy"],
                                     defaults["ref_ttl_seconds"])
        # The policy of every session without lists of its own: one object, so what any request reached
        # by an attribute step stays module state for every later one (POL-4), even of a session made later.
        self._base_policy = ModulePolicy((), (), server_limits.policy) if server_limits.policy.active else OPEN
        self._clock = clock
        self._sessions = {}
        self._owner = {}  # ref id -> session id, across sessions, so a foreign id is a mismatch, not "unknown"
        self._tombstones = _Tombstones(defaults["tombstone_capacity"])
        self.ttl_in_use = False  # whether any session's refs can expire: else expire_all has nothing to do
        self._note_ttl()

    # -- sessions ---------------------------------------------------------------------------
    def open_session(self, session_id, limit_fields, policy_fields=None):
        limits = Limits.from_wire(limit_fields, self._sessions[session_id].limits if session_id in self._sessions
                                  else self.default_limits)
        if self._max_refs_cap and limits.max_refs > self._max_refs_cap:
            limits.max_refs = self._max_refs_cap  # REMOTE-8: a client narrows the server's max_refs, never widens it
        policy = ModulePolicy.from_wire(policy_fields) if policy_fields is not None else None
        session = self._session(session_id)
        if policy is not None and session.policy.has_own and policy.to_wire() != session.policy.to_wire():
            raise BridgeError("invalid_argument", f"session {session_id!r} already has a module policy; it cannot change "
                                                  "(POL-1): open a new session instead")
        session.limits = limits
        if policy is not None and not session.policy.has_own:
            session.policy = session.policy.narrowed(policy.allow, policy.deny)  # the server's part stays (REMOTE-7)
        self._note_ttl()
        return session.limits.to_wire()

    def policy(self, session_id):
        session = self._sessions.get(session_id)
        return session.policy if session is not None else self._base_policy

    def session_info(self, session_id):
        """This session's live refs and limits, and the worker's total live refs (a count only:
        no session learns another's ids)."""
        session = self._sessions.get(session_id)
        if session is not None:
            self._expire(session, self._clock())
        limits = session.limits if session is not None else self.default_limits
        return {"live_refs": len(session.refs) if session is not None else 0, "limits": limits.to_wire(),
                "worker_live_refs": len(self._owner)}

    def reset_session(self, session_id, new_session_id):
        """Releases a session and opens another with the same limits; returns how many refs it released."""
        if new_session_id == session_id or new_session_id in self._sessions:
            raise BridgeError("invalid_argument", "reset_session needs a new, unused session id")
        session = self._sessions.get(session_id)
        limits = session.limits if session is not None else self.default_limits
        policy = session.policy if session is not None else self._base_policy
        released = self.release_session(session_id)
        self._sessions[new_session_id] = _Session(new_session_id, limits, policy)
        self._note_ttl()
        return released

    def release_session(self, session_id):
        session = self._sessions.pop(session_id, None)  # exact match only, never a prefix
        if session is None:
            return 0
        self._note_ttl()
        for ref_id in session.refs:
            self._bury(ref_id, session_id, SESSION_RELEASED)
        return len(session.refs)

    def _session(self, session_id):
        """The session, created with the default limits on its first ref or open_session."""
        session = self._sessions.get(session_id)
        if session is None:
            session = self._sessions[session_id] = _Session(session_id, self.default_limits, self._base_policy)
        return session

    # -- refs -------------------------------------------------------------------------------
    def add(self, session_id, obj):
        session = self._session(session_id)
        now = self._clock()
        self._expire(session, now)
        limits = session.limits
        while len(session.refs) >= limits.max_refs:
            if limits.ref_limit_policy == "reject":
                raise BridgeError("ref_limit", self._limit_reached(session_id, len(session.refs), limits.max_refs),
                                  limit=limits.max_refs, setting="max_refs", session_id=session_id)
            evicted, _ = session.refs.popitem(last=False)
            self._bury(evicted, session_id, EVICTED)
        ref_id = uuid.uuid4().hex  # 122 random bits: unguessable; 32 hex digits, as _Tombstones expects
        session.refs[ref_id] = _Entry(obj, now)
        self._owner[ref_id] = session_id
        return ref_id

    def resolve(self, session_id, ref_id):
        session = self._sessions.get(session_id)
        if session is None:
            raise self._missing(session_id, ref_id)
        now = self._clock()
        self._expire(session, now)
        entry = session.refs.get(ref_id)
        if entry is None:
            raise self._missing(session_id, ref_id)
        entry.last_used = now
        session.refs.move_to_end(ref_id)
        return entry.obj

    def use(self, session_id, ref_id):
        """The short path's lookup (server.py): what ``resolve`` returns for a live ref of a session
        with no module policy, after the expiry every session-scoped request does first (Worker
        ._dispatch), and renewed as resolve renews it. None where resolve would raise, or the
        session's policy has a say; the general path then does it all again and reports."""
        session = self._sessions.get(session_id)
        if session is None or session.policy.active:
            return None
        now = self._clock()
        if self.ttl_in_use:
            self.expire_all()
        entry = session.refs.get(ref_id)
        if entry is None:
            return None
        entry.last_used = now
        session.refs.move_to_end(ref_id)
        return entry.obj

    def release(self, session_id, ref_ids, strict=True):
        """Releases each id of this session; an unknown or already released id reports False.
        An id of another session is a session_mismatch (strict) or skipped; nothing is released
        unless every id is acceptable."""
        session = self._sessions.get(session_id)
        if strict:
            for ref_id in ref_ids:
                owner = self._owner.get(ref_id)
                if owner is not None and owner != session_id:
                    raise session_mismatch(session_id, owner, ref_id)
        released = []
        for ref_id in ref_ids:
            if session is None or session.refs.pop(ref_id, None) is None:
                released.append(False)
            else:
                self._bury(ref_id, session_id, RELEASED)
                released.append(True)
        return released

    def discard(self, session_id, ref_ids):
        """Forgets refs that were never handed out (a result that failed to encode)."""
        session = self._sessions.get(session_id)
        for ref_id in ref_ids:
            if session is not None:
                session.refs.pop(ref_id, None)
            self._owner.pop(ref_id, None)

    def expire_all(self):
        if not self.ttl_in_use:
            return
        now = self._clock()
        for session in list(self._sessions.values()):
            self._expire(session, now)

    # -- internals ------------------------------------------------------------------------
    def _limit_reached(self, session_id, held, limit):
        if limit == self._max_refs_cap:  # the server's bound: raising the client's setting would not help (REMOTE-8)
            return (f"session {session_id} already holds {held} refs, the most the worker server allows a session "
                    f"(serve --max-refs {limit}), which no client can raise; release refs (the new object was dropped)")
        return (f"session {session_id} already holds {held} refs, its max_refs limit; "
                f"release refs or raise max_refs (the new object was dropped)")

    def _note_ttl(self):
        """Keeps ttl_in_use exact: called wherever a session's limits come or go."""
        self.ttl_in_use = bool(self.default_limits.ref_ttl_seconds) or any(
            session.limits.ref_ttl_seconds for session in self._sessions.values())

    def _expire(self, session, now):
        ttl = session.limits.ref_ttl_seconds
        if not ttl:
            return
        refs = session.refs
        # Uses move a ref to the end, so the front is always the least recently used.
        while refs:
            ref_id, entry = next(iter(refs.items()))
            if now - entry.last_used < ttl:
                break
            del refs[ref_id]
            self._bury(ref_id, session.id, EXPIRED)

    def _bury(self, ref_id, session_id, reason):
        self._owner.pop(ref_id, None)
        self._tombstones.bury(ref_id, session_id, reason)

    def _missing(self, session_id, ref_id):
        owner = self._owner.get(ref_id)
        if owner is not None:
            return session_mismatch(session_id, owner, ref_id)
        tomb = self._tombstones.get(ref_id)
        if tomb is None:
            return ref_not_found(ref_id, session_id, UNKNOWN)
        if tomb[0] != session_id:
            return session_mismatch(session_id, tomb[0], ref_id)
        return ref_not_found(ref_id, session_id, tomb[1])


class _Tombstones:
    """The last ``capacity`` removed ref ids, each with its (session id, reason): bounded memory that
    lets a late use say why a ref is gone (REF-4). Kept compact, since every worker holds up to
    ``tombstone_capacity`` of them: an id is stored as a 128-bit int (not its 32-character string),
    the order of burial is a ring of those ints (not an OrderedDict's linked nodes), and burials in
    a row from one session for one reason share one tuple. About 160 bytes an id, against 290 for
    an OrderedDict of strings (tracemalloc, 50,000 ids after heavy churn)."""

    __slots__ = ("_capacity", "_ring", "_next", "_tags", "_last_tag")

    def __init__(self, capacity):
        self._capacity = capacity
        self._ring = []  # ids in order of burial; once full, _next is the oldest, overwritten next
        self._next = 0
        self._tags = {}  # id -> (session id, reason)
        self._last_tag = None

    def __len__(self):
        return len(self._tags)

    def bury(self, ref_id, session_id, reason):
        if not self._capacity:
            return
        key = int(ref_id, 16)
        tag = self._last_tag
        if tag is None or tag[0] != session_id or tag[1] != reason:
            tag = self._last_tag = (session_id, reason)
        ring = self._ring
        if len(ring) < self._capacity:
            ring.append(key)
        else:
            self._tags.pop(ring[self._next], None)  # an id buried twice went with its first slot
            ring[self._next] = key
            self._next = (self._next + 1) % self._capacity
        self._tags[key] = tag

    def get(self, ref_id):
        """(session id, reason) of a buried id, or None. Only the canonical form of an id this
        worker issued matches: int() would also read "0x…" or "_" spellings of another id."""
        if type(ref_id) is not str or len(ref_id) != 32:
            return None
        try:
            key = int(ref_id, 16)
        except ValueError:
            return None
        return self._tags.get(key) if format(key, "032x") == ref_id else None


def session_mismatch(expected, actual, ref_id):
    return BridgeError("session_mismatch",
                       f"ref {ref_id} belongs to session {actual}, not to this request's session {expected}",
                       expected_session_id=expected, actual_session_id=actual, ref_id=ref_id)
