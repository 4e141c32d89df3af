#!/usr/bin/python3
"""Interop peer: behaves on the wire like the original Python redisrpc (0.3.x, redis-py 4.3).

Written from the observations in PROTOCOL.md section 1 (the original code is not used). Section
references in comments ("P1: ...") name the fact each quirk reproduces.

  classic_peer.py server --url URL --queue Q [--once N] [--delete-queue]
  classic_peer.py client --url URL --queue Q --timeout SECONDS SCRIPT

SCRIPT is calculator | types | kwargs | errors | wire | raw:{"name":..,"args":[..],"kwargs":{..}}.
The client prints one JSON line per call:
  {"call": NAME, "ok": true, "value": V, "request": BYTES}
  {"call": NAME, "ok": false, "kind": "remote"|"timeout", "error": TEXT, "request": BYTES}
and then a last line END.
Run with Debian's /usr/bin/python3 (it has python3-redis).
"""
import argparse
import json
import os
import random
import signal
import string
import sys

import redis


# --------------------------------------------------------------------------- the served object
class Calculator:
    """The example object of the original project; the accumulator is a float (P1: the Python
    server answers add(5) with {"return_value": 5.0})."""

    def __init__(self):
        self.acc = 0.0

    def clr(self):
        self.acc = 0.0
        return self.acc

    def add(self, number):
        self.acc += number
        return self.acc

    def sub(self, number):
        self.acc -= number
        return self.acc

    def mul(self, number):
        self.acc *= number
        return self.acc

    def div(self, number):
        self.acc /= number  # 0.0 / 0 raises ZeroDivisionError('float division by zero')
        return self.acc

    def val(self):
        return self.acc

    def echo(self, x):
        return x

    def describe(self, *args, **kwargs):
        return {"args": list(args), "kwargs": kwargs}


# The original server exec()s "self.local_object.<name>(<args>)" and so reaches any attribute.
# We only reproduce its answers: a fixed whitelist, arguments passed as data.
EXPOSED = ("clr", "add", "sub", "mul", "div", "val", "echo", "describe")


def dispatch(obj, name, args, kwargs):
    if not isinstance(name, str) or name not in EXPOSED:
        # P1: unknown method -> the AttributeError Python itself raises for a missing attribute.
        raise AttributeError("'%s' object has no attribute '%s'" % (type(obj).__name__, name))
    return getattr(obj, name)(*args, **kwargs)


def serve(r, queue, once, delete_queue):
    if delete_queue:
        r.delete(queue)  # P1: the Python server DELs its queue at start (opt-in here)
    calc = Calculator()
    handled = 0
    print("READY", flush=True)
    while once is None or handled < once:
        _, message = r.blpop(queue, 0)
        handled += 1
        # P1: a malformed message ends the original server's loop; so does it here (uncaught).
        request = json.loads(message)
        response_queue = request["response_queue"]
        call = request["function_call"]
        try:
            value = dispatch(calc, call["name"], call.get("args", ()), call.get("kwargs", {}))
            response = {"return_value": value}
        except Exception as e:  # the original catches everything the call raises
            response = {"exception": repr(e)}  # P1: exception text is repr(exception)
        # P1: json.dumps defaults: ", " and ": " separators, ensure_ascii; no TTL on the reply.
        r.rpush(response_queue, json.dumps(response))


# --------------------------------------------------------------------------------- the client
class RemoteError(Exception):
    pass


class CallTimeout(Exception):
    pass


def random_suffix():
    # P1: response list = <queue>:rpc: + 8 of [A-Z0-9]
    return "".join(random.choice(string.ascii_uppercase + string.digits) for _ in range(8))


