#!/usr/bin/python3
"""Interop peer: behaves on the wire like Codility's Python redis-rpc (client and server).

Written from the observations in PROTOCOL.md section 2 (the original code is not used). Comments
"P2: ..." name the fact each behaviour reproduces.

  codility_peer.py server --url URL [--prefix P] [--name KIND] [--id ID] [--once N]
  codility_peer.py client --url URL [--prefix P] [--timeout SECONDS] SCRIPT

SCRIPT is calculator | kwargs | errors | types | nan | raw:{"name":..,"kw":{..}}.
The server prints READY right before its first pop. The client prints one JSON line per call:
  {"call": NAME, "ok": true, "value": V}
  {"call": NAME, "ok": false, "kind": "remote"|"timeout", "error": TEXT, "traceback": TEXT|null}
Run with Debian's /usr/bin/python3 (it has python3-redis).
"""
import argparse
import json
import os
import math
import signal
import sys
import threading
import time
import traceback
import uuid
from datetime import datetime

import redis

EXPIRE = 120           # P2: call queues and result lists get EXPIRE 120 in the same MULTI
BLPOP_TIMEOUT = 1      # P2: the server pops all its queues with a 1 s timeout
HEARTBEAT_PERIOD = 2   # P2: SET ... EX 4, refreshed every 2 s
HEARTBEAT_TTL = 4


def calls_key(prefix, func):
    return "%s:%s:calls" % (prefix, func)


def result_key(prefix, func, call_id):
    return "%s:%s:result:%s" % (prefix, func, call_id)


def push_with_expiry(r, key, payload):
    # P2: MULTI; RPUSH; EXPIRE 120; EXEC (a redis-py pipeline is a MULTI transaction).
    pipe = r.pipeline(transaction=True)
    pipe.rpush(key, payload)
    pipe.expire(key, EXPIRE)
    pipe.execute()


def now_iso():
    # P2: Python writes local time without a zone, e.g. 2024-05-01T12:00:00.123456.
    return datetime.now().isoformat()


# --------------------------------------------------------------------------------- the server
class Calculator:
    """Keyword-only in spirit: the protocol carries keyword arguments only (P2)."""

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
        self.acc /= number  # 0 -> ZeroDivisionError('float division by zero')
        return self.acc

    def val(self):
        return self.acc


def make_functions():
    calc = Calculator()
    funcs = {name: getattr(calc, name) for name in ("clr", "add", "sub", "mul", "div", "val")}
    funcs["echo"] = lambda x: x
    funcs["describe"] = lambda **kw: {"kw": kw}
    funcs["nan"] = lambda: float("nan")  # P2: json.dumps writes a bare NaN
    return funcs


def send_result(r, prefix, func, call_id, **fields):
    message = {"ts": now_iso()}
    message.update(fields)
    # json.dumps defaults: spaced separators, ensure_ascii, NaN allowed.
    push_with_expiry(r, result_key(prefix, func, call_id), json.dumps(message))


def heartbeat(r, key, stop):
    while not stop.is_set():
        r.set(key, "1", ex=HEARTBEAT_TTL)
        stop.wait(HEARTBEAT_PERIOD)


def serve(r, prefix, name, server_id, once):
    funcs = make_functions()
    by_queue = {calls_key(prefix, f).encode(): f for f in funcs}
    queues = sorted(by_queue)
    stop = threading.Event()
    threading.Thread(target=heartbeat, args=(r, "%s:%s:%s:alive" % (prefix, name, server_id), stop),
                     daemon=True).start()
    handled = 0
    turn = 0
    print("READY", flush=True)
    while once is None or handled < once:
        # P2: all function queues in one BLPOP, key order rotated on every pop for fairness.
        k = turn % len(queues)
        popped = r.blpop(queues[k:] + queues[:k], BLPOP_TIMEOUT)
        turn += 1
        if popped is None:
            continue
        queue, raw = popped
        func = by_queue[queue]
        try:
            request = json.loads(raw.decode())
        except Exception:  # the original logs and goes on
            print("unparseable call on %s" % queue.decode(), file=sys.stderr, flush=True)
            continue
        handled += 1
        try:
            value = funcs[func](**request.get("kw", {}))  # P2: missing kw = no arguments
        except Exception as e:
            # P2: "Type: message", plus err_traceback (the traceback minus its first line).
            tb = traceback.format_exc().split("\n", 1)[1]
            send_result(r, prefix, func, request["id"], err="%s: %s" % (type(e).__name__, e), err_traceback=tb)
        else:
            # P2: the stray "verbose": false comes along with a successful result.
            send_result(r, prefix, func, request["id"], res=value, verbose=False)
    stop.set()


