import datetime
import decimal
import enum
import io
import json
import math
import os
import struct
import sys
import unittest
import uuid
import zoneinfo
from collections import OrderedDict, namedtuple

from snakebridge_worker import DEFAULTS
from snakebridge_worker.decoder import DECODERS, Decoder
from snakebridge_worker.encoder import Encoder
from snakebridge_worker.errors import BridgeError
from snakebridge_worker.registry import Registry
from snakebridge_worker.server import Server
from snakebridge_worker.values import STOP_ITERATION, Atom
from snakebridge_worker.worker import Worker

WORKER_ID = "w1"
# A version-4 UUID fixes bits 76-79 (the version, 0100) and 62-63 (the variant, 10), counting from the least significant.
UUID4_FIXED_BITS = frozenset((76, 77, 78, 79, 62, 63))


def codec(registry=None, session="s1"):
    registry = registry or Registry(DEFAULTS)
    return (Encoder(registry, session, WORKER_ID, DEFAULTS["max_nesting_depth"]),
            Decoder(registry, session, WORKER_ID, DEFAULTS["max_nesting_depth"]), registry)


def round_trip(value):
    encoder, decoder, _ = codec()
    return decoder.decode(encoder.encode(value))


class EveryTagRoundTrips(unittest.TestCase):
    VALUES = [
        None, True, False, 0, -1, 2 ** 64 + 1, -(10 ** 40), 6, 6.0, 1.5, -0.0, "", "héllo ✓",
        math.inf, -math.inf, Atom("ok"), (1, "a"), {1, 2}, frozenset({"x"}), b"\x00\xff", 1 + 2j,
        complex(math.inf, -1.5), datetime.datetime(2024, 1, 2, 3, 4, 5, 6),
        datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
        datetime.date(1999, 12, 31), datetime.time(23, 59, 58, 999999),
        datetime.time(1, 2, tzinfo=datetime.timezone.utc), {1: "int key", (1, 2): "tuple key"},
        {"a": [1, {"b": (2, 3)}]}, [[], {}, ()], STOP_ITERATION,
        datetime.timedelta(days=-3, microseconds=1), datetime.timedelta(0), decimal.Decimal("1.50"),
        decimal.Decimal("-0"), decimal.Decimal("1E+3"), uuid.UUID(int=2 ** 127 + 5),
        datetime.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")),
    ]

    def test_every_value_round_trips_exactly_with_its_type(self):
        for value in self.VALUES:
            with self.subTest(value=value):
                back = round_trip(value)
                self.assertEqual(back, value)
                self.assertIs(type(back), type(value))

    def test_nan_round_trips_as_special_float(self):
        encoder, _, _ = codec()
        self.assertEqual(encoder.encode(math.nan), {"__type__": "special_float", "__schema__": 1, "value": "nan"})
        self.assertTrue(math.isnan(round_trip(math.nan)))

    def test_top_level_ints_floats_and_none_are_never_mangled(self):
        encoder, _, _ = codec()
        self.assertIs(type(encoder.encode(6)), int)
        self.assertIs(type(encoder.encode(6.0)), float)
        self.assertIsNone(encoder.encode(None))
        self.assertEqual(encoder.encode(2 ** 200), 2 ** 200)

    def test_dict_with_type_key_is_sent_as_pairs_so_it_cannot_pass_for_a_tag(self):
        value = {"__type__": "ref", "id": "x", "session_id": "s1"}
        encoder, _, _ = codec()
        self.assertEqual(encoder.encode(value)["__type__"], "dict")
        self.assertEqual(round_trip(value), value)

    def test_plain_dict_with_id_and_session_id_is_never_taken_for_a_ref(self):
        _, decoder, _ = codec()
        value = {"id": "abc", "session_id": "s1", "python_module": "m"}
        self.assertEqual(decoder.decode(value), value)

    def test_subclasses_of_containers_travel_as_their_base(self):
        point = namedtuple("Point", "x y")
        self.assertEqual(round_trip(point(1, 2)), (1, 2))
        self.assertEqual(round_trip(OrderedDict(a=1)), {"a": 1})


    def test_subclasses_of_str_int_and_float_travel_as_their_contents_not_their_display_text(self):
        flavor = enum.Enum("Flavor", {"SWEET": "sweet"}, type=str).SWEET
        shout = type("Shout", (str,), {"__str__": lambda self: "LOUD"})("quiet")
        odd = type("Odd", (int,), {"__int__": lambda self: 0, "__index__": lambda self: 0})(7)
        kelvin = type("Kelvin", (float,), {"__float__": lambda self: 0.0})(2.5)
        status = enum.IntEnum("Status", {"OK": 200}).OK
        for value, expected in ((flavor, "sweet"), (shout, "quiet"), (odd, 7), (kelvin, 2.5), (status, 200)):
            with self.subTest(expected=expected):
                back = round_trip(value)
                self.assertEqual(back, expected)
                self.assertIs(type(back), type(expected))

    def test_a_plain_enum_member_is_a_ref(self):
        encoder, _, _ = codec()
        self.assertEqual(encoder.encode(enum.Enum("Color", {"RED": 1}).RED)["__type__"], "ref")

    def test_a_non_finite_decimal_is_invalid_value(self):
        encoder, _, _ = codec()
        for text in ("NaN", "sNaN", "Infinity", "-Infinity"):
            with self.subTest(text):
                with self.assertRaises(BridgeError) as caught:
                    encoder.encode([decimal.Decimal(text)])
                self.assertEqual(caught.exception.code, "invalid_value")

    def test_a_zone_without_a_key_travels_as_its_offset(self):
        encoder, _, _ = codec()
        paths = [os.path.join(root, "Europe", "Paris") for root in zoneinfo.TZPATH]
        path = next((p for p in paths if os.path.exists(p)), None)
        if path is None:
            self.skipTest("no system zone database to read a zone file from")
        with open(path, "rb") as f:
            keyless = zoneinfo.ZoneInfo.from_file(f)  # a zone without a key: only its offsets are known
        wire = encoder.encode(datetime.datetime(2024, 1, 1, tzinfo=keyless))
        self.assertNotIn("zone", wire)
        self.assertEqual(wire["value"], "2024-01-01T00:00:00+01:00")


