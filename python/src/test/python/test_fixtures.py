"""Runs the language-neutral codec fixtures of the conformance suite against this worker's codec."""
import copy
import json
import os
import unittest

from snakebridge_worker import DEFAULTS
from snakebridge_worker.decoder import Decoder
from snakebridge_worker.encoder import Encoder
from snakebridge_worker.errors import BridgeError
from snakebridge_worker.registry import Registry

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "conformance-tests", "src", "main",
                        "resources", "fixtures", "values.json")


def codec():
    registry = Registry(DEFAULTS)
    depth = DEFAULTS["max_nesting_depth"]
    return Encoder(registry, "s1", "w", depth), Decoder(registry, "s1", "w", depth)


class ConformanceFixtures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(FIXTURES, encoding="utf-8") as f:
            cls.fixtures = json.load(f)

    def test_every_round_trip_fixture_decodes_to_its_repr_and_encodes_back_exactly(self):
        for case in self.fixtures["round_trip"]:
            with self.subTest(case["name"]):
                encoder, decoder = codec()
                value = decoder.decode(case["wire"])
                if case["python_repr"] is not None:
                    self.assertEqual(repr(value), case["python_repr"])
                back = encoder.encode(copy.copy(value))
                self.assertEqual(json.dumps(back, sort_keys=True), json.dumps(case["wire"], sort_keys=True))

    def test_every_invalid_fixture_is_rejected_with_its_code(self):
        for case in self.fixtures["invalid"]:
            with self.subTest(case["name"]):
                _, decoder = codec()
                with self.assertRaises(BridgeError) as caught:
                    decoder.decode(case["wire"])
                self.assertEqual(caught.exception.code, case["code"])


if __name__ == "__main__":
    unittest.main()
