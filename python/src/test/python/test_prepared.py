"""Prepared calls (PROTOCOL.md PREP-*): resolve and judge once, then send parameters only."""
import base64
import math
import random
import struct
import unittest

from worker_client import WorkerProcess, sigint_once_running


def ndarray(dtype, fmt, values):
    data = struct.pack("<%d%s" % (len(values), fmt), *values)
    return {"__type__": "ndarray", "__schema__": 1, "dtype": dtype, "shape": [len(values)],
            "data": base64.b64encode(data).decode("ascii")}


class PreparedTest(unittest.TestCase):
    def setUp(self):
        self.worker = WorkerProcess()

    def tearDown(self):
        self.worker.close()

    def prepare(self, function, session="s", **fields):
        return self.worker.ok("prepare", session_id=session, function=function, **fields)["id"]

    def test_a_prepared_call_is_called_with_parameters_only(self):
        sqrt = self.prepare("math.sqrt")
        self.assertEqual(self.worker.ok("call_prepared", session_id="s", prepared=sqrt, args=[16.0]), 4.0)
        self.assertEqual(self.worker.ok("call_prepared", session_id="s", prepared=sqrt, args=[2]), 2 ** 0.5)
        error = self.worker.request("call_prepared", session_id="s", prepared=sqrt, args=[-1.0])["error"]
        self.assertEqual((error["code"], error["type"]), ("python_exception", "ValueError"))

    def test_a_prepared_call_is_a_ref_of_its_session_released_and_reset_like_one(self):
        sqrt = self.prepare("math.sqrt")
        self.assertEqual(self.worker.ok("session_info", session_id="s")["live_refs"], 1)
        self.assertEqual(self.worker.request("call_prepared", session_id="t", prepared=sqrt, args=[1.0])["error"]["code"],
                         "session_mismatch")
        self.assertEqual(self.worker.ok("release_ref", session_id="s", ids=[sqrt]), [True])
        error = self.worker.request("call_prepared", session_id="s", prepared=sqrt, args=[1.0])["error"]
        self.assertEqual((error["code"], error["details"]["reason"]), ("ref_not_found", "released"))
        again = self.prepare("math.sqrt")
        self.worker.ok("reset_session", session_id="s", new_session_id="s2")
        error = self.worker.request("call_prepared", session_id="s2", prepared=again, args=[1.0])["error"]
        self.assertEqual(error["code"], "session_mismatch")  # the id was the old session's
        error = self.worker.request("call_prepared", session_id="s", prepared=again, args=[1.0])["error"]
        self.assertEqual((error["code"], error["details"]["reason"]), ("ref_not_found", "session_released"))

    def test_a_method_of_a_ref_can_be_prepared(self):
        rx = self.worker.ok("call", session_id="s", function="re.compile", args=["a+b"], want="ref")
        fullmatch = self.prepare("fullmatch", object=rx)
        rows = self.worker.ok("execute_prepared", session_id="s", prepared=fullmatch, columns=[["ab", "x"]], want="none")
        self.assertEqual(rows, {"values": None, "errors": {}})
        group = self.prepare("pattern.upper", object=rx)
        self.assertEqual(self.worker.ok("call_prepared", session_id="s", prepared=group), "A+B")

    def test_a_prepared_calls_ref_is_not_an_object(self):
        sqrt = self.prepare("math.sqrt")
        ref = {"__type__": "ref", "__schema__": 1, "id": sqrt, "session_id": "s"}
        self.assertEqual(self.worker.request("call", session_id="s", function="id", args=[ref])["error"]["code"],
                         "invalid_argument")
        self.assertEqual(self.worker.request("get_attr", session_id="s", object=ref, name="fn")["error"]["code"],
                         "invalid_argument")
        rx = self.worker.ok("call", session_id="s", function="re.compile", args=["a"], want="ref")
        self.assertEqual(self.worker.request("call_prepared", session_id="s", prepared=rx["id"])["error"]["code"],
                         "invalid_argument")

    def test_what_cannot_be_called_cannot_be_prepared(self):
        self.assertEqual(self.worker.request("prepare", session_id="s", function="math.pi")["error"]["code"],
                         "invalid_argument")
        self.assertEqual(self.worker.request("prepare", session_id="s", function="math.nope")["error"]["type"],
                         "AttributeError")
        self.assertEqual(self.worker.ok("session_info", session_id="s")["live_refs"], 0)

    def test_the_policy_judges_at_prepare_and_a_denied_name_makes_nothing(self):
        self.worker.ok("open_session", session_id="p", limits={}, policy={"allow_modules": ["math"]})
        self.assertEqual(self.worker.request("prepare", session_id="p", function="os.getcwd")["error"]["code"],
                         "policy_denied")
        self.assertEqual(self.worker.request("prepare", session_id="p", function="math._private")["error"]["code"],
                         "policy_denied")
        sqrt = self.prepare("math.sqrt", session="p")
        self.assertEqual(self.worker.ok("call_prepared", session_id="p", prepared=sqrt, args=[4]), 2.0)
        self.assertEqual(self.worker.ok("session_info", session_id="p")["live_refs"], 1)

    def test_under_a_policy_a_mutating_method_of_module_state_cannot_be_prepared(self):
        self.worker.ok("open_session", session_id="p", limits={}, policy={"allow_modules": ["keyword", "builtins"]})
        self.assertEqual(self.worker.request("prepare", session_id="p", function="keyword.kwlist.append")["error"]
                         ["code"], "policy_denied")
        own = self.worker.ok("call", session_id="p", function="list", want="ref")
        append = self.prepare("append", session="p", object=own)
        self.assertEqual(self.worker.ok("execute_prepared", session_id="p", prepared=append, rows=[[1], [2]])["errors"], {})

    def test_rows_and_columns_each_get_a_result_or_their_own_error(self):
        sqrt = self.prepare("math.sqrt")
        by_rows = self.worker.ok("execute_prepared", session_id="s", prepared=sqrt, rows=[[4.0], [-1.0], [9]])
        self.assertEqual(by_rows["values"], [2.0, None, 3.0])
        self.assertEqual(list(by_rows["errors"]), ["1"])
        self.assertEqual(by_rows["errors"]["1"]["type"], "ValueError")
        by_columns = self.worker.ok("execute_prepared", session_id="s", prepared=sqrt,
                                    columns=[ndarray("float64", "d", [4.0, -1.0, 9.0])])
        self.assertEqual(by_columns, by_rows)
        power = self.prepare("math.pow")
        self.assertEqual(self.worker.ok("execute_prepared", session_id="s", prepared=power,
                                        columns=[[2, 3], ndarray("int64", "q", [10, 2])])["values"], [1024.0, 9.0])

    def test_results_come_back_as_one_array_of_the_dtype_asked_for(self):
        sqrt = self.prepare("math.sqrt")
        rows = self.worker.ok("execute_prepared", session_id="s", prepared=sqrt, columns=[[4.0, -1.0, 9.0]],
                              want="array", dtype="float64")
        values = rows["values"]
        self.assertEqual((values["dtype"], values["shape"]), ("float64", [3]))
        self.assertEqual(struct.unpack("<3d", base64.b64decode(values["data"])), (2.0, 0.0, 3.0))
        self.assertEqual(list(rows["errors"]), ["1"])
        floor = self.prepare("math.floor")
        longs = self.worker.ok("execute_prepared", session_id="s", prepared=floor, columns=[[1.5, 2.5]],
                               want="array", dtype="int64")["values"]
        self.assertEqual(struct.unpack("<2q", base64.b64decode(longs["data"])), (1, 2))
        text = self.worker.ok("execute_prepared", session_id="s", prepared=self.prepare("str"), columns=[[1]],
                              want="array", dtype="float64")
        self.assertEqual(text["errors"]["0"]["code"], "invalid_value")  # a str is not a float64: its row fails
        self.assertEqual(self.worker.request("execute_prepared", session_id="s", prepared=sqrt, columns=[[1.0]],
                                             want="array", dtype="complex")["error"]["code"], "invalid_argument")

    def test_malformed_rows_are_a_protocol_error_and_the_worker_keeps_serving(self):
        sqrt = self.prepare("math.sqrt")
        for fields in ({}, {"rows": [[1]], "columns": [[1]]}, {"rows": [1]}, {"rows": "x"}, {"columns": []},
                       {"columns": [3]}):
            self.assertEqual(self.worker.request("execute_prepared", session_id="s", prepared=sqrt, **fields)["error"]["code"],
                             "protocol", fields)
        self.assertEqual(self.worker.request("execute_prepared", session_id="s", prepared=sqrt,
                                             columns=[[1], [1, 2]])["error"]["code"], "invalid_argument")
        for prepared in (None, 7, ""):
            self.assertEqual(self.worker.request("call_prepared", session_id="s", prepared=prepared)["error"]["code"],
                             "protocol")
        self.assertEqual(self.worker.ok("ping"), "pong")

    def test_rows_and_columns_agree_on_seeded_random_batches(self):
        rng = random.Random(18)
        power = self.prepare("math.pow")
        for _ in range(30):
            rows = [[rng.choice((rng.uniform(-3, 3), rng.randint(-3, 3))), rng.randint(-3, 3)]
                    for _ in range(rng.randint(1, 40))]
            by_rows = self.worker.ok("execute_prepared", session_id="s", prepared=power, rows=rows)
            by_columns = self.worker.ok("execute_prepared", session_id="s", prepared=power, columns=[list(c) for c in zip(*rows)])
            self.assertEqual(by_rows, by_columns)
            for index, (x, y) in enumerate(rows):
                try:
                    expected = math.pow(x, y)
                except (ValueError, OverflowError) as exc:
                    self.assertEqual(by_rows["errors"][str(index)]["type"], type(exc).__name__)
                else:
                    self.assertEqual(by_rows["values"][index], expected)

    def test_a_cancel_ends_the_whole_execution_and_keeps_the_session(self):
        exec_ = self.prepare("exec")
        response = self.worker.request("execute_prepared", session_id="s", prepared=exec_,
                                       rows=[["x = 1"], [sigint_once_running(self.worker)], ["y = 2"]])
        self.assertEqual(response["error"]["code"], "cancelled")
        self.assertEqual(self.worker.ok("call_prepared", session_id="s", prepared=exec_, args=["z = 3"]), None)


