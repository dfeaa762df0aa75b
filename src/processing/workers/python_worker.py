# hydrant local Lambda runtime: Python worker (written out by hydrant at start;
# the source of truth is src/processing/workers/python_worker.py, embedded at build time).
#
# One long-lived process runs one function's handler, one invocation at a time.
# Protocol on fd 3, a socket to hydrant; fds 1 and 2 go to hydrant's log capture.
# Every message is two frames, each a 4-byte big-endian length and bytes: a JSON
# header, then a body (the event, or the handler's JSON result).
#   worker -> hydrant, once: {"type":"ready","runtime":"python3.11"} or
#                            {"type":"init_error","error":{...},"log":"..."}
#   hydrant -> worker:       {"requestId","invokedFunctionArn","deadlineMs"} + event
#   worker -> hydrant:       {"type":"result"} + JSON result, or
#                            {"type":"error","error":{...},"log":"..."} + ""
import importlib.util
import json
import logging
import os
import struct
import sys
import time
import traceback

PROTO_FD = 3
_request_id = ""


def _read_exact(n):
    parts = []
    while n > 0:
        chunk = os.read(PROTO_FD, n)
        if not chunk:
            os._exit(0)  # hydrant closed the socket: shut down
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def _read_message():
    (n,) = struct.unpack(">I", _read_exact(4))
    header = json.loads(_read_exact(n))
    (m,) = struct.unpack(">I", _read_exact(4))
    return header, _read_exact(m)


def _send(header, body=b""):
    # Handler output must reach the log pipe before the answer reaches hydrant.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    h = json.dumps(header).encode()
    data = memoryview(struct.pack(">I", len(h)) + h + struct.pack(">I", len(body)) + body)
    while data:
        data = data[os.write(PROTO_FD, data):]


class LambdaContext:
    def __init__(self, request_id, invoked_function_arn, deadline_ms):
        env = os.environ
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(0, int(self._deadline_ms - time.time() * 1000))

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return "LambdaContext([aws_request_id=%s,function_name=%s,invoked_function_arn=%s])" % (
            self.aws_request_id, self.function_name, self.invoked_function_arn)


def _error(etype, message, stack):
    err = {"errorMessage": message, "errorType": etype, "requestId": _request_id,
           "stackTrace": stack}
    # As Lambda's log line: "[ERROR] Type: message" then the traceback.
    lines = ["[ERROR] %s: %s" % (etype, message) if message else "[ERROR] " + etype]
    if stack:
        lines.append("Traceback (most recent call last):")
        for item in stack:
            lines.extend(item.rstrip("\n").split("\n"))
    return err, "\n".join(lines)


def _exception_error(skip_frames):
    etype, value, tb = sys.exc_info()
    # The runtime's own frames (this file, importlib) are not the user's business.
    frames = [f for f in traceback.extract_tb(tb)[skip_frames:]
              if f.filename != __file__ and not f.filename.startswith("<frozen")]
    return _error(etype.__name__, str(value), traceback.format_list(frames))


class _RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _request_id
        return True


def _setup_logging():
    # Lambda installs a root handler with this format; the level stays WARNING.
    logging.Formatter.converter = time.gmtime
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
        "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)


def _load_handler(task_root, module_file, module_name, function_name):
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    if not os.path.isfile(module_file):
        return None, _error("Runtime.ImportModuleError",
                            "Unable to import module '%s': No module named '%s'"
                            % (module_name, module_name), [])
    try:
        spec = importlib.util.spec_from_file_location(module_name, module_file)
        if spec is None:
            raise ImportError("No module named '%s'" % module_name)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    except SyntaxError as e:
        return None, _error("Runtime.UserCodeSyntaxError",
                            "Syntax error in module '%s': %s" % (module_name, e),
                            ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno,
                                                              (e.text or "").strip())])
    except ImportError as e:
        return None, _error("Runtime.ImportModuleError",
                            "Unable to import module '%s': %s" % (module_name, e), [])
    except Exception:
        return None, _exception_error(0)
    fn = getattr(module, function_name, None)
    if fn is None:
        return None, _error("Runtime.HandlerNotFound",
                            "Handler '%s' missing on module '%s'" % (function_name, module_name),
                            [])
    return fn, None


def main():
    global _request_id
    os.set_inheritable(PROTO_FD, False)  # the handler's own subprocesses must not get it
    # The runtime directory is sys.path[0]; handler code must not import from it.
    if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
        sys.path.pop(0)
    task_root, module_file, module_name, function_name = sys.argv[1:5]
    os.chdir(task_root)
    try:
        sys.stdout.reconfigure(line_buffering=True)
        sys.stderr.reconfigure(line_buffering=True)
    except Exception:
        pass
    _setup_logging()
    handler, init_error = _load_handler(task_root, module_file, module_name, function_name)
    if init_error is not None:
        err, log = init_error
        _send({"type": "init_error", "error": err, "log": log})
        return
    _send({"type": "ready", "runtime": "python%d.%d" % sys.version_info[:2]})
    while True:
        header, body = _read_message()
        _request_id = header["requestId"]
        os.environ["AWS_LAMBDA_REQUEST_ID"] = _request_id
        context = LambdaContext(_request_id, header["invokedFunctionArn"], header["deadlineMs"])
        try:
            event = json.loads(body)
        except ValueError as e:
            err, log = _error("Runtime.UnmarshalError",
                              "Unable to unmarshal input: %s" % e, [])
            _send({"type": "error", "error": err, "log": log})
            continue
        try:
            result = handler(event, context)
        except Exception:
            err, log = _exception_error(1)
            _send({"type": "error", "error": err, "log": log})
            continue
        try:
            payload = json.dumps(result).encode()
        except Exception as e:
            err, log = _error("Runtime.MarshalError",
                              "Unable to marshal response: %s" % e, [])
            _send({"type": "error", "error": err, "log": log})
            continue
        _send({"type": "result"}, payload)


main()
