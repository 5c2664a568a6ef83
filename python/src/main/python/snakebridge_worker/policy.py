"""A session's module policy (PROTOCOL.md POL-*): which modules its requests may reach and call.

What a policy promises, once a session has one (allow or deny list):
- a request resolves no name, walks no attribute and calls nothing outside the policy;
- every module, class and callable a request reaches (by name, by attribute, by ref or by promise)
  is judged by the module that *defines* it, not by the name it was reached through:
  ``statistics.reduce`` is ``functools.reduce``, ``io.open`` is also ``builtins.open``, and a C
  module counts as its Python face (``posix`` is ``os``, ``_functools`` is ``functools``);
- no ``_private`` or ``__dunder__`` name, and no interpreter internals (frames, generators'
  ``gi_frame``, tracebacks, code), can be walked: they lead around any policy;
- modules, classes, module namespaces and every object reached by an attribute step (rather than
  made by a call) cannot be changed through the protocol (``set_attr``, item assignment, the
  mutating methods of a list, dict, set or bytearray), so one request cannot plant code or data that
  a later one, of this session or the next borrower's, reaches through an allowed name.

It does not promise a sandbox: an allowed function can do whatever Python can (``numpy.load`` with
``allow_pickle`` runs a pickle; an allowed function may change its own module's state), and a deny
list can only refuse the modules it names (``asyncio`` can spawn processes without ``subprocess``):
confine with an allow list, and separate borrowers with process isolation."""
import builtins
import datetime
import sys
from types import (BuiltinFunctionType, ClassMethodDescriptorType, CodeType, FunctionType, FrameType,
                   GeneratorType, CoroutineType, AsyncGeneratorType, MethodDescriptorType, MethodType,
                   MethodWrapperType, ModuleType, TracebackType, WrapperDescriptorType)

from .errors import BridgeError

# Attributes of interpreter internals that reach frames, and through them any module's globals and
# the builtins. Refused on any object, whatever its type claims to be.
_INTERNALS = frozenset(
    "gi_frame gi_code gi_yieldfrom gi_running gi_suspended "
    "cr_frame cr_code cr_await cr_origin cr_running cr_suspended "
    "ag_frame ag_code ag_await ag_running "
    "f_back f_builtins f_globals f_locals f_code f_trace f_lasti f_lineno f_trace_lines f_trace_opcodes "
    "tb_frame tb_next tb_lasti tb_lineno".split())
# Objects none of whose attributes a request may walk.
_INTERNAL_TYPES = (FrameType, TracebackType, CodeType, GeneratorType, CoroutineType, AsyncGeneratorType)

# C modules and private twins judged as the module they serve.
_ALIASES = {"posix": "os", "nt": "os", "_posixsubprocess": "subprocess", "asyncio.subprocess": "subprocess",
            "_io": "io", "_collections_abc": "collections.abc", "_thread": "threading", "_sre": "re",
            "_frozen_importlib": "importlib", "_frozen_importlib_external": "importlib", "_imp": "importlib"}
_STDLIB = getattr(sys, "stdlib_module_names", frozenset())

# The plain value types: their methods (list.append, str.split...) are as harmless as the values,
# except the two that walk attributes of their arguments ("{0.__globals__}".format(f)).
_VALUE_TYPES = frozenset({str, bytes, bytearray, int, float, complex, bool, list, tuple, dict, set, frozenset,
                          range, slice, memoryview, datetime.date, datetime.datetime, datetime.time,
                          datetime.timedelta})
# The methods of a mutable value type that leave it unchanged: those its immutable twin has too.
_READ_ONLY_METHODS = {list: frozenset(dir(tuple)) | {"copy"}, dict: frozenset({"copy", "get", "items", "keys", "values"}),
                      set: frozenset(dir(frozenset)), bytearray: frozenset(dir(bytes))}
_ATTRIBUTE_WALKING_METHODS = frozenset({"format", "format_map"})
_HARMLESS = ()  # the homes of a value type's method: judged by nothing

# What the builtins module hands out (open, eval, exec...): denying builtins denies them under any name.
_BUILTIN_IDS = frozenset(id(v) for v in vars(builtins).values() if callable(v))


_SESSION = "this session's"
_SERVER = "the worker server's"


