"""The module policy (PROTOCOL.md POL-*): every escape a security review found is refused, through a
real worker; and a walk of the attribute graph of allowed modules reaches nothing callable outside
the policy."""
import builtins
import collections
import functools
import importlib
import io
import operator
import os
import subprocess
import sys
import types
import unittest
import warnings

from worker_client import WorkerProcess

from snakebridge_worker.errors import BridgeError
from snakebridge_worker.names import resolve
from snakebridge_worker.policy import OPEN, ModulePolicy

README_EXAMPLE = ["math", "statistics"]


def ref(result):
    return {"__type__": "ref", "__schema__": 1, "id": result["id"], "session_id": result["session_id"]}


def promise(index):
    return {"__type__": "promise", "__schema__": 1, "index": index}


class _PolicySession(unittest.TestCase):
    """A real worker; each test opens a session with a policy and tries escapes."""

    def setUp(self):
        self.worker = WorkerProcess()

    def tearDown(self):
        self.worker.close()

    def session(self, allow=(), deny=()):
        self.worker.ok("open_session", session_id="s", policy={"allow_modules": list(allow), "deny_modules": list(deny)})

    def request(self, op, **fields):
        return self.worker.request(op, session_id="s", **fields)

    def assert_denied(self, op, module=None, **fields):
        error = self.request(op, **fields).get("error")
        self.assertIsNotNone(error, f"{op} {fields} was not refused")
        self.assertEqual(error["code"], "policy_denied", error)
        if module is not None:
            self.assertEqual(error["details"]["module"], module, error)
        return error


