"""Attachments, arrays and object protocols, against a real worker process."""
import array
import base64
import ctypes
import json
import math
import struct
import unittest
from unittest import mock

from snakebridge_worker import arrays

from worker_client import WorkerProcess

try:
    import numpy
except ImportError:  # the no-numpy tests still run
    numpy = None


def ndarray(dtype, shape, data, attachment=None):
    value = {"__type__": "ndarray", "__schema__": 1, "dtype": dtype, "shape": shape}
    if attachment is None:
        value["data"] = base64.b64encode(data).decode("ascii")
    else:
        value["attachment"] = attachment
    return value


def doubles(values):
    return struct.pack(f"<{len(values)}d", *values)


class AttachmentsTest(unittest.TestCase):
    def setUp(self):
        self.worker = WorkerProcess(attachments=True)

    def tearDown(self):
        self.worker.close()

    def test_large_bytes_travel_as_attachments_both_ways(self):
        payload = bytes(range(256)) * 64
        bytes_ref = {"__type__": "bytes", "__schema__": 1, "attachment": 0}
        response = self.worker.request("call", session_id="s", function="bytes.upper", args=[bytes_ref],
                                       attachments=[payload])
        self.assertTrue(response["ok"], response)
        self.assertEqual(response["attachments"], 1)
        self.assertEqual(response["result"], {"__type__": "bytes", "__schema__": 1, "attachment": 0})
        self.assertEqual(self.worker.attachments[0], payload.upper())

    def test_small_bytes_stay_inline(self):
        result = self.worker.ok("call", session_id="s", function="bytes", args=[3])
        self.assertEqual(result["data"], base64.b64encode(b"\0\0\0").decode())
        self.assertEqual(self.worker.attachments, [])

    def test_a_client_that_did_not_ask_for_attachments_gets_base64(self):
        plain = WorkerProcess()
        try:
            result = plain.ok("call", session_id="s", function="bytes", args=[100_000])
            self.assertNotIn("attachments", result)
            self.assertEqual(len(base64.b64decode(result["data"])), 100_000)
        finally:
            plain.close()

    def test_an_attachment_index_the_message_lacks_is_invalid_value(self):
        response = self.worker.request("call", session_id="s", function="len",
                                       args=[{"__type__": "bytes", "__schema__": 1, "attachment": 1}], attachments=[b"x"])
        self.assertEqual(response["error"]["code"], "invalid_value")
        self.assertIn("carries 1 attachment", response["error"]["message"])
        self.assertEqual(self.worker.ok("ping"), "pong")

    def test_a_bad_attachment_count_gets_an_error_then_a_clean_close(self):
        self.worker.send_frame(json.dumps({"id": 9, "op": "ping", "attachments": -1}).encode())
        response = self.worker.read_frame()
        self.assertIsNone(response["id"])
        self.assertEqual(response["error"]["code"], "protocol")
        self.assertEqual(self.worker.proc.wait(timeout=10), 2)

    def test_eof_before_the_announced_attachments_gets_an_error_then_a_clean_close(self):
        self.worker.send_frame(json.dumps({"id": 9, "op": "ping", "attachments": 2}).encode())
        self.worker.send_frame(b"only one")
        self.worker.proc.stdin.close()
        self.assertEqual(self.worker.read_frame()["error"]["code"], "protocol")
        self.assertEqual(self.worker.proc.wait(timeout=10), 2)