class ModulePolicy:
    __slots__ = ("allow", "deny", "active", "server", "whose", "_reached")

    def __init__(self, allow=(), deny=(), server=None, whose=_SESSION):
        for names, field in ((allow, "allow_modules"), (deny, "deny_modules")):
            if type(names) not in (list, tuple) or not all(_is_dotted(n) for n in names):
                raise BridgeError("invalid_argument", f"{field} must be a list of dotted module names, got {names!r}")
        self.allow = tuple(allow)
        self.deny = tuple(deny)
        # The worker server's policy (REMOTE-7): judged first, whatever this one says, so a session's
        # own lists can only narrow it.
        self.server = server if server is not None and server.active else None
        self.whose = whose  # _SESSION or _SERVER: named in a refusal
        self.active = bool(self.allow or self.deny or self.server)
        # ids of the objects this session reached by attribute steps: module state, never to be changed
        # through the protocol (their ids stay valid: what a module holds lives as long as it does)
        self._reached = set()

    @classmethod
    def from_wire(cls, fields):
        if type(fields) is not dict or set(fields) - {"allow_modules", "deny_modules"}:
            raise BridgeError("invalid_argument", f"policy takes allow_modules and deny_modules, got {fields!r}")
        return cls(fields.get("allow_modules", ()), fields.get("deny_modules", ()))

    @classmethod
    def of_server(cls, allow=(), deny=()):
        """A worker server's policy (serve --allow-modules/--deny-modules), under every session's."""
        return cls(allow, deny, whose=_SERVER)

    def to_wire(self):
        """The session's own lists (what a client set), without the server's."""
        return {"allow_modules": list(self.allow), "deny_modules": list(self.deny)}

    @property
    def has_own(self):
        """Whether the session set lists of its own (POL-1: then they cannot change)."""
        return bool(self.allow or self.deny)

    def narrowed(self, allow, deny):
        """This policy with the session's own lists set: the server's part stays, and so does what
        the session reached (an object reached before a client's lists came is module state still)."""
        policy = ModulePolicy(allow, deny, self.server)
        if self.active:
            policy._reached = self._reached
        return policy

    def check_module(self, name):
        """Before any import of ``name``: refuses a module outside the policy."""
        refused = self._judge((name,)) if self.active else None
        if refused is not None:
            raise refused[1]._denied(f"module {name!r}", name)

    def check_object(self, obj):
        """Refuses a module, class or callable whose defining module is outside the policy: what a
        request reaches, whatever name it used. Plain data is judged by nothing."""
        if self.active:
            homes = _homes(obj)
            refused = self._judge(homes) if homes else None
            if refused is not None:
                raise refused[1]._denied(f"{_describe(obj)} (defined in {homes[0]!r})", refused[0])

    def check_instance(self, obj):
        """Before a protocol action (len, item access, with...) runs the special methods of ``obj``'s
        class: that class must be within the policy, unless it is a plain value type."""
        if self.active and type(obj) not in _VALUE_TYPES:
            self.check_object(type(obj))

    def check_class_code(self, obj):
        """Before running code of ``obj``'s class on it without a call the policy judges (an attribute's
        getter in a walk, ``__next__`` in stream_next): that class must be within the policy. A module
        or class is judged by itself (check_object); value types and the interpreter's own types (a
        list's iterator, a generator) run no module's code of their own."""
        cls = type(obj)
        if self.active and cls not in _VALUE_TYPES and cls.__module__ != "builtins" and not isinstance(obj, (ModuleType, type)):
            self.check_object(cls)

    def check_attribute(self, owner, name):
        """Refuses a name (``owner`` None) or an attribute step that leads around any policy: a ``_private`` or ``__dunder__``
        name, an interpreter internal (``gi_frame``, ``f_globals``, ``tb_frame``...), or any
        attribute of a frame, generator, coroutine, traceback or code object. ``__call__`` is how a
        client calls an object it holds a ref to; it is judged as that object."""
        if self.active and ((name.startswith("_") and name != "__call__") or name in _INTERNALS
                            or isinstance(owner, _INTERNAL_TYPES)):
            what = f"name {name!r}" if owner is None else f"attribute {name!r} of {_describe(owner)}"
            raise BridgeError("policy_denied", f"{what} is not reachable under a module policy "
                                               "(private names and interpreter internals lead around it)", module=None)

    def note_reached(self, obj):
        """``obj`` was reached by an attribute step: it is some module's (or object's) state."""
        if self.active and not isinstance(obj, _IMMUTABLE):
            self._reached.add(id(obj))

    def check_mutable(self, owner):
        """Refuses changing a module, a class, a module's namespace or anything reached by an
        attribute step: that would plant code or data behind an allowed name."""
        if self.active and (isinstance(owner, (ModuleType, type)) or id(owner) in self._reached or _is_namespace(owner)):
            raise BridgeError("policy_denied", f"{_describe(owner)} belongs to a module (it was reached by an attribute "
                                               "step, not made by a call) and cannot be changed under a module policy",
                              module=owner.__name__ if isinstance(owner, ModuleType) else getattr(owner, "__module__", None))

    def check_call(self, fn):
        """Before a call: a mutating method of a list, dict, set or bytearray counts as changing it."""
        if not self.active:
            return
        fn = _called(fn)
        if type(fn) is BuiltinFunctionType:
            owner = fn.__self__
            read_only = _READ_ONLY_METHODS.get(type(owner))
            if read_only is not None and fn.__name__ not in read_only:
                self.check_mutable(owner)

    def judges_each_call(self, fn):
        """Whether check_call must judge ``fn`` on every call rather than once (a prepared call,
        PREP-2): a mutating method of a list, dict, set or bytearray, whose owner may become module
        state after it was judged."""
        fn = _called(fn)
        return (self.active and type(fn) is BuiltinFunctionType
                and type(getattr(fn, "__self__", None)) in _READ_ONLY_METHODS)

    def _judge(self, homes):
        """None if objects with these homes may be used, else (the module that refuses them, the
        policy that refuses them): the server's is asked first, so its refusal is the one reported."""
        if self.server is not None:
            refused = self.server._refusal(homes)
            if refused is not None:
                return refused, self.server
        refused = self._refusal(homes)
        return None if refused is None else (refused, self)

    def _refusal(self, homes):
        """By this policy's own lists: None if objects with these homes may be used, else the module
        name that refuses them: a denied one, or (with an allow list that allows none of them) the
        defining one. Each home counts under its own name and its alias, so a deny of ``os`` covers
        ``posix``."""
        names = [form for home in homes for form in _forms(home)]
        for name in names:
            if any(_within(name, root) for root in self.deny):
                return name
        if self.allow and not any(_within(name, root) for name in names for root in self.allow):
            return _forms(homes[0])[-1]
        return None

    def _denied(self, what, module):
        if self.whose == _SERVER:  # say where it is set, and that a client cannot lift it
            return BridgeError("policy_denied", f"{what} is outside the worker server's module policy (serve "
                                                f"--allow-modules {','.join(self.allow) or '(all)'} --deny-modules "
                                                f"{','.join(self.deny) or '(none)'}), which no client can widen",
                               module=module)
        return BridgeError("policy_denied", f"{what} is outside {self.whose} module policy "
                                            f"(allow {list(self.allow) or 'all'}, deny {list(self.deny)})", module=module)