class PreparedPolicyTest(unittest.TestCase):
    def test_a_prepared_mutating_method_is_judged_again_on_every_call(self):
        from snakebridge_worker.errors import BridgeError
        from snakebridge_worker.policy import ModulePolicy
        from snakebridge_worker.prepared import PreparedCall
        policy, items = ModulePolicy(allow=["builtins"]), []
        prepared = PreparedCall(items.append, policy)
        prepared.call(policy, [1], {})
        policy.note_reached(items)  # the list became module state after it was prepared (POL-4)
        with self.assertRaises(BridgeError) as denied:
            prepared.call(policy, [2], {})
        self.assertEqual((denied.exception.code, items), ("policy_denied", [1]))
        with self.assertRaises(BridgeError):
            prepared.run_rows(policy, [[3]], 1)

    def test_a_row_that_raises_stop_iteration_fails_alone(self):
        from snakebridge_worker.policy import OPEN
        from snakebridge_worker.prepared import PreparedCall
        results, failures = PreparedCall(next, OPEN).run_rows(OPEN, [[iter([1])], [iter([])], [iter([3])]], 3)
        self.assertEqual(results, [1, None, 3])
        self.assertEqual([(index, type(exc)) for index, exc in failures.items()], [(1, StopIteration)])


if __name__ == "__main__":
    unittest.main()
