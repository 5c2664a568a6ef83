"""Dotted names to objects: how a request's ``function``, ``method`` or ``name`` finds what it means,
within the session's module policy (policy.py)."""
import builtins
import importlib
import sys
from types import ModuleType

_BUILTINS = builtins.__dict__


def resolve(owner, dotted, policy):
    """Resolves ``dotted`` on ``owner``, or as a global name when there is no owner, within the
    session's module ``policy`` (checked before any import, and on every step).

    A global name starts with a builtin (``len``) or a module, and walks attributes from there,
    importing submodules on the way (``xml.etree.ElementTree.fromstring``), so dotted names such
    as ``os.path.join`` and ``collections.OrderedDict.fromkeys`` resolve."""
    checked = policy.active  # the checks are skipped, not just passed, on the common open path
    parts = dotted.split(".")
    if owner is None:
        head, parts = parts[0], parts[1:]
        if checked:
            policy.check_attribute(None, head)
        if head in _BUILTINS:
            if checked:
                policy.check_module("builtins")
            owner = _BUILTINS[head]
        else:  # sys.modules first: import_module costs microseconds even for a loaded module
            if checked:
                policy.check_module(head)
            owner = sys.modules.get(head)
            if owner is None:
                owner = importlib.import_module(head)
    elif checked:
        policy.check_object(owner)
    for part in parts:
        if checked:
            policy.check_attribute(owner, part)
            policy.check_class_code(owner)  # getattr runs the class's getters
        try:
            owner = getattr(owner, part)
        except AttributeError:
            if not isinstance(owner, ModuleType):
                raise
            if checked:
                policy.check_module(f"{owner.__name__}.{part}")
            owner = _submodule(owner, part)
        if checked:
            policy.check_object(owner)
            policy.note_reached(owner)
    return owner


def _submodule(module, part):
    path = f"{module.__name__}.{part}"
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError as exc:
        if exc.name != path:
            raise  # the submodule exists but something it imports does not
        raise AttributeError(f"module {module.__name__!r} has no attribute {part!r}") from None
