"""max_response_bytes and max_response_elements (PROTOCOL.md RESP-*): the client's caps on what it
reads. A message past them is never sent: the worker answers invalid_value, drops the refs the result
made, and keeps serving."""
import unittest

from worker_client import WorkerProcess

CALLBACK = {"__type__": "callback", "__schema__": 1, "ref_id": "cb1", "arity": 1}


class ResponseCapsTest(unittest.TestCase):
    def setUp(self):
        self.worker = WorkerProcess(attachments=True, limits={"max_response_bytes": 4096, "max_response_elements": 100})

    def tearDown(self):
        self.worker.close()

    def call(self, expression, **fields):
        return self.worker.request("call", session_id="s", function="eval", args=[expression], **fields)

    def refused(self, expression, setting):
        response = self.call(expression)
        self.assertFalse(response["ok"], response)
        error = response["error"]
        self.assertEqual(error["code"], "invalid_value")
        self.assertEqual(error["details"], {"setting": setting, "limit": self.worker.hello["limits"][setting]})
        self.assertIn(f"{setting}=", error["message"])
        self.assertIn("ref", error["message"])  # says what to do instead
        self.assertEqual(self.worker.attachments, [])  # nothing of the result was sent
        return error

    def live_refs(self):
        return self.worker.ok("session_info", session_id="s")["live_refs"]

    def test_the_worker_adopts_the_caps_and_refuses_them_out_of_range(self):
        self.assertEqual(self.worker.hello["limits"]["max_response_bytes"], 4096)
        self.assertEqual(self.worker.hello["limits"]["max_response_elements"], 100)
        for limits in ({"max_response_bytes": 1023}, {"max_response_elements": 63}, {"max_response_elements": 2 ** 31}):
            fresh = WorkerProcess(handshake=False)
            try:
                response = fresh.request("handshake", protocol_version=1, min_supported_version=1, limits=limits)
                self.assertEqual(response["error"]["code"], "invalid_argument", limits)
            finally:
                fresh.close()

    def test_a_response_past_max_response_bytes_counting_its_attachments_is_refused(self):
        self.refused("[bytes(2000)] * 3", "max_response_bytes")
        self.refused("'x' * 5000", "max_response_bytes")
        self.assertEqual(self.worker.ok("call", session_id="s", function="abs", args=[-1]), 1)

    def test_a_response_within_max_response_bytes_is_sent_with_its_attachments(self):
        result = self.call("[bytes(1500)] * 2")["result"]
        self.assertEqual(len(self.worker.attachments), 2)
        self.assertEqual(result[1]["attachment"], 1)

    def test_a_response_of_exactly_max_response_elements_json_values_is_sent_and_one_more_is_refused(self):
        # {"id": 2, "ok": true, "result": [0, ...]}: the object and its three members' values are four
        self.assertEqual(len(self.call("[0] * 96")["result"]), 96)
        self.refused("[0] * 97", "max_response_elements")

    def test_tagged_values_count_as_the_json_values_they_are_and_a_refused_results_refs_are_dropped(self):
        # a ref is nine values, a date four: a list the encoder's own guard lets through, the count refuses
        self.refused("[object()] + [__import__('datetime').date(2000, 1, 1)] * 25", "max_response_elements")
        self.assertEqual(self.live_refs(), 0)

    def test_a_huge_container_is_refused_before_its_items_are_encoded(self):
        self.worker.ok("open_session", session_id="s", limits={"max_refs": 10})
        self.refused("[object() for _ in range(1000)]", "max_response_elements")  # encoding them would hit max_refs
        self.assertEqual(self.live_refs(), 0)

    def test_a_batch_past_the_caps_fails_whole_and_its_refs_are_dropped(self):
        calls = [{"op": "call", "function": "object", "want": "ref"}, {"op": "call", "function": "eval", "args": ["[0] * 90"]}]
        response = self.worker.request("batch", session_id="s", calls=calls)
        self.assertEqual(response["error"]["details"]["setting"], "max_response_elements")
        self.assertEqual(self.live_refs(), 0)

    def test_a_callback_whose_arguments_exceed_the_caps_raises_in_python_and_is_never_sent(self):
        response = self.worker.request("call", session_id="s", function="sorted", args=[[[0] * 200]],
                                       kwargs={"key": CALLBACK})
        self.assertEqual(response["error"]["code"], "invalid_value", response)  # the next frame is the response itself
        self.assertEqual(response["error"]["details"]["setting"], "max_response_elements")
        self.assertEqual(self.live_refs(), 0)


if __name__ == "__main__":
    unittest.main()
