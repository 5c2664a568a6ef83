"""A session's module policy (PROTOCOL.md POL-1): which modules its requests may reach by name.

It confines the names a request resolves and the attributes it walks, so an application that builds
call names from user input can stay within a few modules. It is not a sandbox: an allowed function
can do whatever Python can."""
from types import ModuleType

from .errors import BridgeError


class ModulePolicy:
    __slots__ = ("allow", "deny", "active")

    def __init__(self, allow=(), deny=()):
        for names, field in ((allow, "allow_modules"), (deny, "deny_modules")):
            if type(names) not in (list, tuple) or not all(_is_dotted(n) for n in names):
                raise BridgeError("invalid_argument", f"{field} must be a list of dotted module names, got {names!r}")
        self.allow = tuple(allow)
        self.deny = tuple(deny)
        self.active = bool(self.allow or self.deny)

    @classmethod
    def from_wire(cls, fields):
        if type(fields) is not dict or set(fields) - {"allow_modules", "deny_modules"}:
            raise BridgeError("invalid_argument", f"policy takes allow_modules and deny_modules, got {fields!r}")
        return cls(fields.get("allow_modules", ()), fields.get("deny_modules", ()))

    def to_wire(self):
        return {"allow_modules": list(self.allow), "deny_modules": list(self.deny)}

    def check_module(self, name):
        """Before any import of ``name``: refuses a module outside the policy."""
        if self.active and not self._permits(name):
            raise BridgeError("policy_denied", f"module {name!r} is outside this session's module policy "
                                               f"(allow {list(self.allow) or 'all'}, deny {list(self.deny)})", module=name)

    def check_object(self, obj):
        """A module reached by attribute (``shutil.os``) or held by a ref counts as its own name."""
        if self.active and isinstance(obj, ModuleType):
            self.check_module(obj.__name__)

    def check_attribute(self, name):
        """Dunder attributes (``__globals__``, ``__builtins__``, ``__subclasses__``...) lead around any
        module policy, so a session with one may not walk them."""
        if self.active and name.startswith("__"):
            raise BridgeError("policy_denied", f"attribute {name!r} is not reachable under a module policy", module=None)

    def _permits(self, name):
        if any(_within(name, root) for root in self.deny):
            return False
        return not self.allow or any(_within(name, root) for root in self.allow)


OPEN = ModulePolicy()


def _within(name, root):
    return name == root or name.startswith(root + ".")


def _is_dotted(name):
    return type(name) is str and bool(name) and all(part.isidentifier() for part in name.split("."))
