"""The batch op: many calls in one round trip, promises between them, a result or error per call."""
import unittest

from worker_client import WorkerProcess, sigint_once_running


def promise(index):
    return {"__type__": "promise", "__schema__": 1, "index": index}


class BatchTest(unittest.TestCase):
    def setUp(self):
        self.worker = WorkerProcess(attachments=True)

    def tearDown(self):
        self.worker.close()

    def batch(self, *calls):
        return self.worker.ok("batch", session_id="s", calls=list(calls))

    def live_refs(self):
        return self.worker.ok("session_info", session_id="s")["live_refs"]

    def test_later_calls_use_earlier_results_through_promises_in_one_round_trip(self):
        results = self.batch(
            {"op": "call", "function": "re.compile", "args": ["a+b"], "want": "none"},
            {"op": "call_method", "object": promise(0), "method": "fullmatch", "args": ["aab"], "want": "none"},
            {"op": "call_method", "object": promise(1), "method": "group"},
            {"op": "get_attr", "object": promise(0), "name": "pattern"})
        self.assertEqual(results, {"values": [None, None, "aab", "a+b"], "errors": {}})
        self.assertEqual(self.live_refs(), 0)  # intermediates with want "none" never became refs

    def test_each_call_gets_its_own_error_and_dependents_fail_with_dependency_failed(self):
        results = self.batch(
            {"op": "call", "function": "int", "args": ["x"]},
            {"op": "call", "function": "len", "args": [[1, 2]]},
            {"op": "call", "function": "abs", "args": [promise(0)]},
            {"op": "call", "function": "abs", "args": [promise(9)]},
            {"op": "release_ref", "ids": []},
            {"op": "call", "function": "str.upper", "args": ["still runs"]})
        values, errors = results["values"], results["errors"]
        self.assertEqual(sorted(errors), ["0", "2", "3", "4"])
        self.assertEqual(errors["0"]["type"], "ValueError")
        self.assertEqual(values[1], 2)
        self.assertEqual(errors["2"]["code"], "dependency_failed")
        self.assertEqual(errors["2"]["details"], {"index": 0})
        self.assertEqual(errors["3"]["code"], "invalid_value")
        self.assertEqual(errors["4"]["code"], "protocol")
        self.assertEqual(values[5], "STILL RUNS")
        self.assertEqual([values[i] for i in (0, 2, 3, 4)], [None] * 4)

    def test_a_promise_outside_a_batch_is_invalid_value(self):
        error = self.worker.request("call", session_id="s", function="abs", args=[promise(0)])["error"]
        self.assertEqual(error["code"], "invalid_value")

    def test_results_of_several_calls_share_the_responses_attachments(self):
        results = self.batch({"op": "call", "function": "bytes", "args": [5000]},
                             {"op": "call", "function": "bytes", "args": [7000]})
        self.assertEqual([v["attachment"] for v in results["values"]], [0, 1])
        self.assertEqual([len(a) for a in self.worker.attachments], [5000, 7000])

    def test_refs_made_by_a_batch_are_refs_of_the_session(self):
        results = self.batch({"op": "call", "function": "object", "want": "ref"},
                             {"op": "call", "function": "object", "want": "ref"})
        self.assertEqual(self.live_refs(), 2)
        self.assertNotEqual(results["values"][0]["id"], results["values"][1]["id"])

    def test_a_cancel_ends_the_whole_batch_and_drops_the_refs_it_made(self):
        sleeps_until_interrupted = sigint_once_running(self.worker)
        response = self.worker.request("batch", session_id="s", calls=[
            {"op": "call", "function": "object", "want": "ref"},
            {"op": "call", "function": "exec", "args": [sleeps_until_interrupted]}])
        self.assertEqual(response["error"]["code"], "cancelled")
        self.assertEqual(self.live_refs(), 0)

    def test_malformed_calls_are_a_protocol_error(self):
        self.assertEqual(self.worker.request("batch", session_id="s", calls="nope")["error"]["code"], "protocol")
        self.assertEqual(self.worker.request("batch", session_id="s", calls=[1])["error"]["code"], "protocol")


if __name__ == "__main__":
    unittest.main()
