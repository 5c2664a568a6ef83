"""What a worker server's operator bounds for every worker it forks (PROTOCOL.md REMOTE-6..9): its
memory, the refs of each session, the modules requests may reach, and how long it may sit idle.

A client narrows these, never widens them: of two limits the narrower holds, and a request must pass
the server's module policy and the session's own. The worker applies them itself, after the fork and
before its first request (the address-space limit as a hard RLIMIT_AS, which it cannot raise again;
the rest in its registry, where no request replaces them), so nothing a client sends can lift them."""
from .policy import ModulePolicy

IDLE_EXIT_STATUS = 75  # REMOTE-9: a worker closed for idleness (sysexits' EX_TEMPFAIL: connect again)


class ServerLimits:
    __slots__ = ("memory_limit_bytes", "max_refs", "idle_timeout_seconds", "policy")

    def __init__(self, memory_limit_bytes=0, max_refs=0, idle_timeout_seconds=0, allow_modules=(), deny_modules=()):
        """0 is "none" for each number; empty lists are no policy. Raises BridgeError for a module
        name that is not dotted."""
        self.memory_limit_bytes = memory_limit_bytes
        self.max_refs = max_refs
        self.idle_timeout_seconds = idle_timeout_seconds
        self.policy = ModulePolicy.of_server(allow_modules, deny_modules)

    def memory_limit(self, client_bytes):
        """The address-space limit of a worker whose client asked for ``client_bytes`` (0: none)."""
        return narrower(self.memory_limit_bytes, client_bytes)

    def max_refs_for(self, client_max_refs):
        """The max_refs of a session whose client asked for ``client_max_refs``."""
        return narrower(self.max_refs, client_max_refs)

    def to_wire(self):
        """What the handshake tells the client (HS-3 ``server_limits``): only the limits that are set."""
        wire = {name: getattr(self, name) for name in ("memory_limit_bytes", "max_refs", "idle_timeout_seconds")
                if getattr(self, name)}
        if self.policy.active:
            wire["module_policy"] = self.policy.to_wire()
        return wire


def narrower(server, client):
    """The narrower of two limits of which 0 means none: the smaller of those that are set."""
    if not server:
        return client
    if not client:
        return server
    return min(server, client)


NO_LIMITS = ServerLimits()
