"""N-dimensional arrays on the wire (PROTOCOL.md VAL-ARRAY-*): a dtype name, a shape, and the
elements as little-endian bytes in C order.

With numpy importable, arrays arrive as ``numpy.ndarray`` (writable, sharing the received buffer)
and anything ``numpy.asarray`` accepts can be sent back. Without numpy they arrive as
``array.array`` (one dimension) or a ``memoryview`` cast to the shape (several dimensions, or
bool), and anything with the buffer protocol can be sent back. numpy is imported on first use only.
"""
import array
import sys

# wire dtype -> (struct format of the element, item size)
DTYPES = {
    "bool": ("?", 1),
    "int8": ("b", 1), "uint8": ("B", 1),
    "int16": ("h", 2), "uint16": ("H", 2),
    "int32": ("i", 4), "uint32": ("I", 4),
    "int64": ("q", 8), "uint64": ("Q", 8),
    "float32": ("f", 4), "float64": ("d", 8),
}
_BY_KIND = {("b", 1): "bool", ("i", 1): "int8", ("u", 1): "uint8", ("i", 2): "int16", ("u", 2): "uint16",
            ("i", 4): "int32", ("u", 4): "uint32", ("i", 8): "int64", ("u", 8): "uint64",
            ("f", 4): "float32", ("f", 8): "float64"}
_STRUCT_KIND = {"?": "b", "b": "i", "h": "i", "i": "i", "l": "i", "q": "i", "n": "i",
                "B": "u", "H": "u", "I": "u", "L": "u", "Q": "u", "N": "u", "f": "f", "d": "f"}
_LITTLE = sys.byteorder == "little"
_numpy = None


class UnsupportedArray(ValueError):
    """The object cannot be sent as an array; the message says why and what would work."""


def numpy():
    """The numpy module, or None where it is not importable."""
    global _numpy
    if _numpy is None:
        try:
            import numpy as module
        except ImportError:
            module = False
        _numpy = module
    return _numpy or None


def from_wire(dtype, shape, data):
    """An array from its wire form; ``data`` is a bytearray (kept, not copied, where possible)."""
    if dtype not in DTYPES:
        raise UnsupportedArray(f"unknown dtype {dtype!r}; supported: {', '.join(DTYPES)}")
    if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):
        raise UnsupportedArray(f"shape must be a list of non-negative ints, got {shape!r}")
    fmt, itemsize = DTYPES[dtype]
    count = 1
    for n in shape:
        count *= n
    if count * itemsize != len(data):
        raise UnsupportedArray(f"{dtype} array of shape {shape} needs {count * itemsize} bytes, got {len(data)}")
    np = numpy()
    if np is not None:
        return np.frombuffer(data, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)
    if not _LITTLE and itemsize > 1:
        data = _swap(data, fmt)
    if len(shape) == 1 and fmt != "?":
        return array.array(fmt, data)
    return memoryview(data).cast(fmt, shape)


def to_wire(obj):
    """(dtype, shape, bytes-like data) of ``obj`` as a C-ordered little-endian array."""
    np = numpy()
    if np is not None and not isinstance(obj, (array.array, memoryview, bytes, bytearray)):
        return _numpy_to_wire(np, obj)
    try:
        view = memoryview(obj)
    except TypeError:
        hint = "" if np is not None else " (numpy is not installed in this worker)"
        raise UnsupportedArray(f"a {type(obj).__name__} cannot be read as an array: it has no buffer protocol{hint}") from None
    kind = _STRUCT_KIND.get(view.format.lstrip("@=<"))
    if kind is None or (view.format[0] in "<>!" and view.format[0] != ("<" if _LITTLE else ">")):
        raise UnsupportedArray(f"buffer format {view.format!r} is not supported; supported dtypes: {', '.join(DTYPES)}")
    dtype = _BY_KIND[(kind, view.itemsize)]
    data = view.tobytes()  # C order, whatever the strides
    if not _LITTLE and view.itemsize > 1:
        data = _swap(bytearray(data), DTYPES[dtype][0])
    return dtype, list(view.shape), data


def _numpy_to_wire(np, obj):
    arr = np.asarray(obj)
    dtype = _BY_KIND.get((arr.dtype.kind, arr.dtype.itemsize))
    if dtype is None:
        raise UnsupportedArray(f"numpy dtype {arr.dtype} is not supported; supported: {', '.join(DTYPES)} "
                               "(convert with .astype() first)")
    # One copy at most: only when the array is strided or big-endian.
    wire = np.ascontiguousarray(arr, dtype=np.dtype(dtype).newbyteorder("<"))
    return dtype, list(arr.shape), memoryview(wire.reshape(-1).view(np.uint8))


def _swap(data, fmt):
    swapped = array.array(fmt, bytes(data))
    swapped.byteswap()
    return bytearray(swapped.tobytes())
