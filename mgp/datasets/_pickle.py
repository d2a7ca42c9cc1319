"""Reading the pickles inside Keras's dataset files without the pickle machinery.

Keras's `imdb.npz` and `reuters.npz` keep their ragged sequences as NumPy object arrays, which
NumPy can only store as a pickle inside the `.npz`; CIFAR's Python distribution is a tarball of
pickled dicts. `pickle.load` on such bytes calls whatever the stream names, so a tampered file
runs code. `loads` decodes the opcode stream itself instead and builds only plain data: None,
bools, ints, byte and text strings, flat tuples, lists, dicts, and NumPy arrays. An array
pickle names three NumPy objects (`_reconstruct`, `ndarray`, `dtype`); these are recognised by
name and their arguments checked, never imported or called. Every other opcode (floats, sets,
object construction, extension codes, out-of-band buffers) and every other name is refused,
with an error naming the file.

Memory stays proportional to the stream: every declared length is checked against the bytes
left before anything is taken, an array's declared shape must match the data it carries, and
the memo (the stream's back-references) may repeat only immutable values, so a short stream
cannot fan one list out into millions.

Lists of ints (the sequences of IMDB and Reuters, CIFAR's labels) come back as int64 arrays.
The pickler writes them as runs of up to 1000 int opcodes between MARK and APPENDS; a regular
expression finds each run's extent as the stream is read, and all runs are decoded together
with NumPy afterwards, rather than one opcode at a time in Python.
"""
import io
import math
import re
import struct
import zipfile
import zlib
from itertools import chain

import numpy as np

# The three NumPy names an array pickle uses; `numpy.core` is NumPy 1's spelling, `numpy._core`
# NumPy 2's.
_NUMPY_NAMES = {
    ("numpy", "ndarray"): "ndarray",
    ("numpy", "dtype"): "dtype",
    ("numpy.core.multiarray", "_reconstruct"): "_reconstruct",
    ("numpy._core.multiarray", "_reconstruct"): "_reconstruct",
}
# The dtypes the files hold: object arrays of sequences (IMDB, Reuters), uint8 images (CIFAR).
_DTYPES = {"O8": np.dtype(object), "u1": np.dtype(np.uint8)}
_MAX_PROTOCOL = 5
# Largest .npy member `read_npz` reads; the biggest in Keras's files, IMDB's x_train, holds about
# 6 million word indices of 2 to 5 bytes each. The decoded data takes a few times a member's size.
MAX_NPY_BYTES = 128 << 20
_MAX_NAME = 256  # a GLOBAL's module or attribute name; NumPy's are a few dozen characters

# BININT1 (K, 1 byte), BININT2 (M, 2 bytes unsigned), BININT (J, 4 bytes signed): one int each
_INT_RUN = re.compile(rb"(?:K.|M..|J....)+", re.DOTALL)
_MAX_RUN_BYTES = 5 * 1000  # the pickler appends at most 1000 items at a time
_INT_SIZE = np.zeros(256, np.int64)
_INT_SIZE[[ord("K"), ord("M"), ord("J")]] = 2, 3, 5

_I32 = struct.Struct("<i")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


def loads(data, source):
    """Decode the pickle `data` (bytes) into plain Python data and NumPy arrays.

    Lists whose items are all ints come back as int64 arrays, other lists as lists; Python 2
    byte strings as `bytes` (as `pickle.loads(data, encoding="bytes")` gives them); arrays of
    numeric dtype are read-only views of `data`.

    Raises:
        ValueError: naming `source`, when the stream uses an opcode or name outside what the
            dataset files hold, is truncated, malformed, or has bytes after its end.
    """
    try:
        return _Decoder(data, source).run()
    except (IndexError, struct.error) as e:
        raise ValueError(f"{source}: the pickle is truncated ({e})") from e