class PolicyOverTheWireTest(_PolicySession):
    """Every escape a security review found through the README's example, and what must keep working."""

    def test_allowed_functions_classes_and_value_methods_still_work(self):
        self.session(allow=README_EXAMPLE)
        self.assertEqual(self.request("call", function="statistics.median", args=[[3, 1, 2]])["result"], 2)
        self.assertEqual(self.request("call", function="statistics.sqrt", args=[4.0])["result"], 2.0)  # math.sqrt
        dist = self.request("call", function="statistics.NormalDist", args=[0, 1], want="ref")["result"]
        self.assertEqual(self.request("call_method", object=ref(dist), method="cdf", args=[0])["result"], 0.5)
        text = self.request("call", function="statistics.median", args=[["b", "a", "c"]], want="ref")["result"]
        self.assertEqual(self.request("call_method", object=ref(text), method="upper")["result"], "B")

    def test_a_zoned_datetime_argument_imports_zoneinfo_only_where_the_policy_allows_it(self):
        zoned = {"__type__": "datetime", "__schema__": 1, "value": "2024-01-01T00:00:00+01:00", "zone": "Europe/Paris"}
        self.session(allow=README_EXAMPLE)
        self.assert_denied("call", "zoneinfo", function="statistics.median", args=[[zoned]])
        self.worker.ok("release_session", session_id="s")
        self.worker.ok("open_session", session_id="t", policy={"allow_modules": ["zoneinfo", "statistics"],
                                                               "deny_modules": []})
        result = self.worker.request("call", session_id="t", function="statistics.median", args=[[zoned]])
        self.assertEqual(result["result"], zoned)

    def test_names_an_allowed_module_reexports_are_judged_by_the_module_that_defines_them(self):
        self.session(allow=README_EXAMPLE)
        self.assert_denied("call", "functools", function="statistics.reduce", args=[])
        self.assert_denied("get_attr", "functools", name="statistics.reduce")
        self.assert_denied("call", "operator", function="statistics.mul", args=[2, 3])
        self.assert_denied("call", "collections", function="statistics.Counter", args=[])
        self.assert_denied("call", "itertools", function="statistics.repeat", args=[1])

    def test_private_names_are_unreachable(self):
        self.session(allow=README_EXAMPLE)
        self.assert_denied("call", function="statistics._fail_neg", args=[[1]])
        self.assert_denied("call", function="_statistics._normal_dist_inv_cdf", args=[0.5, 0, 1])
        self.assert_denied("get_attr", name="statistics.NormalDist._mu")

    def test_a_generator_cannot_be_walked_to_its_frame_and_the_builtins(self):
        self.session(allow=README_EXAMPLE + ["ast"])
        node = self.request("call", function="ast.parse", args=["1"], want="ref")["result"]
        walk = self.request("call", function="ast.walk", args=[ref(node)], want="ref")["result"]
        self.assertEqual(walk["__type__"], "stream_ref")
        for path in ("gi_frame", "gi_frame.f_builtins", "gi_code", "gi_yieldfrom"):
            self.assert_denied("get_attr", object=ref(walk), name=path)

    def test_the_same_walk_inside_one_batch_is_refused(self):
        self.session(allow=README_EXAMPLE + ["ast"])
        result = self.request("batch", calls=[
            {"op": "call", "function": "ast.parse", "args": ["1"], "want": "none"},
            {"op": "call", "function": "ast.walk", "args": [promise(0)], "want": "none"},
            {"op": "get_attr", "object": promise(1), "name": "gi_frame", "want": "none"},
            {"op": "call_method", "object": promise(2), "method": "f_builtins.get", "args": ["eval"]},
            {"op": "call", "function": "statistics.reduce", "args": []}])["result"]
        self.assertEqual(result["errors"]["2"]["code"], "policy_denied")
        self.assertEqual(result["errors"]["3"]["code"], "dependency_failed")
        self.assertEqual(result["errors"]["4"]["code"], "policy_denied")

    def test_modules_and_classes_cannot_be_changed(self):
        self.session(allow=README_EXAMPLE)
        self.assert_denied("set_attr", "statistics", name="statistics.median", value=1)
        self.assert_denied("set_attr", "statistics", name="statistics.NormalDist.cdf", value=1)
        module = self.request("get_attr", name="statistics", want="ref")["result"]
        self.assert_denied("set_attr", "statistics", object=ref(module), name="mean", value=1)
        self.assertEqual(self.request("call", function="statistics.median", args=[[1, 2, 3]])["result"], 2)

    def test_a_result_outside_the_policy_cannot_become_a_ref_or_a_promise(self):
        self.session(allow=README_EXAMPLE + ["operator"])
        module = self.request("get_attr", name="statistics", want="ref")["result"]
        getter = self.request("call", function="operator.attrgetter", args=["reduce"], want="ref")["result"]
        self.assert_denied("call_method", "functools", object=ref(getter), method="__call__", args=[ref(module)])
        result = self.request("batch", calls=[
            {"op": "call", "function": "operator.attrgetter", "args": ["reduce"], "want": "none"},
            {"op": "get_attr", "name": "statistics", "want": "none"},
            {"op": "call_method", "object": promise(0), "method": "__call__", "args": [promise(1)], "want": "none"},
        ])["result"]
        self.assertEqual(result["errors"]["2"]["code"], "policy_denied")

    def test_a_module_namespace_cannot_be_changed_even_when_a_call_hands_it_out(self):
        self.session(allow=README_EXAMPLE + ["operator"])
        getter = self.request("call", function="operator.attrgetter", args=["__globals__"], want="ref")["result"]
        median = self.request("get_attr", name="statistics.median", want="ref")["result"]
        # operator walks dunders itself: allowing it hands that power out (README), but the namespace
        # it returns still cannot be changed, so nothing is planted behind statistics.median.
        namespace = self.request("call_method", object=ref(getter), method="__call__", args=[ref(median)], want="ref")
        self.assertIn("result", namespace, namespace)
        self.assert_denied("apply", object=ref(namespace["result"]), action="setitem", args=["sorted", 1])
        self.assert_denied("call_method", object=ref(namespace["result"]), method="update", args=[{"sorted": 1}])
        self.assertEqual(self.request("call", function="statistics.median", args=[[3, 1, 2]])["result"], 2)

    def test_a_mutating_method_of_module_state_cannot_be_called_through_its_dunder_call(self):
        self.session(allow=["json"])
        update = self.request("get_attr", name="json.decoder.BACKSLASH.update", want="ref")["result"]
        self.assert_denied("call_method", object=ref(update), method="__call__", args=[{"planted": "x"}])
        self.assert_denied("call_method", object=ref(update), method="__call__.__call__", args=[{"planted": "x"}])
        self.assert_denied("call", function="json.decoder.BACKSLASH.update.__call__", args=[{"planted": "x"}])
        self.assert_denied("prepare", function="json.decoder.BACKSLASH.update.__call__")
        self.assertIsNone(self.request("call", function="json.decoder.BACKSLASH.get", args=["planted"])["result"])

    def test_a_list_result_can_be_iterated_without_allowing_builtins(self):
        self.session(allow=README_EXAMPLE)
        values = self.request("call", function="statistics.quantiles", args=[[1, 2, 3, 4, 5]], want="ref")["result"]
        iterator = self.request("apply", object=ref(values), action="iter")["result"]
        self.assertEqual(iterator["__type__"], "stream_ref")
        batch = self.request("stream_next", object=ref(iterator), max_items=10)["result"]
        self.assertEqual(batch["items"], [1.5, 3.0, 4.5])

    def test_the_getters_and_next_of_an_instance_whose_class_is_outside_the_policy_do_not_run(self):
        # Found by review: apply judged the class of its target, attribute walks and stream_next did
        # not, so a getter or __next__ of a class outside the allow list ran on an instance an
        # allowed call handed out (tempfile.TemporaryFile() is an _io.BufferedRandom).
        self.session(allow=["tempfile"])
        handle = self.request("call", function="tempfile.TemporaryFile", want="ref")["result"]
        self.assert_denied("get_attr", object=ref(handle), name="raw")
        self.assert_denied("stream_next", object=ref(handle), max_items=1)
        self.assert_denied("apply", object=ref(handle), action="iter")

    def test_a_sessions_policy_cannot_be_relaxed_by_opening_it_again(self):
        self.session(allow=README_EXAMPLE)
        error = self.request("open_session", limits={}, policy={"allow_modules": [], "deny_modules": []})["error"]
        self.assertEqual(error["code"], "invalid_argument")
        self.assert_denied("call", "builtins", function="eval", args=["1"])

    def test_a_deny_list_covers_c_twins_and_what_the_builtins_hand_out(self):
        self.session(deny=["os", "subprocess", "builtins"])
        self.assert_denied("call", "posix", function="posix.getcwd", args=[])
        self.assert_denied("call", "os", function="shutil.os.getcwd", args=[])
        self.assert_denied("call", "os", function="os.getcwd", args=[])
        self.assert_denied("call", "builtins", function="io.open", args=["/dev/null"])
        self.assert_denied("get_attr", name="_posixsubprocess.fork_exec")
        self.assert_denied("get_attr", "subprocess", name="asyncio.create_subprocess_shell")
        self.assert_denied("call", "builtins", function="eval", args=["1"])
        self.assertEqual(self.request("call", function="math.floor", args=[2.5])["result"], 2)