class Client:
    def __init__(self, r, queue, timeout):
        self.r, self.queue, self.timeout = r, queue, timeout
        self.last_request = None

    def call(self, name, *args, **kwargs):
        function_call = {"name": name}
        if args:  # P1: "args" only when non-empty
            function_call["args"] = args
        if kwargs:  # P1: "kwargs" only when non-empty
            function_call["kwargs"] = kwargs
        response_queue = self.queue + ":rpc:" + random_suffix()
        # P1: key order function_call, response_queue; spaced separators; \uXXXX escapes.
        message = json.dumps({"function_call": function_call, "response_queue": response_queue})
        self.last_request = message
        self.r.rpush(self.queue, message)
        popped = self.r.blpop(response_queue, self.timeout)
        if popped is None:
            # P1: on timeout the Python client leaves its request queued.
            raise CallTimeout("timeout")
        response = json.loads(popped[1])
        # P1: {"exception": null} counts as success for the Python client.
        if response.get("exception") is not None:
            raise RemoteError(response["exception"])
        if "return_value" not in response:
            raise RemoteError("Malformed RPC Response message")
        return response["return_value"]


TYPES = [0, -42, 9007199254740993, 1e-07, -0.0, 2.5, 5.0,
         "h\u00e9llo w\u00f6rld \U0001F600", "/slash/", "tab\t \"q\" \\ end", "",
         [1, [2, [3, "x"]], {"k": [True, None]}], {"a": 1, "b": {"c": [1, 2]}, "u": "\u00fc"},
         None, True, False, [], {}]


def script_calls(script):
    """Yields (name, args, kwargs) for a named call sequence."""
    if script == "calculator":
        return [("clr", [], {}), ("add", [5], {}), ("sub", [3], {}), ("mul", [4], {}),
                ("div", [2], {}), ("val", [], {})]
    if script == "types":
        return [("echo", [v], {}) for v in TYPES]
    if script == "kwargs":
        return [("describe", [1], {"b": 2})]
    if script == "wire":  # one call per request-format feature, for byte-level tests
        return [("add", [5], {}), ("echo", ["h\u00e9llo w\u00f6rld \U0001F600 /slash/"], {}),
                ("echo", [5.0], {}), ("describe", [1], {"b": 2}), ("val", [], {})]
    if script == "errors":
        return [("clr", [], {}), ("div", [0], {}), ("nope", [], {}), ("val", [], {})]
    if script.startswith("raw:"):
        spec = json.loads(script[4:])
        return [(spec["name"], spec.get("args", []), spec.get("kwargs", {}))]
    raise SystemExit("unknown script: " + script)


def run_client(r, queue, timeout, script):
    client = Client(r, queue, timeout)
    for name, args, kwargs in script_calls(script):
        line = {"call": name}
        try:
            line.update(ok=True, value=client.call(name, *args, **kwargs))
        except RemoteError as e:
            line.update(ok=False, kind="remote", error=str(e))
        except CallTimeout as e:
            line.update(ok=False, kind="timeout", error=str(e))
        line["request"] = client.last_request
        print(json.dumps(line, ensure_ascii=False), flush=True)
    print("END", flush=True)  # lets a reader know it has seen all of the output


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["server", "client"])
    p.add_argument("--url", required=True)
    p.add_argument("--queue", required=True)
    p.add_argument("--once", type=int)
    p.add_argument("--delete-queue", action="store_true")
    p.add_argument("--timeout", type=float, default=0)
    p.add_argument("script", nargs="?")
    a = p.parse_intermixed_args()
    # Exit cleanly (status 0) on SIGTERM, even while blocked in BLPOP.
    # os._exit, not sys.exit: a SystemExit raised inside a finaliser (redis-py's
    # Pipeline.__del__) is swallowed and the server would keep popping.
    signal.signal(signal.SIGTERM, lambda *_: (sys.stdout.flush(), os._exit(0)))
    r = redis.Redis.from_url(a.url)
    if a.mode == "server":
        serve(r, a.queue, a.once, a.delete_queue)
    else:
        if not a.script:
            p.error("client needs a script")
        run_client(r, a.queue, a.timeout, a.script)


if __name__ == "__main__":
    main()