def read_npz(path, keys, max_bytes=MAX_NPY_BYTES):
    """Read the arrays `keys` from an `.npz` archive, object arrays through `loads`.

    Numeric arrays are read as `np.load(allow_pickle=False)` reads them; an object array's
    pickle is decoded by `loads`, so its sequences come back as int64 arrays. A member larger
    than `max_bytes` once decompressed is refused before it is read.

    Returns:
        A dict from key to ndarray.
    Raises:
        ValueError: naming `path` (and the member), when the file is not a readable `.npz`,
            lacks a key, holds a member too large or malformed, or a pickle `loads` refuses.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            missing = [k for k in keys if f"{k}.npy" not in names]
            if missing:
                raise ValueError(f"missing arrays {missing} (has "
                                 f"{sorted(n[:-4] for n in names if n.endswith('.npy'))})")
            arrays = {}
            for k in keys:
                info = archive.getinfo(f"{k}.npy")
                if info.file_size > max_bytes:
                    raise ValueError(f"array {k!r} declares {info.file_size} bytes, more than "
                                     f"the {max_bytes} such a dataset file needs")
                arrays[k] = _read_npy(archive.read(info), f"{path} ({k}.npy)")
            return arrays
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, ValueError) as e:
        if str(e).startswith(f"{path} ("):  # already names the file and member
            raise
        raise ValueError(f"{path}: not a valid .npz dataset file ({e})") from e


def _read_npy(raw, source):
    fp = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(fp)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise ValueError(f"unknown .npy format version {version}")
        # versions 2 and 3 differ only in the header's text encoding
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
            np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(fp)
    except (ValueError, TypeError, SyntaxError, OverflowError) as e:
        raise ValueError(f"{source}: not a valid .npy array ({e})") from e
    body = raw[fp.tell():]
    if dtype == object:
        arr = loads(body, source)
        if not (type(arr) is np.ndarray and arr.dtype == object and arr.shape == shape):
            raise ValueError(f"{source}: its header announces an object array of shape {shape}, "
                             f"its pickle holds {_describe(arr)}")
        return arr
    if dtype.kind not in "biuf" or dtype.hasobject:
        raise ValueError(f"{source}: holds dtype {dtype}, not the numbers such a file holds")
    nbytes = math.prod(shape) * dtype.itemsize
    if len(body) != nbytes:
        raise ValueError(f"{source}: its header announces shape {shape} of {dtype} ({nbytes} "
                         f"bytes), its data has {len(body)} bytes")
    order = "F" if fortran else "C"
    return np.frombuffer(body, dtype).reshape(shape, order=order).copy(order="K")


class _Name:
    """One of the NumPy names the stream mentioned, as a tag: never resolved to an object."""
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


class _Pending:
    """An array or dtype that REDUCE announced and BUILD has yet to fill in."""
    __slots__ = ("dtype", "kind", "value")

    def __init__(self, kind, dtype=None):
        self.kind, self.dtype, self.value = kind, dtype, None


class _Run:
    """A run of int opcodes, `data[start:end]`, decoded later with all the others."""
    __slots__ = ("end", "start", "values")

    def __init__(self, start, end):
        self.start, self.end, self.values = start, end, None


class _List:
    """A list as the stream builds it: items, some of them `_Run`s still to be decoded."""
    __slots__ = ("items",)

    def __init__(self):
        self.items = []


_MARK = object()  # stands for the MARK opcode on the stack
_ATOMS = (int, str, bytes, type(None), np.dtype, _Name)  # (bool is an int)


class _Decoder:
    def __init__(self, data, source):
        self.data, self.source = data, source
        self.stack, self.marks, self.memo = [], [], {}
        self.runs = []  # every _Run not yet decoded

    def fail(self, message):
        raise ValueError(f"{self.source}: {message}; refusing to read it (these dataset files "
                         f"never do that)")

    def run(self):  # one branch per opcode, as in pickle's own decoder
        data, stack, memo = self.data, self.stack, self.memo
        append = stack.append
        pos = 0
        while True:
            op = data[pos]
            pos += 1
            # ---- ints
            if op == 0x4B:  # BININT1
                append(data[pos])
                pos += 1
            elif op == 0x4D:  # BININT2
                append(data[pos] | data[pos + 1] << 8)
                pos += 2
            elif op == 0x4A:  # BININT
                append(_I32.unpack_from(data, pos)[0])
                pos += 4
            elif op == 0x8A:  # LONG1: a little-endian two's-complement int of n bytes
                n = data[pos]
                if n > 8:
                    self.fail(f"it holds an integer of {n} bytes (int64 takes at most 8)")
                append(int.from_bytes(self.take(pos + 1, n), "little", signed=True))
                pos += 1 + n
            # ---- containers
            elif op == 0x28:  # MARK
                run = _INT_RUN.match(data, pos)
                if run and run.end() - pos <= _MAX_RUN_BYTES and stack \
                        and data[run.end():run.end() + 1] == b"e" and type(stack[-1]) is _List:
                    # MARK, ints, APPENDS onto a list: keep the run's extent, decode it later
                    self.runs.append(_Run(pos, run.end()))
                    stack[-1].items.append(self.runs[-1])
                    pos = run.end() + 1
                else:
                    self.marks.append(len(stack))
                    append(_MARK)
            elif op == 0x65:  # APPENDS
                items = self.pop_mark()
                self.top(_List).items.extend(items)
            elif op == 0x61:  # APPEND
                item = self.pop()
                self.top(_List).items.append(item)
            elif op == 0x5D:  # EMPTY_LIST
                append(_List())
            elif op == 0x29:  # EMPTY_TUPLE
                append(())
            elif op == 0x74:  # TUPLE
                append(tuple(self.pop_mark()))
            elif 0x85 <= op <= 0x87:  # TUPLE1, TUPLE2, TUPLE3
                n = op - 0x84
                if len(stack) - (self.marks[-1] + 1 if self.marks else 0) < n:
                    self.fail("it builds a tuple from too few items")
                items = tuple(stack[-n:])
                del stack[-n:]
                append(items)
            elif op == 0x7D:  # EMPTY_DICT
                append({})
            elif op == 0x75:  # SETITEMS
                self.setitems(self.pop_mark())
            elif op == 0x73:  # SETITEM
                value = self.pop()
                self.setitems([self.pop(), value])
            # ---- constants and strings
            elif op == 0x4E:  # NONE
                append(None)
            elif op == 0x88 or op == 0x89:  # NEWTRUE, NEWFALSE
                append(op == 0x88)
            elif op == 0x49:  # INT: protocol 1 spells booleans "I01\n" and "I00\n"
                line = self.take(pos, 3)
                if line not in (b"00\n", b"01\n"):
                    self.fail("it holds a text integer (only the booleans I00 and I01 are read)")
                append(line == b"01\n")
                pos += 3
            elif op == 0x55 or op == 0x43:  # SHORT_BINSTRING (Python 2 str), SHORT_BINBYTES
                n = data[pos]
                append(self.take(pos + 1, n))
                pos += 1 + n
            elif op == 0x54 or op == 0x42:  # BINSTRING, BINBYTES
                n = _U32.unpack_from(data, pos)[0]
                append(self.take(pos + 4, n))
                pos += 4 + n
            elif op == 0x8C:  # SHORT_BINUNICODE
                n = data[pos]
                append(self.text(self.take(pos + 1, n)))
                pos += 1 + n
            elif op == 0x58:  # BINUNICODE
                n = _U32.unpack_from(data, pos)[0]
                append(self.text(self.take(pos + 4, n)))
                pos += 4 + n
            # ---- the memo: the stream's back-references
            elif op == 0x71:  # BINPUT
                self.put(data[pos])
                pos += 1
            elif op == 0x72:  # LONG_BINPUT
                self.put(_U32.unpack_from(data, pos)[0])
                pos += 4
            elif op == 0x94:  # MEMOIZE
                self.put(len(memo))
            elif op == 0x68:  # BINGET
                append(self.get(data[pos]))
                pos += 1
            elif op == 0x6A:  # LONG_BINGET
                append(self.get(_U32.unpack_from(data, pos)[0]))
                pos += 4
            # ---- NumPy's names, and the two calls an array pickle makes
            elif op == 0x63:  # GLOBAL: "module\nname\n"
                module, pos = self.line(pos)
                name, pos = self.line(pos)
                append(self.numpy_name(module, name))
            elif op == 0x93:  # STACK_GLOBAL
                name, module = self.pop(), self.pop()
                if not (type(module) is str and type(name) is str):
                    self.fail("its STACK_GLOBAL takes names that are not strings")
                append(self.numpy_name(module, name))
            elif op == 0x52:  # REDUCE
                args = self.pop()
                append(self.reduce(self.pop(), args))
            elif op == 0x62:  # BUILD
                state = self.pop()
                append(self.build(self.pop(), state))
            # ---- framing
            elif op == 0x80:  # PROTO
                if pos != 1 or data[pos] > _MAX_PROTOCOL:
                    self.fail(f"its PROTO opcode at offset {pos - 1} is misplaced or names "
                              f"an unknown protocol")
                pos += 1
            elif op == 0x95:  # FRAME: a length hint for buffered readers; all is in memory
                self.take(pos + 8, _U64.unpack_from(data, pos)[0])
                pos += 8
            elif op == 0x2E:  # STOP
                if pos != len(data):
                    self.fail(f"its pickle stops at offset {pos} of {len(data)} bytes")
                if len(stack) != 1 or self.marks:
                    self.fail("its pickle stops with an unbalanced stack")
                return self.finish(stack[0])
            else:
                self.fail(f"it uses pickle opcode 0x{op:02x} ({_opcode_name(op)}) at offset "
                          f"{pos - 1}")

    # ---- the stack

    def take(self, pos, n):
        """The `n` bytes at `pos`, after checking that the stream holds that many."""
        if n > len(self.data) - pos:
            self.fail(f"it declares {n} bytes at offset {pos}, but only "
                      f"{max(len(self.data) - pos, 0)} remain")
        return self.data[pos:pos + n]

    def pop(self):
        if not self.stack or self.stack[-1] is _MARK:
            self.fail("it takes an item from an empty stack")
        return self.stack.pop()

    def pop_mark(self):
        if not self.marks:
            self.fail("it closes a MARK it never opened")
        start = self.marks.pop()
        items = self.stack[start + 1:]
        del self.stack[start:]
        return items

    def top(self, kind):
        if not self.stack or type(self.stack[-1]) is not kind:
            self.fail(f"it adds items to something that is not a "
                      f"{'list' if kind is _List else 'dict'}")
        return self.stack[-1]

    def setitems(self, items):
        if len(items) % 2:
            self.fail("it gives a dict key without a value")
        d = self.top(dict)
        for key, value in zip(items[::2], items[1::2]):
            if type(key) not in (str, bytes, int):
                self.fail(f"it uses {_describe(key)} as a dict key")
            d[key] = value

    def text(self, raw):
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            self.fail(f"it holds text that is not UTF-8 ({e})")

    def line(self, pos):
        end = self.data.find(b"\n", pos, pos + _MAX_NAME + 1)
        if end < 0:
            self.fail(f"its GLOBAL at offset {pos - 1} has no name of at most {_MAX_NAME} bytes")
        return self.data[pos:end].decode("ascii", "replace"), end + 1

    # ---- the memo

    def put(self, index):
        if not self.stack or self.stack[-1] is _MARK:
            self.fail("it memoizes an empty stack")
        self.memo[index] = self.stack[-1]

    def get(self, index):
        if index not in self.memo:
            self.fail(f"it refers to memo entry {index}, which it never stored")
        obj = self.memo[index]
        if type(obj) is _Pending:
            if obj.value is None:
                self.fail(f"it refers to a numpy {obj.kind} before building it")
            obj = obj.value
        # only immutable values may repeat: a repeated list would alias, and could fan a short
        # stream out into a huge result
        if not _plain(obj):
            self.fail(f"it refers a second time to the same "
                      f"{'list' if type(obj) is _List else type(obj).__name__}")
        return obj

    # ---- NumPy arrays

    def numpy_name(self, module, name):
        if (module, name) not in _NUMPY_NAMES:
            allowed = ", ".join(sorted(f"{m}.{n}" for m, n in _NUMPY_NAMES))
            self.fail(f"its pickle names {module}.{name:.100}; only {allowed} may appear")
        return _Name(_NUMPY_NAMES[module, name])

    def reduce(self, func, args):
        """The two calls an array pickle makes, checked and recorded, never performed."""
        if type(func) is not _Name or type(args) is not tuple:
            self.fail(f"it calls {_describe(func)}")
        if func.name == "_reconstruct":
            # _reconstruct(ndarray, (0,), b"b"): an empty array, which BUILD then fills
            if not (len(args) == 3 and type(args[0]) is _Name and args[0].name == "ndarray"
                    and _plain(args[1]) and args[1] == (0,) and type(args[2]) in (bytes, str)
                    and args[2] in (b"b", "b")):
                self.fail(f"it calls numpy _reconstruct with {_describe(args)}")
            return _Pending("array")
        if func.name == "dtype":
            # dtype("O8", False, True): the type code, then the align and copy flags
            code = args[0] if args else None
            code = code.decode("ascii", "replace") if type(code) is bytes else code
            if not (len(args) == 3 and type(code) is str and code in _DTYPES and _plain(args)
                    and args[1] == 0 and args[2] == 1):
                self.fail(f"it asks for numpy dtype {_describe(args)}; only "
                          f"{', '.join(_DTYPES)} are read")
            return _Pending("dtype", _DTYPES[code])
        self.fail(f"it calls numpy.{func.name}")

    def build(self, obj, state):
        if type(obj) is not _Pending or obj.value is not None:
            self.fail(f"it sets the state of {_describe(obj)}")
        if obj.kind == "dtype":
            # (version, byte order, subarray, names, fields, itemsize, alignment, flags)
            expected = (3, "|", None, None, None, -1, -1, obj.dtype.flags)
            if not (_plain(state) and len(state) == 8 and expected == tuple(
                    s.decode("ascii", "replace") if type(s) is bytes else s for s in state)):
                self.fail(f"it gives numpy dtype {obj.dtype} the state {_describe(state)}, not "
                          f"{expected}")
            obj.value = obj.dtype
        else:
            obj.value = self.array(state)
        return obj.value

    def array(self, state):
        # ndarray state: (version, shape, dtype, Fortran order, data)
        if not (type(state) is tuple and len(state) == 5 and type(state[0]) is int
                and state[0] == 1):
            self.fail(f"it gives a numpy array the state {_describe(state)}")
        _, shape, dtype, fortran, data = state
        if not (type(shape) is tuple and all(type(d) is int and d >= 0 for d in shape)):
            self.fail(f"it gives a numpy array the shape {_describe(shape)}")
        if not isinstance(dtype, np.dtype) or not (_plain(fortran) and fortran in (0, 1)):
            self.fail(f"it gives a numpy array the dtype {_describe(dtype)} and order "
                      f"{_describe(fortran)}")
        count, order = math.prod(shape), ("F" if fortran else "C")
        if dtype == object:
            if type(data) is not _List:
                self.fail(f"it declares an object array of shape {shape} but gives it "
                          f"{_describe(data)}")
            # the items themselves, as Python objects (a run of ints is many items)
            items = list(chain.from_iterable(x.values.tolist() if type(x) is _Run else (x,)
                                             for x in self.finish_lists(data.items)))
            if len(items) != count:
                self.fail(f"it declares an object array of shape {shape} but gives it "
                          f"{len(items)} items")
            return np.fromiter(items, dtype=object, count=count).reshape(shape, order=order)
        nbytes = count * dtype.itemsize
        if type(data) is not bytes or len(data) != nbytes:
            self.fail(f"it declares a {dtype} array of shape {shape} ({nbytes} bytes) but "
                      f"gives it {_describe(data)}")
        return np.frombuffer(data, dtype=dtype).reshape(shape, order=order)

    # ---- the end: decoding the runs of ints, and turning lists into lists or int64 arrays

    def finish(self, obj):
        if type(obj) not in (dict, _List, np.ndarray):
            self.fail(f"its pickle holds {_describe(obj)}, not an array, list or dict")
        return self.finish_lists([obj])[0]

    def finish_lists(self, objs):
        """`objs` with every `_List` inside them (in lists and dicts) made a list or an array."""
        self.decode_runs()
        # parents before children, so reversed: children are finished before their parents
        found, todo = [], [(objs, i) for i in range(len(objs))]
        while todo:
            parent, key = todo.pop()
            x = parent[key]
            if type(x) is _List:
                found.append((parent, key))
                todo.extend((x.items, i) for i, item in enumerate(x.items)
                            if type(item) in (_List, dict, tuple))
            elif type(x) is dict:
                todo.extend((x, k) for k, v in x.items() if type(v) in (_List, dict, tuple))
            elif type(x) is tuple and not _plain(x):
                self.fail("it nests a list, dict or tuple inside a tuple")
        for parent, key in reversed(found):
            parent[key] = _finish_list(parent[key].items)
        return objs

    def decode_runs(self):
        if not self.runs:
            return
        starts = np.array([r.start for r in self.runs], np.int64)
        ends = np.array([r.end for r in self.runs], np.int64)
        values, first = _decode_ints(np.frombuffer(self.data, np.uint8), starts, ends)
        for r, a, b in zip(self.runs, first[:-1].tolist(), first[1:].tolist()):
            r.values = values[a:b]
        self.runs = []


def _plain(x):
    """An immutable value, or a flat tuple of them: safe to repeat and to compare with `==`."""
    return isinstance(x, _ATOMS) or type(x) is tuple and all(isinstance(v, _ATOMS) for v in x)


def _decode_ints(buf, starts, ends):
    """Decode the runs of int opcodes `buf[starts[i]:ends[i]]` into one int64 array.

    An opcode's size depends on the opcode, so each run is walked one opcode at a time, but all
    runs in step: the loop goes round once per opcode of the longest run (at most
    `_MAX_RUN_BYTES // 2`), not once per int. Returns the values and, for each run, the index
    of its first value (and, last, the total).
    """
    pos, end, run = starts, ends, np.arange(len(starts))
    steps = []
    while len(pos):
        steps.append((pos, run))
        pos = pos + _INT_SIZE[buf[pos]]
        live = pos < end
        pos, end, run = pos[live], end[live], run[live]
    at = np.concatenate([p for p, _ in steps])
    run = np.concatenate([r for _, r in steps])
    step = np.repeat(np.arange(len(steps)), [len(p) for p, _ in steps])
    first = np.concatenate([[0], np.cumsum(np.bincount(run, minlength=len(starts)))])
    opcode_at = np.empty_like(at)
    opcode_at[first[run] + step] = at  # in stream order: run by run, opcode by opcode
    ops = buf[opcode_at]
    values = buf[opcode_at + 1].astype(np.int64)
    wide = np.flatnonzero(ops != ord("K"))
    values[wide] |= buf[opcode_at[wide] + 2].astype(np.int64) << 8
    j = np.flatnonzero(ops == ord("J"))
    word = values[j] | (buf[opcode_at[j] + 3].astype(np.int64) << 16
                        | buf[opcode_at[j] + 4].astype(np.int64) << 24)
    values[j] = word - (word >> 31 << 32)  # BININT is signed
    return values, first


def _finish_list(items):
    """A list's items as an int64 array when they are all ints (or decoded runs), else a list."""
    if len(items) == 1 and type(items[0]) is _Run:
        return items[0].values
    if all(type(x) is _Run or type(x) is int for x in items):
        return np.fromiter(chain.from_iterable(x.values if type(x) is _Run else (x,)
                                               for x in items), np.int64)
    return list(chain.from_iterable(x.values.tolist() if type(x) is _Run else (x,)
                                    for x in items))


def _describe(x, depth=0):
    """A short description of a decoded value for an error message (never a huge repr)."""
    if isinstance(x, (int, type(None))) or type(x) in (str, bytes) and len(x) <= 40:
        return repr(x)
    if type(x) is tuple and len(x) <= 8 and depth < 3:
        return "(" + ", ".join(_describe(v, depth + 1) for v in x) + \
            ("," if len(x) == 1 else "") + ")"
    if type(x) is _Name:
        return f"the numpy name {x.name}"
    if type(x) is _List:
        return f"a list of {len(x.items)} items"
    if type(x) is _Pending:
        return f"a numpy {x.kind} being built"
    if type(x) is np.ndarray:
        return f"a numpy {x.dtype} array of shape {x.shape}"
    if isinstance(x, np.dtype):
        return f"numpy dtype {x}"
    if type(x) in (str, bytes, tuple, dict):
        return f"a {type(x).__name__} of length {len(x)}"
    return f"a {type(x).__name__}"


def _opcode_name(op):
    import pickletools  # only for its table of opcode names; it decodes nothing here

    return next((o.name for o in pickletools.opcodes if ord(o.code) == op), "unknown")
