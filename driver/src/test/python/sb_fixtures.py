"""Helpers the driver's integration tests call in a real worker."""
import datetime


def echo(value):
    return value


def type_name(value):
    return type(value).__name__


def describe(value):
    """Python's own view of a value: type names all the way down, to prove what Python received."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return [type(value).__name__, sorted((describe(v) for v in value), key=repr)]
    if isinstance(value, dict):
        return ["dict", sorted(([describe(k), describe(v)] for k, v in value.items()), key=repr)]
    if isinstance(value, (datetime.datetime, datetime.time)):
        return [type(value).__name__, value.tzinfo is not None]
    return type(value).__name__


def noisy(text):
    print(text)
    return len(text)


class Counter:
    def __init__(self, start=0):
        self.count = start

    def add(self, n=1):
        self.count += n
        return self.count


def read_count(counter):
    return counter.count


def fail_with_cause():
    try:
        {}["missing"]
    except KeyError as exc:
        raise ValueError("lookup failed") from exc


def make_pair_with_objects():
    obj = Counter(7)
    return {"name": "pair", "items": [obj, obj, Counter(8)], "n": 2}


def busy_forever():
    while True:
        pass


def mark_then_sleep(path, seconds):
    """Makes the file ``path`` (the test's sign that user code runs), then sleeps."""
    import time
    open(path, "w").close()
    time.sleep(seconds)


def block_sigint_and_sleep(seconds):
    import signal
    import time
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    time.sleep(seconds)


def crash_with_segfault():
    import ctypes
    return ctypes.string_at(0)


def apply(f, *args):
    return f(*args)


def call_and_catch(f):
    try:
        return f()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


_kept = []


def keep(f):
    _kept.append(f)


def call_kept():
    return _kept.pop()()


def call_many(f, n):
    total = 0
    for i in range(n):
        total += f(i)
    return total


def nested_then_busy(f):
    f(1)  # a Java callback that calls back into Python
    busy_forever()


generator_finished = []


def counting(n):
    try:
        for i in range(n):
            yield i
    finally:
        generator_finished.append(n)


def failing_after(n):
    yield from range(n)
    raise ValueError(f"broke after {n}")


class Recorder:
    """A context manager that records how it was entered and left; ``suppress`` is what __exit__ returns."""

    def __init__(self, suppress=False):
        self.suppress = suppress
        self.events = []

    def __enter__(self):
        self.events.append("enter")
        return "entered"

    def __exit__(self, exc_type, exc, tb):
        self.events.append("exit" if exc is None else f"exit {exc_type.__name__}: {exc}")
        return self.suppress


def strided_big_endian():
    """A 4x3 int32 view, big-endian and not contiguous: the worker must send it in C order, little-endian."""
    import numpy
    return numpy.arange(24, dtype=">i4").reshape(4, 6)[:, ::2]


def complex_array():
    import numpy
    return numpy.array([1j, 2j])


def stack_depth():
    """How many Python frames are below this call: a call left waiting for a reply leaves its frames behind."""
    import inspect

    return len(inspect.stack(0))


def greet(name):
    return "hello " + name


def rebind_greet():
    """Points the global ``greet`` elsewhere: a prepared call of it keeps calling what it resolved."""
    global greet
    greet = str.upper


import enum


class Flavor(str, enum.Enum):
    """A str enum as libraries write them (pydantic, FastAPI): its str() is 'Flavor.SWEET', its contents 'sweet'."""
    SWEET = "sweet"


class Shouting(str):
    """A str subclass whose display text differs from its contents."""

    def __str__(self):
        return self.upper() + "!"


class Rounded(int):
    def __int__(self):
        return 0

    def __index__(self):
        return 0

    def __repr__(self):
        return "Rounded(?)"


class Kelvin(float):
    def __float__(self):
        return 0.0

    def __repr__(self):
        return "Kelvin(?)"


class Color(enum.Enum):
    RED = 1


def subclassed_values():
    return {"flavor": Flavor.SWEET, "shouting": Shouting("abc"), "rounded": Rounded(7), "kelvin": Kelvin(2.5),
            "status": enum.IntEnum("Status", {"OK": 200}).OK, "color": Color.RED}


def recurse_forever(n=0):
    return recurse_forever(n + 1)


class QuotaExceeded(Exception):
    """A user exception with fields of its own."""

    def __init__(self, limit, used):
        super().__init__(f"quota {limit} exceeded: {used} used")
        self.limit = limit
        self.used = used
        self.owner = object()  # not plain: not carried


def raise_quota():
    raise QuotaExceeded(10, 12.5)


def raise_group():
    raise ExceptionGroup("two failed", [ValueError("bad value"), QuotaExceeded(1, 2)])


_listeners = []


def subscribe(listener):
    """Keeps a listener to call during later calls (an event hook)."""
    _listeners.append(listener)


def publish(event):
    """Calls every kept listener; a failing one's error is returned as text, so the others still run."""
    results = []
    for listener in list(_listeners):
        try:
            results.append(listener(event))
        except Exception as exc:
            results.append(f"{type(exc).__name__}: {exc}")
    return results


def unsubscribe_all():
    _listeners.clear()