class PolicyOverTheWireWithNumpyTest(_PolicySession):
    """Escapes and false refusals found by an attacker's review of a numpy/scipy allow list."""

    @classmethod
    def setUpClass(cls):
        try:
            import numpy  # noqa: F401
            import scipy  # noqa: F401
        except ImportError:
            raise unittest.SkipTest("numpy and scipy are not installed (the worker itself needs neither)")

    def test_an_inherited_c_method_is_judged_by_the_class_that_defines_it(self):
        self.session(allow=["numpy"])
        text = self.request("call", function="numpy.str_", args=["{0.__globals__}"], want="ref")["result"]
        load = self.request("get_attr", name="numpy.load", want="ref")["result"]
        self.assert_denied("call_method", "builtins", object=ref(text), method="format", args=[ref(load)])  # str.format
        self.assertEqual(self.request("call_method", object=ref(text), method="upper")["result"], "{0.__GLOBALS__}")
        pointer = self.request("call", function="numpy.ctypeslib.ndpointer", want="ref")["result"]
        self.assert_denied("call_method", "ctypes", object=ref(pointer), method="from_address", args=[4096])

    def test_module_level_instances_and_dicts_cannot_be_changed(self):
        self.session(allow=["numpy", "scipy"])
        self.assert_denied("set_attr", name="scipy.stats.norm.pdf", value=None)
        norm = self.request("get_attr", name="scipy.stats.norm", want="ref")["result"]
        self.assert_denied("set_attr", object=ref(norm), name="pdf", value=None)
        types_table = self.request("get_attr", name="numpy.sctypeDict", want="ref")["result"]
        self.assert_denied("apply", object=ref(types_table), action="setitem", args=["float64", 1])
        self.assert_denied("call_method", object=ref(types_table), method="update", args=[{"float64": 1}])
        self.assert_denied("call", function="numpy.sctypeDict.clear", args=[])
        self.assertTrue(self.request("call_method", object=ref(types_table), method="get", args=["float64"])["result"])
        made = self.request("call", function="numpy.array", args=[[1, 2]], want="ref")["result"]
        self.assertIsNone(self.request("apply", object=ref(made), action="setitem", args=[0, 5])["result"])

    def test_cython_functions_and_lru_cached_wrappers_are_judged_by_their_module(self):
        self.session(allow=["numpy", "scipy"])
        rng = self.request("call", function="numpy.random.default_rng", args=[7], want="ref")["result"]
        self.assertIsInstance(self.request("call_method", object=ref(rng), method="normal")["result"], float)
        import scipy.fft
        self.assertEqual(self.request("call", function="scipy.fft.next_fast_len", args=[1009])["result"],
                         scipy.fft.next_fast_len(1009))