class RefsInResults(unittest.TestCase):
    def test_non_serializable_leaf_of_a_container_becomes_a_ref_and_the_rest_stays_by_value(self):
        encoder, decoder, registry = codec()
        obj = object()
        wire = encoder.encode({"name": "x", "items": [1, obj]})
        self.assertEqual(wire["name"], "x")
        ref = wire["items"][1]
        self.assertEqual((ref["__type__"], ref["session_id"], ref["type_name"]), ("ref", "s1", "object"))
        self.assertIs(decoder.decode(ref), obj)

    def test_the_same_object_twice_in_one_result_is_one_ref(self):
        encoder, _, registry = codec()
        obj = object()
        wire = encoder.encode([obj, obj])
        self.assertEqual(wire[0]["id"], wire[1]["id"])
        self.assertEqual(registry.session_info("s1")["live_refs"], 1)

    def test_every_call_makes_a_fresh_ref(self):
        registry = Registry(DEFAULTS)
        obj = object()
        first = codec(registry)[0].encode(obj)
        second = codec(registry)[0].encode(obj)
        self.assertNotEqual(first["id"], second["id"])

    def test_generators_become_stream_refs(self):
        encoder, _, _ = codec()
        wire = encoder.encode(x for x in range(3))
        self.assertEqual((wire["__type__"], wire["stream_type"]), ("stream_ref", "generator"))
        self.assertEqual(encoder.encode(iter([1]))["stream_type"], "iterator")

    def test_ref_ids_are_random_uuids_whose_122_random_bits_are_each_fair(self):
        # REF-1: a counter, a clock or a hash of one passes a format-and-distinctness check; it fails
        # here, on the UUID version/variant bits or on a random bit stuck at (or leaning to) 0 or 1.
        encoder, _, _ = codec()
        ids = [encoder.ref(object())["id"] for _ in range(1000)]
        self.assertEqual(len(set(ids)), len(ids))
        ones = [0] * 128
        for ref_id in ids:
            self.assertRegex(ref_id, r"\A[0-9a-f]{32}\Z")
            value = uuid.UUID(hex=ref_id)
            self.assertEqual((value.version, value.variant), (4, uuid.RFC_4122), ref_id)
            bits = value.int
            for bit in range(128):
                ones[bit] += (bits >> bit) & 1
        random_bits = [bit for bit in range(128) if bit not in UUID4_FIXED_BITS]
        self.assertEqual(len(random_bits), 122)
        # A fair bit is set in 500 +- 15.8 of 1,000 ids; a bound of 6 standard deviations on each of
        # 122 bits fails a fair source less than once in a million runs.
        leaning = {127 - bit: ones[bit] for bit in random_bits if abs(ones[bit] - 500) > 95}
        self.assertEqual(leaning, {}, "bits (0 = most significant) set in an unfair share of 1,000 ids")

    def test_a_self_containing_list_is_a_clear_error(self):
        encoder, _, _ = codec()
        cyclic = []
        cyclic.append(cyclic)
        with self.assertRaises(BridgeError) as caught:
            encoder.encode(cyclic)
        self.assertEqual(caught.exception.code, "invalid_value")


