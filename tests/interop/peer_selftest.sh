#!/usr/bin/env bash
# Self-test of the interop peers: every language's client against every language's server on a
# private redis-server, checking that the peers agree with each other and with PROTOCOL.md §1.
#
#   tests/interop/peer_selftest.sh [-v]        (-v prints every client output line)
#
# Needs redis-server, /usr/bin/python3 + python3-redis, ruby + ruby-redis, php + php-predis.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
PEERS=$HERE/peers
VERBOSE=${1:-}
PY=/usr/bin/python3

TMP=$(mktemp -d)
SOCK=$TMP/redis.sock
URL=unix://$SOCK
redis-server --port 0 --unixsocket "$SOCK" --unixsocketperm 700 --save '' --appendonly no \
  --dir "$TMP" --daemonize no >"$TMP/redis.log" 2>&1 &
REDIS_PID=$!
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  kill "$REDIS_PID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

rcli() { redis-cli -s "$SOCK" "$@"; }
for _ in $(seq 100); do rcli ping >/dev/null 2>&1 && break; sleep 0.05; done
rcli ping >/dev/null || { echo "redis-server did not start"; cat "$TMP/redis.log"; exit 1; }

# peer_cmd LANG: sets CMD to the interpreter + script. Run "${CMD[@]}" as a simple command so that
# $! is the peer process itself (a backgrounded function would be a subshell, and TERM would
# orphan the peer).
peer_cmd() {
  case $1 in
    python) CMD=("$PY" "$PEERS/classic_peer.py") ;;
    ruby) CMD=(ruby "$PEERS/classic_peer.rb") ;;
    php) CMD=(php "$PEERS/classic_peer.php") ;;
  esac
}

start_server() { # start_server LANG ONCE -> waits for READY (bounded)
  : >"$TMP/server.out"
  peer_cmd "$1"
  "${CMD[@]}" server --url "$URL" --queue q --once "$2" >"$TMP/server.out" 2>"$TMP/server.err" &
  SERVER_PID=$!
  for _ in $(seq 200); do
    grep -q READY "$TMP/server.out" && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "server $1 did not print READY"; cat "$TMP/server.err"; return 1
}

stop_server() { # bounded wait for the --once exit, then TERM
  for _ in $(seq 60); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
  kill "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_STATUS=$?
  SERVER_PID=
}

