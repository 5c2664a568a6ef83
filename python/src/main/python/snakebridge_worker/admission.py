"""How the worker server admits connections before they become workers or control connections
(PROTOCOL.md REMOTE-3, REMOTE-12): each waits in a tier by how far it got (connecting, tls,
authenticating, authenticated), each tier with slots of its own and a per-address share, and each
step has a deadline; failures are logged a line per kind at a time. The loop that moves connections
between tiers is the server's (forkserver.py); this is its bookkeeping, free of sockets."""
import ipaddress
import sys
import time

PENDING_SECONDS = 10  # a connection's whole time from accept to its preamble, and a fork's wait for its second connection
FIRST_BYTES_SECONDS = 2  # from accept to a TCP client's whole first TLS record (or first byte without TLS): it sends them with its connect
STAGE_SECONDS = 5  # each later step before authentication (the TLS handshake, hello, the challenge's answer): a round trip or two
STAGE_SLOTS = 128  # pending connections per tier (REMOTE-12): connecting, tls, authenticating, authenticated (with the forks waiting)
PEER_SHARE = 4  # in a full tier, a peer holding more than 1/PEER_SHARE of its slots loses its own stalest connection first
NOTICE_SECONDS = 10  # at most one log line per kind of client failure in this long (a flood must not flood the log, nor block on it)


CONNECTING, TLS, AUTHENTICATING, AUTHENTICATED = "connecting", "tls", "authenticating", "authenticated"


class Pending:
    """A connection that is not yet a worker's or a control connection: where it is in TLS,
    authentication and its preamble (``sniff``, ``handshake``, ``hello``, ``auth``, ``preamble``), its
    tier (the Tier holding it), its peer (peer_of) and its deadlines."""

    __slots__ = ("buffer", "deadline", "expires", "stage", "nonce", "peer", "tier", "awaited")

    def __init__(self, peer, now):
        self.buffer = b""
        self.expires = now + PENDING_SECONDS  # the whole way in
        self.deadline = self.expires  # the current stage's
        self.stage = None
        self.nonce = None
        self.peer = peer
        self.tier = None
        self.awaited = 0  # bytes of its first TLS record it is waited for (its receive low-water mark)


class Tier:
    """The pending connections at one step of their way in (REMOTE-12), stalest first: a connection joins
    the end when it gets here, so the first is the one that has gone longest without progress. Each
    tier has slots of its own, so a connection never loses its place to one that has come less far:
    silent connects churn among themselves and cannot push out a client in its TLS handshake."""

    def __init__(self, name, slots=STAGE_SLOTS):
        self.name = name
        self.slots = slots
        self.members = {}  # connection -> Pending, in the order they got here
        self._held = {}  # peer -> how many of the members are its

    def __len__(self):
        return len(self.members)

    def add(self, conn, pending):
        pending.tier = self
        self.members[conn] = pending
        if pending.peer is not None:
            self._held[pending.peer] = self._held.get(pending.peer, 0) + 1

    def remove(self, conn):
        pending = self.members.pop(conn, None)
        if pending is not None and pending.peer is not None:
            held = self._held[pending.peer] - 1
            if held:
                self._held[pending.peer] = held
            else:
                del self._held[pending.peer]
        return pending

    def victim(self):
        """The connection to close for a newcomer when the tier is full: the stalest of the peer that
        holds the most, if that is more than its share (one address, or one IPv6 /64, flooding from
        many ports pushes out only its own), else the stalest of all (many addresses flooding)."""
        heavy = None
        if self._held:
            peer, held = max(self._held.items(), key=lambda item: item[1])
            if held * PEER_SHARE > self.slots:
                heavy = peer
        for conn, pending in self.members.items():
            if heavy is None or pending.peer == heavy:
                return conn
        return None


def peer_of(address):
    """What a client's share is counted by: its IPv4 address, or its IPv6 /64 (one host's usual
    allocation, whose addresses cost an attacker nothing); None for a unix: client."""
    if not isinstance(address, tuple):
        return None
    try:
        ip = ipaddress.ip_address(address[0].split("%")[0])
    except ValueError:
        return address[0]
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class Notices:
    """Lines for the operator's log about clients that failed (TLS handshakes, pending connections
    closed): the first of a kind at once, then at most one line per kind every NOTICE_SECONDS that
    counts the rest. A flood costs a line every few seconds, not one per connection: it can neither
    bury the log nor fill a stderr pipe nobody reads and so block the loop."""

    def __init__(self, write=None, clock=time.monotonic):
        self._write = write or (lambda text: sys.stderr.write(f"snakebridge_worker serve: {text}\n"))
        self._clock = clock
        self._kinds = {}  # kind -> [end of its quiet window, lines held back, the last of them]

    def note(self, kind, text):
        state = self._kinds.get(kind)
        if state is None:
            self._kinds[kind] = [self._clock() + NOTICE_SECONDS, 0, None]
            self._write(text)
        else:
            state[1] += 1
            state[2] = text

    def flush(self, ending=False):
        """Writes the count of each kind whose window is over (every kind's, when the server ends)."""
        now = self._clock()
        for kind, (window_end, held_back, last) in list(self._kinds.items()):
            if now < window_end and not (ending and held_back):
                continue
            if held_back:
                self._write(f"{held_back} more like this in the last {NOTICE_SECONDS} s; the last: {last}")
                self._kinds[kind] = [now + NOTICE_SECONDS, 0, None]
            else:
                del self._kinds[kind]


def tier_of(stage, remote):
    """The tier of a connection at ``stage``: a connection is authenticated once it proved the token (or
    is a unix: client); without a token (--insecure) nothing is proved and it stays authenticating."""
    if stage == "sniff":
        return CONNECTING
    if stage == "handshake":
        return TLS
    if stage == "preamble" and (remote is None or remote.token is not None):
        return AUTHENTICATED
    return AUTHENTICATING


def describe(peer):
    return peer if peer is not None else "a local client"
