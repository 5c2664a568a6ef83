"""The tagged values of PROTOCOL.md VAL-TAG-1 are exactly the ones the worker's codec reads or writes.

The Java codec is held to the same table by the driver's ValueTagsAgreeTest.
"""
import array
import datetime
import math
import pathlib
import re
import unittest

from snakebridge_worker import DEFAULTS
from snakebridge_worker.decoder import DECODERS
from snakebridge_worker.encoder import Encoder
from snakebridge_worker.registry import Registry
from snakebridge_worker.values import STOP_ITERATION, Atom

PROTOCOL = pathlib.Path(__file__).resolve().parents[4] / "PROTOCOL.md"


def documented_tags():
    text = PROTOCOL.read_text(encoding="utf-8")
    table = text[text.index("**VAL-TAG-1**"):text.index("**VAL-TAG-2**")]
    return set(re.findall(r"(?m)^\s*\| `([a-z_]+)` \|", table))


def tags_in(value):
    if isinstance(value, dict):
        found = {value["__type__"]} if "__type__" in value else set()
        for item in value.values():
            found |= tags_in(item)
        return found
    if isinstance(value, list):
        return set().union(*map(tags_in, value)) if value else set()
    return set()


def tags_the_encoder_writes():
    """One value of every kind the worker sends by value, plus an object (a ref) and a generator (a stream ref)."""
    encoder = Encoder(Registry(DEFAULTS), "s1", "w1", DEFAULTS["max_nesting_depth"])
    samples = [(1,), {1}, frozenset({1}), b"\x01", 1 + 2j, datetime.datetime(2026, 1, 1), datetime.date(2026, 1, 1),
               datetime.time(12), math.nan, {1: 2}, Atom("a"), STOP_ITERATION, object(), (x for x in [1]),
               memoryview(array.array("d", [1.0]))]
    return tags_in(encoder.encode(samples))


class ValueTagsAgree(unittest.TestCase):
    def test_the_protocol_table_lists_tags(self):
        self.assertGreater(len(documented_tags()), 10)

    def test_every_documented_tag_is_read_or_written_by_the_worker_and_no_other_is(self):
        self.assertEqual(set(DECODERS) | tags_the_encoder_writes(), documented_tags())


if __name__ == "__main__":
    unittest.main()
