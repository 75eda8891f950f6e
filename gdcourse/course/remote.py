"""The learner's functions and answers, used by the grader from outside the learner's kernel.

A verdict computed inside the learner's kernel cannot be trusted: their code can
monkeypatch ``gdcourse.check``, ``numpy`` or the builtins there. So the grader
runs each test cell in its own process, where the names the cell reads from the
learner's notebook are proxies:

* a value (``largest_lr = 0.08``, an array, a tuple…) is fetched as a copy;
* a function, class or any other object becomes a :class:`RemoteRef`: calling it
  (or reading/setting a public attribute) runs that in the kernel and returns a
  copy of the result. Whatever the learner does in their kernel can only change
  what their own functions return.

Wire format, both directions as text over the Jupyter protocol:

* grader → kernel: a pickle (the kernel may unpickle what the grader sends; the
  reverse never happens). Functions the kernel cannot import (lambdas, closures:
  ``grad_fn`` in a check) travel as *callbacks*: calling one in the kernel sends
  an ``input_request`` that the grader answers with the function's result.
  References to kernel objects travel as their handle.
* kernel → grader: JSON only. Arrays are ``.npy`` bytes, read here by
  :func:`load_npy`, which accepts plain dtypes only (no objects, no pickles) and
  checks the header's shape against the data length before allocating
  anything. Everything else (functions, custom objects) stays in the kernel and
  comes back as a handle.

:func:`serve` and :class:`_Callback` run in the kernel; the rest runs in the grader.
"""

from __future__ import annotations

import base64
import builtins
import io
import json
import pickle
import re
import secrets
import sys
import time
import types

import numpy as np

from gdcourse.course.kernel import REPLY_MIME

__all__ = ["Remote", "RemoteRef", "RemoteFunction", "LearnerError", "ProtocolError", "KernelLost",
           "KernelTimeout", "KernelDied", "OutputLimitExceeded", "MISSING", "encode", "decode", "load_npy",
           "serve"]

CALLBACK_PREFIX = "\x00gdcourse-callback:"
MAX_DEPTH = 64
MAX_TEXT = 2000
MAX_CALLBACK_CHARS = 16 * 2**20


class LearnerError(Exception):
    """An exception raised by the learner's code in the kernel, re-created (by name and message) here."""


class ProtocolError(LearnerError):
    """The kernel's answer was not what the grader asked for (a broken or tampered kernel)."""


class KernelLost(BaseException):  # noqa: N818 - a BaseException so that checks' ``except Exception`` let it through
    """The kernel stopped answering; the test is scored 0 and the kernel restarted."""

    status = "crashed"


class KernelTimeout(KernelLost):
    status = "timeout"


class KernelDied(KernelLost):
    status = "crashed"


class OutputLimitExceeded(KernelLost):
    status = "output limit"


MISSING = object()
"""What :meth:`Remote.fetch` returns for a name the learner's kernel does not define."""


# ---------------------------------------------------------------- kernel → grader: JSON