@unittest.skipIf(numpy is None, "numpy is not importable by this interpreter")
class NumpyArraysTest(unittest.TestCase):
    def setUp(self):
        self.worker = WorkerProcess(attachments=True)

    def tearDown(self):
        self.worker.close()

    def test_an_ndarray_arrives_as_a_writable_numpy_array_and_numpy_computes_on_it(self):
        values = [3.0, 4.0] + [0.0] * 200
        arg = ndarray("float64", [len(values)], None, attachment=0)
        norm = self.worker.ok("call", session_id="s", function="numpy.linalg.norm", args=[arg], attachments=[doubles(values)])
        self.assertEqual(norm, 5.0)
        writable = self.worker.ok("get_attr", session_id="s", object=self.worker.ok(
            "call", session_id="s", function="numpy.ndarray.view", args=[arg], want="ref", attachments=[doubles(values)]),
            name="flags.writeable")
        self.assertTrue(writable)

    def test_a_2x3x4_array_with_nan_round_trips_exactly(self):
        values = [float(i) for i in range(24)]
        values[5] = math.nan
        data = doubles(values)
        arg = ndarray("float64", [2, 3, 4], None, attachment=0)
        result = self.worker.ok("call", session_id="s", function="numpy.asarray", args=[arg], want="array", attachments=[data])
        self.assertEqual((result["dtype"], result["shape"]), ("float64", [2, 3, 4]))
        self.assertEqual(base64.b64decode(result["data"]), data)  # 192 bytes: below the attachment threshold

    def test_a_large_array_comes_back_as_an_attachment(self):
        data = doubles([float(i) for i in range(10_000)])
        result = self.worker.ok("call", session_id="s", function="numpy.asarray",
                                args=[ndarray("float64", [100, 100], None, attachment=0)], want="array", attachments=[data])
        self.assertEqual(result["attachment"], 0)
        self.assertEqual(self.worker.attachments[0], data)

    def test_strided_and_big_endian_arrays_come_back_in_c_order_little_endian(self):
        result = self.worker.ok("call", session_id="s", function="eval",
                                args=["__import__('numpy').arange(24, dtype='>i4').reshape(4, 6)[:, ::2]"], want="array")
        self.assertEqual((result["dtype"], result["shape"]), ("int32", [4, 3]))
        expected = [r * 6 + c for r in range(4) for c in range(0, 6, 2)]
        self.assertEqual(base64.b64decode(result["data"]), struct.pack("<12i", *expected))

    def test_every_dtype_round_trips(self):
        for dtype, fmt in (("bool", "?"), ("int8", "b"), ("uint8", "B"), ("int16", "h"), ("uint16", "H"),
                           ("int32", "i"), ("uint32", "I"), ("int64", "q"), ("uint64", "Q"), ("float32", "f"),
                           ("float64", "d")):
            with self.subTest(dtype=dtype):
                data = struct.pack(f"<3{fmt}", *((True, False, True) if fmt == "?" else (1, 0, 7)))
                result = self.worker.ok("call", session_id="s", function="numpy.asarray",
                                        args=[ndarray(dtype, [3], data)], want="array")
                self.assertEqual((result["dtype"], result["shape"], base64.b64decode(result["data"])), (dtype, [3], data))

    def test_an_unsupported_dtype_is_a_clear_invalid_value(self):
        error = self.worker.request("call", session_id="s", function="eval",
                                    args=["__import__('numpy').array([1j, 2j])"], want="array")["error"]
        self.assertEqual(error["code"], "invalid_value")
        self.assertIn("complex128 is not supported", error["message"])

    def test_a_shape_that_does_not_match_the_data_is_invalid_value(self):
        error = self.worker.request("call", session_id="s", function="len",
                                    args=[ndarray("float64", [2, 2], doubles([1.0]))])["error"]
        self.assertEqual(error["code"], "invalid_value")
        self.assertIn("needs 32 bytes, got 8", error["message"])

    def test_get_turns_a_ref_into_its_array_or_its_value(self):
        ref = self.worker.ok("call", session_id="s", function="numpy.arange", args=[6])
        self.assertEqual(ref["__type__"], "ref")
        as_array = self.worker.ok("get", session_id="s", object=ref, want="array")
        self.assertEqual((as_array["dtype"], as_array["shape"]), ("int64", [6]))
        lst = self.worker.ok("call", session_id="s", function="list", args=[[1, 2]], want="ref")
        self.assertEqual(self.worker.ok("get", session_id="s", object=lst), [1, 2])


class ArraysWithoutNumpyTest(unittest.TestCase):
    def setUp(self):
        self.worker = WorkerProcess(numpy=False)

    def tearDown(self):
        self.worker.close()

    def test_a_1d_array_arrives_as_array_array(self):
        arg = ndarray("int32", [3], struct.pack("<3i", 1, 2, 3))
        self.assertEqual(self.worker.ok("call", session_id="s", function="sum", args=[arg]), 6)
        ref = self.worker.ok("call", session_id="s", function="copy.copy", args=[arg], want="ref")
        self.assertEqual((ref["python_module"], ref["type_name"]), ("array", "array"))

    def test_a_2d_array_arrives_as_a_memoryview_with_its_shape(self):
        arg = ndarray("float64", [2, 2], doubles([1.0, 2.0, 3.0, 4.0]))
        self.assertEqual(self.worker.ok("call", session_id="s", function="memoryview.tolist", args=[arg]), [[1.0, 2.0], [3.0, 4.0]])

    def test_buffer_objects_go_back_as_arrays(self):
        result = self.worker.ok("call", session_id="s", function="eval", args=["__import__('array').array('h', [1, -2])"],
                                want="array")
        self.assertEqual((result["dtype"], result["shape"], base64.b64decode(result["data"])),
                         ("int16", [2], struct.pack("<2h", 1, -2)))

    def test_an_object_without_a_buffer_says_numpy_is_missing(self):
        error = self.worker.request("call", session_id="s", function="list", args=[[1]], want="array")["error"]
        self.assertEqual(error["code"], "invalid_value")
        self.assertIn("numpy is not installed", error["message"])