FAILS=0
PASSES=0
# check SERVER CLIENT SCRIPT: validates the client's output lines with a Python checker.
check() {
  local out
  out=$("$PY" - "$1" "$2" "$3" "$TMP/client.out" <<'EOF'
import json, math, re, sys
server, client, script, path = sys.argv[1:]
lines = [json.loads(l) for l in open(path, encoding="utf-8") if l.startswith("{")]
problems = []
def expect(cond, what):
    if not cond:
        problems.append(what)

# Request bytes, per client (PROTOCOL.md §1 table "What the three original clients put on the wire").
patterns = {
    "python": r'\{"function_call": \{"name": "[^"]+"(, "args": \[.*\])?(, "kwargs": \{.*\})?\}, "response_queue": "q:rpc:[A-Z0-9]{8}"\}',
    "ruby": r'\{"function_call":\{"name":"[^"]+","args":\[.*\]\},"response_queue":"q:rpc:[A-Z0-9]{8}"\}',
    "php": r'\{"function_call":\{"name":"[^"]+"(,"args":[\[{].*[\]}])?\},"response_queue":"q:rpc:[A-Za-z0-9]{8}"\}',
}
for l in lines:
    expect(re.fullmatch(patterns[client], l["request"]) is not None, "request format: " + l["request"])
    if client != "ruby":
        expect(all(ord(c) < 128 for c in l["request"]), "non-ASCII in request: " + l["request"])
    if client == "php":
        expect("/" not in l["request"].replace("\\/", ""), "unescaped / from php: " + l["request"])

php = "php" in (server, client)
def same(a, b):
    """Exact equality including int/float and -0.0; PHP turns integral floats into ints."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, float) and isinstance(b, (int, float)):
        if php and isinstance(b, int) and a == int(a):
            return a == b  # 5.0 -> 5 and -0.0 -> -0 (== 0: the sign is lost)
        return type(b) is float and a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b

TYPES = [0, -42, 9007199254740993, 1e-07, -0.0, 2.5, 5.0, "h\u00e9llo w\u00f6rld \U0001F600",
         "/slash/", "tab\t \"q\" \\ end", "", [1, [2, [3, "x"]], {"k": [True, None]}],
         {"a": 1, "b": {"c": [1, 2]}, "u": "\u00fc"}, None, True, False, [], {}]

if script == "calculator":
    expect(len(lines) == 6 and all(l["ok"] for l in lines), "all calls succeed")
    expect(lines and lines[-1].get("value") == 4, "val == 4")
    if lines and lines[-1]["ok"]:
        # Python and Ruby servers answer floats (4.0), PHP answers 4 (P1).
        expect(type(lines[-1]["value"]) is (int if server == "php" else float), "type of val")
elif script == "types":
    expect(len(lines) == len(TYPES), "one line per value")
    for v, l in zip(TYPES, lines):
        expect(l["ok"] and same(v, l.get("value")), "echo %r -> %r" % (v, l.get("value")))
elif script == "kwargs":
    got = lines[0].get("value") if lines else None
    # What each pair yields; the cross-language rows show how the originals mix kwargs up.
    want = {
        ("python", "python"): {"args": [1], "kwargs": {"b": 2}},
        ("ruby", "python"): {"args": [1], "kwargs": {}},          # Ruby server ignores "kwargs"
        ("php", "python"): {"args": [1], "kwargs": {}},           # PHP server ignores "kwargs"
        ("python", "ruby"): {"args": [1, {"b": 2}], "kwargs": {}},
        ("ruby", "ruby"): {"args": [1, {"b": 2}], "kwargs": {}},
        ("php", "ruby"): {"args": [1, {"b": 2}], "kwargs": {}},
        ("python", "php"): {"args": ["0", "b"], "kwargs": {}},    # *{"0":1,"b":2} = its keys
        ("ruby", "php"): {"args": [["0", 1], ["b", 2]], "kwargs": {}},  # *Hash = its pairs
        ("php", "php"): {"args": [1], "kwargs": {"b": 2}},        # named arguments
    }[(server, client)]
    expect(lines and lines[0]["ok"] and got == want, "describe -> %r, want %r" % (got, want))
elif script == "errors":
    expect(len(lines) == 4 and lines[0]["ok"], "clr ok")
    div, nope, val = lines[1], lines[2], lines[3]
    if server == "python":
        expect(div.get("error") == "ZeroDivisionError('float division by zero')", "div text")
        expect(nope.get("error") == "AttributeError(\"'Calculator' object has no attribute 'nope'\")", "nope text")
        expect(val["ok"] and val["value"] == 0.0, "alive after errors")
    elif server == "ruby":
        expect(div.get("error") == "divided by 0", "div text")
        expect(re.fullmatch(r"undefined method `nope' for #<Calculator:0x[0-9a-f]+ @acc=0\.0>",
                            nope.get("error", "")) is not None, "nope text")
        expect(val["ok"] and val["value"] == 0.0, "alive after errors")
    else:  # P1: a method that raises kills the PHP server: everything after times out
        expect([l.get("kind") for l in lines[1:]] == ["timeout"] * 3, "php server died")
    for l in lines[1:3]:
        expect(not l["ok"] and l["kind"] in ("remote", "timeout"), "error line")
elif script == "unknown":
    want = {"python": "AttributeError(\"'Calculator' object has no attribute 'nope'\")",
            "php": 'method "nope" does not exist'}.get(server)
    if want:
        expect(lines[0].get("error") == want, "unknown method text: %r" % lines[0].get("error"))
    else:
        expect(lines[0].get("error", "").startswith("undefined method `nope' for #<Calculator"), "ruby nope")
elif script == "timeout":
    expect(lines[0].get("kind") == "timeout", "times out")
print("\n".join(problems))
EOF
)
  if [ -n "$out" ]; then
    FAILS=$((FAILS + 1)); echo "FAIL $1 server <- $2 client: $3"; echo "$out" | sed 's/^/    /'
    cat "$TMP/client.out" | sed 's/^/    | /'
  else
    PASSES=$((PASSES + 1)); echo "ok   $1 server <- $2 client: $3"
  fi
  [ "$VERBOSE" = -v ] && sed 's/^/    | /' "$TMP/client.out"
}

# keys_left WHAT ALLOWED_REGEX: no keys may remain except those matching ALLOWED_REGEX.
keys_left() {
  local left
  left=$(rcli --raw keys '*' | grep -v -E "${2:-^$}" | grep -v '^$')
  if [ -n "$left" ]; then FAILS=$((FAILS + 1)); echo "FAIL keys left after $1: $left"; fi
  rcli flushall >/dev/null
}

LANGS="python ruby php"
for server in $LANGS; do
  for client in $LANGS; do
    for script in calculator types kwargs errors raw:unknown; do
      case $script in
        calculator) n=6 ;; types) n=18 ;; kwargs) n=1 ;; errors) n=4 ;; raw:unknown) n=1 ;;
      esac
      [ "$script" = errors ] && [ "$server" = php ] && n=2 # dies on the 2nd request
      start_server "$server" "$n" || { FAILS=$((FAILS + 1)); continue; }
      arg=$script; name=$script
      [ "$script" = raw:unknown ] && arg='raw:{"name":"nope"}' && name=unknown
      peer_cmd "$client"
      timeout 60 "${CMD[@]}" client --url "$URL" --queue q --timeout 1 "$arg" >"$TMP/client.out" 2>"$TMP/client.err"
      [ -s "$TMP/client.err" ] && sed 's/^/    stderr: /' "$TMP/client.err"
      stop_server
      check "$server" "$client" "$name"
      if [ "$script" = errors ] && [ "$server" = php ]; then
        [ "$SERVER_STATUS" -ne 0 ] || { FAILS=$((FAILS + 1)); echo "FAIL php server should have died"; }
        grep -q DivisionByZeroError "$TMP/server.err" || { FAILS=$((FAILS + 1)); echo "FAIL no DivisionByZeroError"; }
        # The abandoned requests of nope/val stay queued unless the client is Ruby (LREM).
        if [ "$client" = ruby ]; then keys_left "$server/$client/$script"
        else
          [ "$(rcli llen q)" = 2 ] || { FAILS=$((FAILS + 1)); echo "FAIL expected 2 abandoned requests"; }
          keys_left "$server/$client/$script" '^q$'
        fi
      else
        keys_left "$server/$client/$script"
      fi
    done
  done
done

# Timeouts with no server: Python/PHP leave the request queued, Ruby withdraws it (LREM).
for client in $LANGS; do
  peer_cmd "$client"
  timeout 30 "${CMD[@]}" client --url "$URL" --queue q --timeout 0.3 calculator >"$TMP/client.out" 2>"$TMP/client.err"
  head -1 "$TMP/client.out" >"$TMP/first" && mv "$TMP/first" "$TMP/client.out"
  check none "$client" timeout
  want=6; [ "$client" = ruby ] && want=0
  got=$(rcli llen q)
  [ "$got" = "$want" ] || { FAILS=$((FAILS + 1)); echo "FAIL $client left $got requests, want $want"; }
  keys_left "timeout/$client" '^q$'
done

# --delete-queue drops pending requests (Python/PHP servers at start, Ruby `run!`).
for server in $LANGS; do
  rcli rpush q '{"function_call":{"name":"val"},"response_queue":"q:rpc:STALE000"}' >/dev/null
  : >"$TMP/server.out"
  peer_cmd "$server"
  "${CMD[@]}" server --url "$URL" --queue q --once 1 --delete-queue >"$TMP/server.out" 2>"$TMP/server.err" &
  SERVER_PID=$!
  for _ in $(seq 200); do grep -q READY "$TMP/server.out" && break; sleep 0.05; done
  [ "$(rcli exists q:rpc:STALE000)" = 0 ] && [ "$(rcli llen q)" = 0 ] ||
    { FAILS=$((FAILS + 1)); echo "FAIL $server --delete-queue kept the stale request"; }
  kill -TERM "$SERVER_PID"; wait "$SERVER_PID"; st=$?; SERVER_PID=
  # Python and Ruby exit 0 on TERM; PHP keeps the default action (killed: 128+15).
  { [ "$st" = 0 ] || { [ "$server" = php ] && [ "$st" = 143 ]; }; } && PASSES=$((PASSES + 1)) && echo "ok   $server server: --delete-queue, clean exit on SIGTERM" ||
    { FAILS=$((FAILS + 1)); echo "FAIL $server server exit status on SIGTERM: $st"; }
  keys_left "delete-queue/$server"
done

# Ruby's reply TTL: the response list carries EXPIRE 1 (observed via a raw request and TTL).
start_server ruby 1
rcli rpush q '{"function_call":{"name":"val","args":[]},"response_queue":"q:rpc:TTLCHECK"}' >/dev/null
for _ in $(seq 100); do [ "$(rcli exists q:rpc:TTLCHECK)" = 1 ] && break; sleep 0.02; done
ttl=$(rcli pttl q:rpc:TTLCHECK); body=$(rcli lrange q:rpc:TTLCHECK 0 -1)
stop_server
if [ "$ttl" -gt 0 ] && [ "$ttl" -le 1000 ] && [ "$body" = '{"return_value":0.0}' ]; then
  PASSES=$((PASSES + 1)); echo "ok   ruby server: reply $body with pttl $ttl"
else FAILS=$((FAILS + 1)); echo "FAIL ruby reply ttl=$ttl body=$body"; fi
rcli flushall >/dev/null

# Exact response bytes of each server for add(5) and a unicode/slash echo.
for server in $LANGS; do
  start_server "$server" 2
  rcli rpush q '{"function_call":{"name":"add","args":[5]},"response_queue":"q:rpc:BYTES001"}' \
    '{"function_call":{"name":"echo","args":["é/😀"]},"response_queue":"q:rpc:BYTES002"}' >/dev/null
  stop_server
  a=$(rcli --raw lpop q:rpc:BYTES001); b=$(rcli --raw lpop q:rpc:BYTES002)
  case $server in
    python) wa='{"return_value": 5.0}'; wb='{"return_value": "\u00e9/\ud83d\ude00"}' ;;
    ruby) wa='{"return_value":5.0}'; wb='{"return_value":"é/😀"}' ;;
    php) wa='{"return_value":5}'; wb='{"return_value":"\u00e9\/\ud83d\ude00"}' ;;
  esac
  if [ "$a" = "$wa" ] && [ "$b" = "$wb" ]; then PASSES=$((PASSES + 1)); echo "ok   $server server bytes: $a $b"
  else FAILS=$((FAILS + 1)); echo "FAIL $server server bytes: $a / $b (want $wa / $wb)"; fi
  rcli flushall >/dev/null
done

echo "peer self-test: $PASSES passed, $FAILS failed"
[ "$FAILS" = 0 ]