class AttributeGraphTest(unittest.TestCase):
    """Walks every name reachable from the allowed modules, as a request would (resolve with the
    policy), and checks what it reached against an independent list of dangerous callables."""

    # What would run arbitrary code, files or processes, or walk around a policy; each is outside
    # the allow lists walked here.
    DANGEROUS = [builtins.eval, builtins.exec, builtins.compile, builtins.open, builtins.__import__, builtins.getattr,
                 builtins.setattr, builtins.vars, builtins.globals, builtins.breakpoint, os.system, os.popen,
                 os.execv, os.fork, subprocess.Popen, subprocess.run, importlib.import_module, functools.reduce,
                 operator.attrgetter, operator.methodcaller, types.FunctionType, io.open, sys._getframe,
                 collections.Counter]

    def walk(self, roots, policy, max_depth=3, max_visits=60_000):
        """Everything callable reachable from ``roots`` by attribute steps the policy lets through."""
        seen, reached, frontier = set(), [], [(None, root) for root in roots]
        with warnings.catch_warnings():  # deprecated aliases warn when walked
            warnings.simplefilter("ignore")
            return self._walk(seen, reached, frontier, policy, max_depth, max_visits)

    def _walk(self, seen, reached, frontier, policy, max_depth, max_visits):
        for _ in range(max_depth + 1):
            next_frontier = []
            for owner, name in frontier:
                if len(seen) >= max_visits:
                    break
                try:
                    obj = resolve(owner, name, policy)
                except BridgeError as exc:
                    self.assertEqual(exc.code, "policy_denied")
                    continue
                except Exception:  # noqa: BLE001 - a property that fails is just not reached
                    continue
                if id(obj) in seen:
                    continue
                seen.add(id(obj))
                if callable(obj):
                    reached.append((f"{getattr(owner, '__name__', owner)}.{name}", obj))
                if not isinstance(obj, (int, float, str, bytes)):
                    try:
                        names = dir(obj)
                    except Exception:  # noqa: BLE001
                        continue
                    next_frontier.extend((obj, n) for n in names)
            frontier = next_frontier
        return reached

    def assert_nothing_dangerous(self, allow):
        reached = self.walk(allow, ModulePolicy(allow))
        dangerous = {id(fn) for fn in self.DANGEROUS}
        escapes = [path for path, obj in reached if id(obj) in dangerous]
        self.assertEqual(escapes, [])
        for path, obj in reached:
            home = _independent_home(obj)
            self.assertTrue(home is None or any(home == r or home.startswith(r + ".") for r in allow + _TWINS),
                            f"{path} is {obj!r} from {home}")
        return reached

    def test_the_readme_example_reaches_nothing_outside_math_and_statistics(self):
        reached = self.assert_nothing_dangerous(README_EXAMPLE)
        self.assertGreater(len(reached), 60)  # the walk did reach the modules' functions and classes

    def test_a_numpy_and_scipy_allow_list_reaches_nothing_outside_them(self):
        try:
            import numpy  # noqa: F401
            import scipy.optimize  # noqa: F401
        except ImportError:
            self.skipTest("numpy and scipy are not installed (the worker itself needs neither)")
        reached = self.assert_nothing_dangerous(["numpy", "scipy"])
        self.assertGreater(len(reached), 1000)

    def test_without_a_policy_the_same_walk_does_reach_dangerous_callables(self):
        # The oracle has teeth: an open session reaches functools.reduce through statistics.
        reached = self.walk(README_EXAMPLE, OPEN, max_depth=1)
        self.assertIn(id(functools.reduce), {id(obj) for _, obj in reached})


# C modules counted as the module they serve (the worker's own alias list is not used here).
_TWINS = ["_statistics", "_bisect"]


def _independent_home(obj):
    """Where ``obj`` comes from, by the plainest reading of its attributes; None for a method of a
    plain value (list.append) or anything with no module."""
    if getattr(obj, "__name__", None) == "__call__" and getattr(obj, "__self__", None) is not None:
        return _independent_home(obj.__self__)  # calling a thing is that thing
    owner = getattr(obj, "__objclass__", None) or getattr(obj, "__self__", None)
    if isinstance(owner, type) and owner.__module__ == "builtins":
        return None
    if owner is not None and not isinstance(owner, (type, types.ModuleType)):
        if type(owner).__module__ == "builtins":
            return None
        return type(owner).__module__
    if isinstance(owner, type):
        return owner.__module__
    module = getattr(obj, "__module__", None)
    if not isinstance(module, str):
        module = type(obj).__module__
    return module


if __name__ == "__main__":
    unittest.main()