class BigEndianHostWithoutNumpyTest(unittest.TestCase):
    """The byte-swapping path of a big-endian host without numpy, simulated here (in process) by
    telling the arrays module that this host is big-endian: whatever the host, the wire stays
    little-endian (VAL-ARRAY-1) and the Python side holds native-order elements."""

    def setUp(self):
        patcher = mock.patch.multiple(arrays, _LITTLE=False, _numpy=False)
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_wire_bytes_become_native_big_endian_elements_and_go_back_little_endian(self):
        for dtype, (fmt, _) in arrays.DTYPES.items():
            values = [True, False, True] if fmt == "?" else [1, 0, 7] if fmt in "bBfd" else [1, 2, -3 if fmt.islower() else 3]
            for shape in ([3], [3, 1]):
                with self.subTest(dtype=dtype, shape=shape):
                    wire = struct.pack(f"<3{fmt}", *values)
                    received = arrays.from_wire(dtype, shape, bytearray(wire))
                    self.assertEqual(memoryview(received).tobytes(), struct.pack(f">3{fmt}", *values))
                    sent_dtype, sent_shape, data = arrays.to_wire(received)
                    self.assertEqual((sent_dtype, sent_shape, bytes(data)), (dtype, shape, wire))

    def test_a_buffer_that_declares_the_other_byte_order_is_refused_not_sent_wrong(self):
        little = (ctypes.c_int32 * 2)(1, 2)  # ctypes declares its byte order: format "<i" here
        self.assertEqual(memoryview(little).format, "<i")
        with self.assertRaisesRegex(arrays.UnsupportedArray, "buffer format '<i' is not supported"):
            arrays.to_wire(little)


class ObjectProtocolTest(unittest.TestCase):
    def setUp(self):
        self.worker = WorkerProcess()
        self.table = self.worker.ok("call", session_id="s", function="eval", args=["{(1, 2): 'a', 'k': [1]}"], want="ref")

    def tearDown(self):
        self.worker.close()

    def apply(self, action, *args, obj=None, **fields):
        return self.worker.request("apply", session_id="s", object=obj or self.table, action=action, args=list(args),
                                   **fields)

    def test_len_contains_repr_and_str(self):
        self.assertEqual(self.apply("len")["result"], 2)
        self.assertTrue(self.apply("contains", "k")["result"])
        self.assertFalse(self.apply("contains", "z")["result"])
        self.assertEqual(self.apply("repr")["result"], "{(1, 2): 'a', 'k': [1]}")
        self.assertEqual(self.apply("str")["result"], "{(1, 2): 'a', 'k': [1]}")

    def test_item_access_with_any_key(self):
        key = {"__type__": "tuple", "__schema__": 1, "elements": [1, 2]}
        self.assertEqual(self.apply("getitem", key)["result"], "a")
        self.assertIsNone(self.apply("setitem", key, "b")["result"])
        self.assertEqual(self.apply("getitem", key)["result"], "b")
        self.apply("delitem", key)
        self.assertEqual(self.apply("len")["result"], 1)
        error = self.apply("getitem", "missing")["error"]
        self.assertEqual((error["code"], error["type"]), ("python_exception", "KeyError"))

    def test_enter_and_exit_see_the_java_exception_and_may_suppress_it(self):
        suppressing = self.worker.ok("call", session_id="s", function="contextlib.suppress", args=[{"__type__": "ref",
                                     "__schema__": 1, **self.worker.ok("get_attr", session_id="s", name="Exception",
                                                                        want="ref")}], want="ref")
        self.assertEqual(self.apply("enter", obj=suppressing)["result"], None)
        self.assertTrue(self.apply("exit", "java.lang.IllegalStateException", "boom", obj=suppressing)["result"])
        exact = self.worker.ok("call", session_id="s", function="contextlib.suppress", args=[], want="ref")
        self.apply("enter", obj=exact)
        self.assertFalse(self.apply("exit", "java.lang.IllegalStateException", "boom", obj=exact)["result"])
        self.assertFalse(self.apply("exit", obj=exact)["result"])

    def test_a_bad_action_or_arity_is_a_protocol_error(self):
        self.assertEqual(self.apply("fly")["error"]["code"], "protocol")
        self.assertEqual(self.apply("len", 1)["error"]["code"], "protocol")
        self.assertEqual(self.apply("exit", "only-type")["error"]["code"], "protocol")