class BadValues(unittest.TestCase):
    def assert_code(self, value, code):
        _, decoder, _ = codec()
        with self.assertRaises(BridgeError) as caught:
            decoder.decode(value)
        self.assertEqual(caught.exception.code, code, caught.exception.message)
        return caught.exception

    def test_unknown_tag_is_invalid_value(self):
        self.assert_code({"__type__": "nope", "__schema__": 1}, "invalid_value")

    def test_wrong_schema_is_invalid_value(self):
        self.assert_code({"__type__": "tuple", "__schema__": 2, "elements": []}, "invalid_value")

    def test_missing_fields_are_invalid_value(self):
        for tag in ("tuple", "set", "bytes", "complex", "datetime", "special_float", "dict", "atom"):
            with self.subTest(tag=tag):
                self.assert_code({"__type__": tag, "__schema__": 1}, "invalid_value")

    def test_ref_without_id_is_invalid_ref(self):
        error = self.assert_code({"__type__": "ref", "__schema__": 1, "session_id": "s1"}, "invalid_ref")
        self.assertEqual(error.details["reason"], "missing_id")

    def test_ref_from_another_worker_reports_worker_restarted(self):
        error = self.assert_code({"__type__": "ref", "__schema__": 1, "id": "a" * 32, "session_id": "s1",
                                  "worker_id": "an-earlier-worker"}, "ref_not_found")
        self.assertEqual(error.details["reason"], "worker_restarted")

    def test_callback_without_the_capability_is_a_clear_error(self):
        self.assert_code({"__type__": "callback", "__schema__": 1, "ref_id": "x", "arity": 1}, "invalid_value")

    def test_a_value_nested_deeper_than_the_interpreter_recurses_is_invalid_value(self):
        registry = Registry(DEFAULTS)
        decoder = Decoder(registry, "s1", WORKER_ID, 100_000)
        value = []
        for _ in range(sys.getrecursionlimit() + 10):
            value = [value]
        with self.assertRaises(BridgeError) as caught:
            decoder.decode(value)
        self.assertEqual(caught.exception.code, "invalid_value")
        encoder = Encoder(registry, "s1", WORKER_ID, 100_000)
        with self.assertRaises(BridgeError) as caught:
            encoder.encode(value)
        self.assertEqual(caught.exception.code, "invalid_value")

    def test_nesting_past_the_limit_is_invalid_value(self):
        value = []
        for _ in range(DEFAULTS["max_nesting_depth"] + 1):
            value = [value]
        self.assert_code(value, "invalid_value")


try:
    from hypothesis import given, settings, strategies as st
except ImportError:
    given = None