def _npy_bytes(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def encode(obj, refs=None, depth=0):
    """A JSON-able tree for ``obj``; objects that are not plain data become handles stored in ``refs``."""
    if obj is None or type(obj) in (bool, int, float, str):
        return obj
    if depth < MAX_DEPTH:
        if isinstance(obj, np.ndarray | np.generic) and not np.asarray(obj).dtype.hasobject:
            tag = "scalar" if isinstance(obj, np.generic) else "array"
            return {"t": tag, "v": base64.b64encode(_npy_bytes(np.asarray(obj))).decode("ascii")}
        if isinstance(obj, complex):
            return {"t": "complex", "v": [obj.real, obj.imag]}
        if isinstance(obj, bytes):
            return {"t": "bytes", "v": base64.b64encode(obj).decode("ascii")}
        for plain in (int, float, str):  # subclasses of the plain types (IntEnum, str subclasses…)
            if isinstance(obj, plain):
                return plain(obj)
        if isinstance(obj, tuple | list | set | frozenset):
            tag = "tuple" if isinstance(obj, tuple) else "list" if isinstance(obj, list) else "set"
            return {"t": tag, "v": [encode(item, refs, depth + 1) for item in obj]}
        if isinstance(obj, dict):
            pairs = [[encode(k, refs, depth + 1), encode(v, refs, depth + 1)] for k, v in obj.items()]
            return {"t": "dict", "v": pairs}
    if refs is None:
        raise TypeError(f"cannot send a {type(obj).__name__} without a handle table")
    refs.append(obj)
    return {"t": "ref", "id": len(refs) - 1, "type": type(obj).__name__, "callable": callable(obj),
            "name": str(getattr(obj, "__name__", ""))[:100]}


def load_npy(data: bytes) -> np.ndarray:
    """Read ``.npy`` bytes safely: plain dtypes only, header checked against the data before allocating."""
    if not data.startswith(b"\x93NUMPY"):
        raise ProtocolError("an array did not come as .npy data")
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                       (2, 0): np.lib.format.read_array_header_2_0}[version]
        shape, fortran_order, dtype = read_header(stream)
    except (KeyError, ValueError) as err:
        raise ProtocolError(f"an array header is invalid: {err}") from None
    if dtype.hasobject:
        raise ProtocolError("an array of Python objects cannot be received")
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    offset = stream.tell()
    if count < 0 or count * dtype.itemsize != len(data) - offset:
        raise ProtocolError(f"an array header says shape {shape} of {dtype}, but {len(data) - offset} "
                            "bytes came")
    flat = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return flat.reshape(shape, order="F" if fortran_order else "C").copy()


def decode(tree, remote=None, depth=0):
    """The value for a tree made by :func:`encode`; anything else raises :class:`ProtocolError`."""
    if tree is None or type(tree) in (bool, int, float, str):
        return tree
    if depth > MAX_DEPTH + 1 or not isinstance(tree, dict) or not isinstance(tree.get("t"), str):
        raise ProtocolError("malformed answer from the kernel")
    tag, value = tree["t"], tree.get("v")
    if tag in ("array", "scalar"):
        array = load_npy(_b64(value))
        return array[()] if tag == "scalar" else array
    if tag == "complex" and isinstance(value, list) and len(value) == 2:
        return complex(float(value[0]), float(value[1]))
    if tag == "bytes":
        return _b64(value)
    if tag in ("list", "tuple", "set") and isinstance(value, list):
        items = [decode(item, remote, depth + 1) for item in value]
        return {"list": list, "tuple": tuple, "set": _set}[tag](items)
    if tag == "dict" and isinstance(value, list):
        out = {}
        for pair in value:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise ProtocolError("malformed dict from the kernel")
            key = decode(pair[0], remote, depth + 1)
            try:
                out[key] = decode(pair[1], remote, depth + 1)
            except TypeError:
                raise ProtocolError("a dict key from the kernel is not hashable") from None
        return out
    if tag == "ref" and isinstance(tree.get("id"), int) and remote is not None:
        cls = RemoteFunction if tree.get("callable") is True else RemoteRef
        return cls(remote, tree["id"], str(tree.get("type", "object"))[:100], str(tree.get("name", ""))[:100])
    raise ProtocolError(f"unknown kind of value from the kernel: {tag[:40]!r}")


def _set(items):
    try:
        return set(items)
    except TypeError:
        raise ProtocolError("a set from the kernel holds unhashable items") from None


def _b64(text) -> bytes:
    if not isinstance(text, str):
        raise ProtocolError("malformed binary data from the kernel")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise ProtocolError("malformed base64 data from the kernel") from None


# ---------------------------------------------------------------- grader side: proxies

class RemoteRef:
    """An object that lives in the learner's kernel; public attributes are read and set there."""

    __slots__ = ("_remote", "_id", "_type", "__name__")

    def __init__(self, remote, ident, type_name, name=""):
        object.__setattr__(self, "_remote", remote)
        object.__setattr__(self, "_id", ident)
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "__name__", name or type_name)

    def __getattr__(self, name):
        if name.startswith("_"):  # numpy and others probe dunders: never a round trip for those
            raise AttributeError(name)
        return self._remote.request("getattr", (self._id, name))

    def __setattr__(self, name, value):
        if name.startswith("_"):
            raise AttributeError(f"cannot set {name} on the learner's {self._type}")
        self._remote.request("setattr", (self._id, name, value))

    def __repr__(self):
        named = self.__name__ != self._type
        return f"<your {self._type} {self.__name__}>" if named else f"<your {self._type}>"