# --------------------------------------------------------------------------------- the client
class RemoteError(Exception):
    def __init__(self, message, tb):
        super().__init__(message)
        self.traceback = tb


class CallTimeout(Exception):
    pass


def call(r, prefix, timeout, func, kw):
    call_id = str(uuid.uuid4())  # P2: uuid4 ids
    push_with_expiry(r, calls_key(prefix, func), json.dumps({"id": call_id, "ts": now_iso(), "kw": kw}))
    deadline = time.time() + timeout
    key = result_key(prefix, func, call_id)
    while True:
        left = deadline - time.time()
        if left <= 0:
            raise CallTimeout("timeout")  # P2: an unknown function simply times out
        popped = r.blpop([key], math.ceil(min(BLPOP_TIMEOUT, left)))
        if popped is not None:
            break
    result = json.loads(popped[1].decode())  # accepts NaN
    if result.get("err"):
        raise RemoteError(result["err"], result.get("err_traceback"))
    return result.get("res")


def script_calls(script):
    if script == "calculator":
        return [("clr", {}), ("add", {"number": 5}), ("sub", {"number": 3}), ("mul", {"number": 4}),
                ("div", {"number": 2}), ("val", {})]
    if script == "kwargs":
        return [("hypot", {"x": 3, "y": 4}), ("hypot", {"y": 8, "x": 6})]
    if script == "errors":
        return [("clr", {}), ("div", {"number": 0}), ("add", {"number": "five"}), ("add", {}),
                ("nope", {}), ("val", {})]
    if script == "types":
        values = [0, -42, 9007199254740993, 1e-07, -0.0, 2.5, "h\u00e9llo \U0001F600", "", [1, [2, "x"]],
                  {"a": {"b": [True, None]}}, None, True, False, [], {}]
        return [("echo", {"x": v}) for v in values]
    if script == "nan":
        return [("nan", {})]
    if script.startswith("raw:"):
        spec = json.loads(script[4:])
        return [(spec["name"], spec.get("kw", {}))]
    raise SystemExit("unknown script: " + script)


def run_client(r, prefix, timeout, script):
    for func, kw in script_calls(script):
        line = {"call": func}
        try:
            line.update(ok=True, value=call(r, prefix, timeout, func, kw))
        except RemoteError as e:
            line.update(ok=False, kind="remote", error=str(e), traceback=e.traceback)
        except CallTimeout as e:
            line.update(ok=False, kind="timeout", error=str(e))
        print(json.dumps(line, ensure_ascii=False), flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["server", "client"])
    p.add_argument("--url", required=True)
    p.add_argument("--prefix", default="redis_rpc")
    p.add_argument("--name", default="peer")
    p.add_argument("--id", default="py1")
    p.add_argument("--once", type=int)
    p.add_argument("--timeout", type=float, default=1.0)  # P2: clients wait 1 s by default
    p.add_argument("script", nargs="?")
    a = p.parse_intermixed_args()
    # os._exit, not sys.exit: a SystemExit raised inside a finaliser (redis-py's
    # Pipeline.__del__) is swallowed and the server would keep popping.
    signal.signal(signal.SIGTERM, lambda *_: (sys.stdout.flush(), os._exit(0)))
    r = redis.Redis.from_url(a.url, socket_timeout=10)
    if a.mode == "server":
        serve(r, a.prefix, a.name, a.id, a.once)
    else:
        if not a.script:
            p.error("client needs a script")
        run_client(r, a.prefix, a.timeout, a.script)


if __name__ == "__main__":
    main()
