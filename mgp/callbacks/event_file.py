"""TensorBoard event files, written without TensorFlow: the TFRecord framing and the few
protobuf messages a summary needs, encoded by hand.

A file is a sequence of records: `length (uint64) | masked CRC-32C of length | data | masked
CRC-32C of data`, each `data` an `Event` message. The first event names the format version;
the others carry one `Summary` value each, in TensorFlow 2's form: a tensor with the plugin that
reads it (`scalars`: a float32 scalar; `histograms`: a float64 [buckets, 3] array of left edge,
right edge, count; `images`: strings width, height, PNG...; `graph_keras_model`: the model's
JSON). TensorBoard reads them as it reads Keras's.
"""
import os
import socket
import struct
import threading
import time
import zlib

import numpy as np


# ---- CRC-32C (Castagnoli), as TFRecord checksums use -------------------------------------------------
def _crc32c_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    """TFRecord's masked checksum (a rotation and an offset, so a CRC of CRCs stays strong)."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(data):
    """One TFRecord: the framing around `data` (bytes)."""
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked_crc32c(length)) + data + \
        struct.pack("<I", masked_crc32c(data))


# ---- protobuf wire format ---------------------------------------------------------------------------
def _varint(n):
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | 0x80 if n else low)
        if not n:
            return bytes(out)


def _field_varint(number, value):
    return _varint(number << 3) + _varint(value)


def _field_bytes(number, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _field_double(number, value):
    return _varint(number << 3 | 1) + struct.pack("<d", value)


_DT_FLOAT, _DT_DOUBLE, _DT_STRING = 1, 2, 7  # tensorflow.DataType


def tensor_proto(value):
    """A TensorProto for a float32 or float64 array, or a string / list of byte strings."""
    if isinstance(value, (str, bytes)) or (isinstance(value, list)
                                           and all(isinstance(v, bytes) for v in value)):
        items = [value] if not isinstance(value, list) else value
        shape = [] if not isinstance(value, list) else [len(items)]
        dims = b"".join(_field_bytes(2, _field_varint(1, d)) for d in shape)
        return (_field_varint(1, _DT_STRING) + _field_bytes(2, dims)
                + b"".join(_field_bytes(8, v) for v in items))
    array = np.asarray(value)
    dtype = _DT_DOUBLE if array.dtype == np.float64 else _DT_FLOAT
    array = array.astype("<f8" if dtype == _DT_DOUBLE else "<f4")
    dims = b"".join(_field_bytes(2, _field_varint(1, d)) for d in array.shape)
    return _field_varint(1, dtype) + _field_bytes(2, dims) + _field_bytes(4, array.tobytes())


def summary_value(tag, tensor, plugin, content=b""):
    """A Summary.Value: the tag, the plugin that reads it, and the tensor."""
    plugin_data = _field_bytes(1, plugin) + (_field_bytes(2, content) if content else b"")
    return _field_bytes(1, tag) + _field_bytes(9, _field_bytes(1, plugin_data)) + \
        _field_bytes(8, tensor)


def event(step, summary_values=(), wall_time=None, file_version=None):
    out = _field_double(1, time.time() if wall_time is None else wall_time)
    out += _field_varint(2, int(step))
    if file_version is not None:
        out += _field_bytes(3, file_version)
    if summary_values:
        out += _field_bytes(5, b"".join(_field_bytes(1, v) for v in summary_values))
    return out


# ---- summaries ----------------------------------------------------------------------------------------
def histogram_buckets(values, bucket_count=30):
    """TensorFlow 2's histogram summary: a float64 [bucket_count, 3] array (left edge, right
    edge, count) of equal-width buckets from min to max; a single value fills the last."""
    data = np.asarray(values, dtype=np.float64).reshape(-1)
    if data.size == 0:
        return np.zeros((bucket_count, 3))
    low, high = data.min(), data.max()
    if low == high:
        counts = np.zeros(bucket_count)
        counts[-1] = data.size
        return np.stack([np.full(bucket_count, high), np.full(bucket_count, high), counts], 1)
    index = np.minimum(np.floor((data - low) / ((high - low) / bucket_count)).astype(np.int64),
                       bucket_count - 1)
    counts = np.bincount(index, minlength=bucket_count).astype(np.float64)
    edges = np.linspace(low, high, bucket_count + 1)
    edges[-1] = high
    return np.stack([edges[:-1], edges[1:], counts], 1)


def png(image):
    """A PNG file (bytes) of a uint8 image of shape (height, width, channels), channels 1, 3
    or 4 (grey, RGB, RGBA), without filtering."""
    height, width, channels = image.shape
    color = {1: 0, 3: 2, 4: 6}[channels]

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = np.concatenate([np.zeros((height, 1), np.uint8),  # filter type 0 on each row
                           np.ascontiguousarray(image, np.uint8).reshape(height, -1)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + \
        chunk(b"IDAT", zlib.compress(rows.tobytes())) + chunk(b"IEND", b"")


class EventFileWriter:
    """Appends summaries to a new event file in `logdir` (created if missing), named as
    TensorFlow names them (`events.out.tfevents.<time>.<host>.<pid>.<n>.v2`)."""

    _count = 0
    _lock = threading.Lock()

    def __init__(self, logdir):
        os.makedirs(logdir, exist_ok=True)
        with EventFileWriter._lock:
            EventFileWriter._count += 1
            n = EventFileWriter._count
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}." \
               f"{n}.v2"
        self.path = os.path.join(logdir, name)
        self._file = open(self.path, "wb")
        self._file.write(record(event(0, file_version="brain.Event:2")))
        self._file.flush()

    def _write(self, step, value):
        if self._file is None:
            raise ValueError(f"the event file '{self.path}' is closed")
        self._file.write(record(event(step, [value])))

    def scalar(self, tag, value, step):
        self._write(step, summary_value(tag, tensor_proto(np.float32(value)), "scalars"))

    def histogram(self, tag, values, step, buckets=30):
        self._write(step, summary_value(tag, tensor_proto(histogram_buckets(values, buckets)),
                                        "histograms"))

    def image(self, tag, images, step, max_outputs=3):
        """`images`: uint8, (n, height, width, channels); the first `max_outputs` are kept."""
        images = np.asarray(images)[:max_outputs]
        height, width = images.shape[1:3]
        strings = [str(width).encode(), str(height).encode()] + [png(i) for i in images]
        self._write(step, summary_value(tag, tensor_proto(strings), "images"))

    def text_tensor(self, tag, text, step, plugin, content=b""):
        """A string tensor for `plugin` (the Keras model's JSON for `graph_keras_model`)."""
        self._write(step, summary_value(tag, tensor_proto(text), plugin, content))

    def flush(self):
        if self._file is not None:
            self._file.flush()

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None

    def __repr__(self):
        return f"<EventFileWriter '{self.path}'>"