else:
    # No per-example deadline: on a loaded machine (CI on two cores) one example can take 400 ms, and
    # the property would fail for the machine's load, never for the codec.
    settings.register_profile("snakebridge", deadline=None)
    settings.load_profile("snakebridge")

if given is None:
    # Without hypothesis the four property tests below do not exist; say so, in the log and as a skip
    # (a failure where .ci/run asks for them: it installs hypothesis).
    _MISSING = ("hypothesis is not importable by " + sys.executable + ": the four property tests of PropertyRoundTrip "
                "did not run (.ci/run installs python3-hypothesis)")
    sys.stderr.write("WARNING: " + _MISSING + "\n")

    class PropertyRoundTrip(unittest.TestCase):
        def test_the_property_tests_need_hypothesis(self):
            if os.environ.get("SNAKEBRIDGE_REQUIRE_HYPOTHESIS"):
                self.fail(_MISSING)
            self.skipTest(_MISSING)
else:
    scalars = (st.none() | st.booleans() | st.integers() | st.text() | st.binary()
               | st.floats(allow_nan=False) | st.complex_numbers(allow_nan=False)
               | st.datetimes() | st.dates() | st.times())
    values = st.recursive(scalars, lambda inner: (
        st.lists(inner) | st.tuples(inner, inner) | st.dictionaries(st.text(), inner)
        | st.dictionaries(st.integers(), inner) | st.frozensets(st.integers() | st.text())), max_leaves=20)

    class PropertyRoundTrip(unittest.TestCase):
        @given(values)
        def test_random_values_round_trip_exactly(self, value):
            self.assertEqual(round_trip(value), value)

        @given(st.recursive(st.none() | st.integers() | st.text() | st.floats(allow_nan=False),
                            lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner)))
        def test_random_json_decodes_to_a_value_or_a_clean_error(self, wire):
            _, decoder, _ = codec()
            try:
                decoder.decode(wire)
            except BridgeError as exc:
                self.assertIn(exc.code, ("invalid_value", "invalid_ref", "ref_not_found", "session_mismatch"))


        # Tag-shaped objects with random fields: the decoder's error paths, not just plain JSON.
        tagged = st.recursive(
            st.none() | st.integers() | st.text(max_size=5) | st.floats(allow_nan=False),
            lambda inner: st.lists(inner, max_size=3) | st.fixed_dictionaries(
                {"__type__": st.sampled_from(sorted(DECODERS) + ["mystery"]), "__schema__": st.sampled_from([1, 1, 2, "1"])},
                optional={"elements": inner, "pairs": inner, "value": inner, "data": st.text(max_size=8), "real": inner,
                          "imag": inner, "dtype": st.sampled_from(["float64", "int8", "complex64", 3]), "shape": inner,
                          "attachment": inner, "index": inner, "id": inner, "ref_id": inner, "arity": inner}),
            max_leaves=10)

        @given(tagged)
        def test_random_tagged_values_decode_to_a_value_or_a_clean_error(self, wire):
            _, decoder, _ = codec()
            try:
                decoder.decode(wire)
            except BridgeError as exc:
                self.assertIn(exc.code, ("invalid_value", "invalid_ref", "ref_not_found", "session_mismatch",
                                         "dependency_failed"))

        @given(st.binary(max_size=300))
        def test_random_bytes_as_a_request_get_an_error_response_never_a_crash(self, payload):
            worker = Worker(Registry(DEFAULTS), WORKER_ID)
            worker.handshaken = True
            out = io.BytesIO()
            stream = io.BufferedReader(io.BytesIO(struct.pack(">I", len(payload)) + payload))
            status = Server(stream, out, worker).serve()
            self.assertIn(status, (0, 2))  # 2: it said why and closed (e.g. a bad attachment count)
            frames, data = [], out.getvalue()
            while data:
                (length,) = struct.unpack(">I", data[:4])
                frames.append(json.loads(data[4:4 + length]))
                data = data[4 + length:]
            self.assertEqual(len(frames), 1)
            self.assertIn(frames[0]["ok"], (True, False))


if __name__ == "__main__":
    unittest.main()