OPEN = ModulePolicy()


def _homes(obj):
    """The module names an object counts as: its defining module, plus ``builtins`` for what the
    builtins module hands out. () for plain data and for a value type's method."""
    if isinstance(obj, ModuleType):
        return (obj.__name__,)
    if isinstance(obj, type):
        return (obj.__module__ or "?",)
    if not callable(obj):
        return ()
    cls = type(obj)
    if cls is MethodType:
        return _homes(obj.__func__)
    if cls is BuiltinFunctionType:  # a C function, or a C method bound to its object
        owner = obj.__self__
        if owner is None or isinstance(owner, ModuleType):
            home = obj.__module__ or (owner.__name__ if owner is not None else "?")
            return (home, "builtins") if id(obj) in _BUILTIN_IDS else (home,)
        if isinstance(owner, type):  # a C classmethod: defined by the class or by its metaclass
            return _method_homes(_defining_class(owner, obj.__name__) or _defining_class(type(owner), obj.__name__)
                                 or owner, obj.__name__)
        return _method_homes(_defining_class(type(owner), obj.__name__) or type(owner), obj.__name__)
    if cls is MethodWrapperType:
        if obj.__name__ == "__call__":
            return _homes(obj.__self__)
        return _method_homes(type(obj.__self__), obj.__name__)
    if cls in (MethodDescriptorType, ClassMethodDescriptorType, WrapperDescriptorType):
        return _method_homes(obj.__objclass__, obj.__name__)
    if cls is FunctionType:
        return (obj.__module__ or "?",)
    # Cython functions, functools.wraps wrappers (lru_cache) and the like name their module, as
    # functions do; any other callable instance (functools.partial...) counts as its class.
    module = getattr(obj, "__module__", None)
    return (module,) if type(module) is str else _homes(cls)


def _called(fn):
    """What calling ``fn`` runs: a ``__call__`` method-wrapper (how a client calls an object it holds
    a ref to, ``update.__call__``) runs its object, however many times it is wrapped. Judging the
    wrapper would let a mutating method of module state through (POL-4)."""
    while type(fn) is MethodWrapperType and fn.__name__ == "__call__":
        fn = fn.__self__
    return fn


def _defining_class(cls, name):
    """The class in ``cls``'s MRO that defines ``name``: an inherited method is judged by it
    (``numpy.str_.format`` is ``str.format``)."""
    for base in getattr(cls, "__mro__", ()):
        if name in base.__dict__:
            return base
    return None


def _is_namespace(obj):
    """A module's globals, the builtins or the module table: changing one plants code."""
    if type(obj) is not dict:
        return False
    return obj is vars(builtins) or obj is sys.modules or any(
        getattr(module, "__dict__", None) is obj for module in list(sys.modules.values()))


_IMMUTABLE = (int, float, complex, bool, str, bytes, tuple, frozenset, type(None))


def _method_homes(owner_type, name):
    if owner_type in _VALUE_TYPES and name not in _ATTRIBUTE_WALKING_METHODS:
        return _HARMLESS
    return _homes(owner_type)


def _forms(name):
    """A module's own name and the name of the module it is a C twin or alias of."""
    alias = _ALIASES.get(name)
    if alias is None:
        head, dot, rest = name.partition(".")
        if head.startswith("_") and head[1:] in _STDLIB:
            alias = head[1:] + dot + rest  # _functools -> functools, _json -> json
    return (name,) if alias is None else (name, alias)


def _describe(obj):
    if isinstance(obj, ModuleType):
        return f"module {obj.__name__!r}"
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    return f"{type(obj).__name__} {name!r}" if type(name) is str else f"a {type(obj).__name__}"


def _within(name, root):
    return name == root or name.startswith(root + ".")


def _is_dotted(name):
    return type(name) is str and bool(name) and all(part.isidentifier() for part in name.split("."))