class RemoteFunction(RemoteRef):
    """A callable in the learner's kernel (function, class, bound method): calling it runs it there."""

    __slots__ = ()

    def __call__(self, *args, **kwargs):
        return self._remote.request("call", (self._id, args, kwargs))


def _is_kernel_importable(fn) -> bool:
    """Can the kernel get ``fn`` by importing it (so pickle may send it by name)?"""
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    if module is None or module.__name__ == "__main__" or "<" in getattr(fn, "__qualname__", "<"):
        return False
    target = module
    for part in fn.__qualname__.split("."):
        target = getattr(target, part, None)
    return target is fn


class _GraderPickler(pickle.Pickler):
    def __init__(self, stream, remote):
        super().__init__(stream, protocol=pickle.HIGHEST_PROTOCOL)
        self.remote = remote

    def persistent_id(self, obj):
        if isinstance(obj, RemoteRef):
            return ("ref", obj._id)
        if isinstance(obj, types.FunctionType | types.MethodType) and not _is_kernel_importable(
                getattr(obj, "__func__", obj)):
            return ("callback", self.remote.register_callback(obj))
        return None


def _exception(name, message) -> BaseException:
    """An exception like the one the learner's code raised: builtins by class, others by name."""
    valid = isinstance(name, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", name)
    name = name if valid else "Error"
    message = str(message)[:MAX_TEXT]
    builtin = getattr(builtins, name, None)
    if isinstance(builtin, type) and issubclass(builtin, Exception) and builtin is not Exception:
        try:
            return builtin(message)
        except Exception:  # noqa: BLE001 - some builtins need other arguments: fall through
            pass
    return type(name, (LearnerError,), {"__module__": "learner"})(message)


class Remote:
    """The learner's kernel seen from the grader: fetch names, call functions, answer callbacks.

    ``deadline`` (a ``time.monotonic()`` value) bounds every round trip; past it
    the kernel is lost (:class:`KernelTimeout`). The owner restarts the session
    and makes a new :class:`Remote` (handles do not survive a restart).
    """

    def __init__(self, session, deadline=None):
        self.session = session
        self.deadline = deadline
        self.lost = None
        self._callbacks = {}
        self._nonce = None

    def fetch(self, name):
        """The learner's ``name``: a copy of its value, a :class:`RemoteRef`, or :data:`MISSING`."""
        return self.request("get", name)

    def register_callback(self, fn) -> int:
        self._callbacks[len(self._callbacks)] = fn
        return len(self._callbacks) - 1

    def request(self, op, argument):
        if self.lost is not None:
            raise self.lost
        if self._nonce is not None:
            raise ProtocolError("the grader cannot call the learner's code from inside a callback")
        stream = io.BytesIO()
        _GraderPickler(stream, self).dump(argument)
        nonce = secrets.token_hex(8)
        payload = base64.b64encode(stream.getvalue()).decode("ascii")
        code = (f"__import__('gdcourse.course.remote', fromlist=['serve'])"
                f".serve({nonce!r}, {op!r}, {payload!r})")
        remaining = 3600.0 if self.deadline is None else self.deadline - time.monotonic()
        self._nonce = nonce
        try:
            result = self.session.execute(code, max(remaining, 0.0), on_input=self._answer_callback)
        finally:
            self._nonce = None
        if result.kernel_lost:
            self.lost = {"timeout": KernelTimeout, "died": KernelDied, "output limit": OutputLimitExceeded}[
                result.status](result.status)
            raise self.lost
        return self._read_reply(result, nonce)

    def _read_reply(self, result, nonce):
        for text in result.replies:
            try:
                reply = json.loads(text)
            except ValueError:
                continue
            if isinstance(reply, dict) and reply.get("nonce") == nonce:
                break
        else:
            why = f" ({result.ename}: {result.evalue[:200]})" if result.ename else ""
            raise ProtocolError(f"the kernel sent no answer{why}")
        if reply.get("missing") is True:
            return MISSING
        if "raised" in reply:
            raised = reply["raised"]
            raise _exception(*(raised if isinstance(raised, list) and len(raised) == 2 else ["", ""]))
        if "ok" not in reply:
            raise ProtocolError("malformed answer from the kernel")
        return decode(reply["ok"], self)

    def _answer_callback(self, prompt) -> str:
        """Run a grader function the learner's code called in the kernel; reply with its result."""
        if not prompt.startswith(CALLBACK_PREFIX):
            return ""
        try:
            if len(prompt) > MAX_CALLBACK_CHARS:
                raise ProtocolError(f"the arguments of a call are over {MAX_CALLBACK_CHARS // 2**20} MB")
            request = json.loads(prompt[len(CALLBACK_PREFIX):])
            if request.get("nonce") != self._nonce or request.get("callback") not in self._callbacks:
                raise ProtocolError("unknown callback")
            args = decode(request.get("args"), self)
            if not (isinstance(args, tuple) and len(args) == 2 and isinstance(args[0], tuple)
                    and isinstance(args[1], dict) and all(isinstance(k, str) for k in args[1])):
                raise ProtocolError("malformed callback arguments")
            nonce, self._nonce = self._nonce, None  # a callback may not call back into the kernel
            try:
                reply = {"ok": self._callbacks[request["callback"]](*args[0], **args[1])}
            finally:
                self._nonce = nonce
        except Exception as err:  # noqa: BLE001 - the learner's code gets the error, like a local call
            reply = {"raised": [type(err).__name__, str(err)[:MAX_TEXT]]}
        stream = io.BytesIO()
        try:
            _GraderPickler(stream, self).dump(reply)
        except Exception as err:  # noqa: BLE001
            stream = io.BytesIO()
            pickle.dump({"raised": ["TypeError", f"the grader could not send the result: {err}"]}, stream)
        return base64.b64encode(stream.getvalue()).decode("ascii")


# ---------------------------------------------------------------- kernel side

_REFS: list = []
_CURRENT = {"nonce": None}


class _Callback:
    """In the kernel: a grader function; calling it asks the grader through ``input()``."""

    def __init__(self, ident):
        self.ident = ident

    def __call__(self, *args, **kwargs):
        request = {"nonce": _CURRENT["nonce"], "callback": self.ident, "args": encode((args, kwargs), _REFS)}
        answer = builtins.input(CALLBACK_PREFIX + json.dumps(request, allow_nan=True))
        reply = _KernelUnpickler(io.BytesIO(base64.b64decode(answer))).load()
        if "raised" in reply:
            raise _exception(*reply["raised"])
        return reply["ok"]


class _KernelUnpickler(pickle.Unpickler):
    def persistent_load(self, pid):
        kind, ident = pid
        if kind == "callback":
            return _Callback(ident)
        if kind == "ref" and 0 <= ident < len(_REFS):
            return _REFS[ident]
        raise RuntimeError("a reference from before the kernel restarted")


def _publish(nonce, reply):
    from IPython.display import publish_display_data

    reply["nonce"] = nonce
    publish_display_data({REPLY_MIME: json.dumps(reply, allow_nan=True)})


def serve(nonce, op, payload):
    """In the kernel: do one grader request and publish the answer (never raises)."""
    _CURRENT["nonce"] = nonce
    try:
        argument = _KernelUnpickler(io.BytesIO(base64.b64decode(payload))).load()
        if op == "get":
            from IPython import get_ipython

            namespace = get_ipython().user_ns
            reply = {"ok": encode(namespace[argument], _REFS)} if argument in namespace else {"missing": True}
        elif op == "call":
            ident, args, kwargs = argument
            reply = {"ok": encode(_REFS[ident](*args, **kwargs), _REFS)}
        elif op == "getattr":
            ident, name = argument
            reply = {"ok": encode(getattr(_REFS[ident], name), _REFS)}
        elif op == "setattr":
            ident, name, value = argument
            setattr(_REFS[ident], name, value)
            reply = {"ok": None}
        else:
            reply = {"raised": ["ValueError", f"unknown request {op!r}"]}
    except BaseException as err:  # noqa: BLE001 - SystemExit, KeyboardInterrupt, MemoryError: all are answers
        try:
            reply = {"raised": [type(err).__name__, str(err)[:MAX_TEXT]]}
        except BaseException:  # noqa: BLE001 - str() of a hostile exception may raise too
            reply = {"raised": [type(err).__name__, ""]}
    finally:
        _CURRENT["nonce"] = None
    _publish(nonce, reply)