class NegotiatedLimitsTest(unittest.TestCase):
    """HS-5 and VAL-LIM-3: limits the client sets at the handshake, enforced by the worker."""

    def start(self, **limits):
        worker = WorkerProcess(handshake=False)
        self.addCleanup(worker.close)
        response = worker.request("handshake", protocol_version=1, min_supported_version=1, limits=limits)
        return worker, response

    def test_the_worker_adopts_and_reports_the_clients_limits(self):
        worker, response = self.start(max_frame_bytes=4096, max_nesting_depth=5, max_string_length=10)
        limits = response["result"]["limits"]
        self.assertEqual((limits["max_frame_bytes"], limits["max_nesting_depth"], limits["max_string_length"]), (4096, 5, 10))

    def test_a_limit_out_of_range_or_unknown_fails_the_handshake(self):
        for limits in ({"max_frame_bytes": 10}, {"max_nesting_depth": 0}, {"max_refs": 5}, {"max_string_length": "big"}):
            with self.subTest(limits=limits):
                _, response = self.start(**limits)
                self.assertEqual(response["error"]["code"], "invalid_argument")

    def test_strings_and_bytes_past_max_string_length_are_refused_both_ways(self):
        worker, _ = self.start(max_string_length=10)
        for args in (["x" * 11], [{"__type__": "bytes", "__schema__": 1, "data": base64.b64encode(b"y" * 11).decode()}]):
            error = worker.request("call", session_id="s", function="len", args=args)["error"]
            self.assertEqual(error["code"], "invalid_value")
            self.assertIn("exceeds max_string_length=10", error["message"])
        for expression in ("'z' * 11", "b'z' * 11", "['z' * 11]"):
            error = worker.request("call", session_id="s", function="eval", args=[expression])["error"]
            self.assertIn("exceeds max_string_length=10", error["message"])
        self.assertEqual(worker.ok("call", session_id="s", function="str.upper", args=["x" * 10]), "X" * 10)

    def test_a_result_larger_than_the_clients_frames_is_an_error_not_a_broken_stream(self):
        worker, _ = self.start(max_frame_bytes=4096)
        error = worker.request("call", session_id="s", function="eval", args=["list(range(5000))"])["error"]
        self.assertEqual(error["code"], "invalid_value")
        self.assertIn("exceeds max_frame_bytes=4096", error["message"])
        self.assertEqual(worker.ok("ping"), "pong")

    def test_nesting_past_the_negotiated_depth_is_refused_both_ways(self):
        worker, _ = self.start(max_nesting_depth=3)
        self.assertEqual(worker.request("call", session_id="s", function="len", args=[[[[[1]]]]])["error"]["code"],
                         "invalid_value")
        self.assertEqual(worker.request("call", session_id="s", function="eval", args=["[[[[1]]]]"])["error"]["code"],
                         "invalid_value")


class HugeIntegerTest(unittest.TestCase):
    def test_a_ten_million_digit_integer_is_a_clean_protocol_error_and_the_worker_goes_on(self):
        worker = WorkerProcess()
        try:
            worker.send_frame(b'{"id": 7, "op": "call", "session_id": "s", "function": "abs", "args": [' + b"7" * 10_000_000 + b"]}")
            response = worker.read_frame()
            self.assertFalse(response["ok"])
            self.assertEqual(response["error"]["code"], "protocol")
            self.assertIn("longer than max_int_digits=100000", response["error"]["message"])
            self.assertEqual(worker.ok("call", session_id="s", function="abs", args=[-7]), 7)
        finally:
            worker.close()


if __name__ == "__main__":
    unittest.main()
