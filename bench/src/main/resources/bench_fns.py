"""Python side of the benchmarks' baselines: what users did before binary attachments."""
import base64

import numpy


def roundtrip_list(values):
    """The JSON path: a list of floats in, a numpy array, a list of floats out."""
    return numpy.asarray(values, dtype=numpy.float64).tolist()


def roundtrip_base64(text):
    """The base64-in-JSON path: float64 bytes as base64 text in, a numpy array, base64 text out."""
    array = numpy.frombuffer(base64.b64decode(text), dtype="<f8")
    return base64.b64encode(array.tobytes()).decode("ascii")
