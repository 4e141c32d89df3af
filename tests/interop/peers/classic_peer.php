<?php
// Interop peer: behaves on the wire like the original PHP redisrpc (0.3.x, PHP 8.2 + Predis 1.1).
//
// Written from the observations in PROTOCOL.md section 1 (the original code is not used).
// Comments tagged "P1:" name the fact each quirk reproduces.
//
//   php classic_peer.php server --url URL --queue Q [--once N] [--delete-queue]
//   php classic_peer.php client --url URL --queue Q --timeout SECONDS SCRIPT
//
// SCRIPT is calculator | types | kwargs | errors | wire | raw:{"name":..,"args":[..],"kwargs":{..}}
// (kwargs become PHP 8 named arguments). The client prints one JSON line per call:
//   {"call":NAME,"ok":true,"value":V,"request":BYTES}
//   {"call":NAME,"ok":false,"kind":"remote"|"timeout","error":TEXT,"request":BYTES}
// and then a last line END.

set_include_path(get_include_path() . PATH_SEPARATOR . '/usr/share/php');
require 'Predis/Autoloader.php';
Predis\Autoloader::register();

// --------------------------------------------------------------------------- the served object
// The accumulator is a float; json_encode writes integral floats without ".0" (P1: the PHP server
// answers add(5) with {"return_value":5}).
class Calculator
{
    private $acc = 0.0;

    public function clr() { return $this->acc = 0.0; }
    public function add($n) { return $this->acc += $n; }
    public function sub($n) { return $this->acc -= $n; }
    public function mul($n) { return $this->acc *= $n; }
    // PHP 8 throws DivisionByZeroError("Division by zero") here; nothing catches it (see serve()).
    public function div($n) { return $this->acc /= $n; }
    public function val() { return $this->acc; }
    public function echo($x) { return $x; }

    // PHP has no kwargs on the wire; PHP 8 named arguments land here under string keys.
    public function describe(...$args)
    {
        $positional = array_values(array_filter($args, 'is_int', ARRAY_FILTER_USE_KEY));
        $named = array_filter($args, 'is_string', ARRAY_FILTER_USE_KEY);
        return ['args' => $positional, 'kwargs' => $named ? $named : new stdClass()];
    }
}

// The original server pastes the arguments into eval(). We reproduce only its answers: a fixed
// whitelist, arguments passed as data.
const EXPOSED = ['clr', 'add', 'sub', 'mul', 'div', 'val', 'echo', 'describe'];

function serve($redis, $queue, $once, $deleteQueue)
{
    if ($deleteQueue) {
        $redis->del($queue); // P1: the PHP server DELs its queue at start (opt-in here)
    }
    $calc = new Calculator();
    echo "READY\n";
    fflush(STDOUT);
    for ($handled = 0; $once === null || $handled < $once; ) {
        [, $message] = $redis->blpop($queue, 0);
        $handled++;
        // Decoded as objects, so {} and [] survive the round trip.
        $request = json_decode($message);
        $responseQueue = $request->response_queue;
        $call = $request->function_call;
        $name = $call->name;
        if (!in_array($name, EXPOSED, true)) {
            // P1: unknown method
            $response = ['exception' => 'method "' . $name . '" does not exist'];
        } else {
            // "args" may be an object when the client used named arguments (P1: {"0":1,"b":2});
            // the array cast turns "0" into int key 0, spreading it positionally.
            $args = isset($call->args) ? (array) $call->args : [];
            // P1: no try/catch: an exception in the method kills the server process.
            $response = ['return_value' => $calc->$name(...$args)];
        }
        // P1: compact json_encode defaults: "\/", \uXXXX, 5.0 written as 5; no TTL on the reply.
        $redis->rpush($responseQueue, json_encode($response));
    }
}

// --------------------------------------------------------------------------------- the client
class RemoteError extends Exception {}
class CallTimeout extends Exception {}

class Client
{
    public $lastRequest = null;

    public function __construct(private $redis, private $queue, private $timeout) {}

    public function __call($name, $args)
    {
        $functionCall = ['name' => $name];
        if (count($args) > 0) {
            // P1: "args" only when non-empty; named arguments make it an object {"0":1,"b":2}.
            $functionCall['args'] = $args;
        }
        $alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
        $suffix = '';
        for ($i = 0; $i < 8; $i++) {
            $suffix .= $alphabet[mt_rand(0, 61)]; // P1: 8 of [A-Za-z0-9]
        }
        $responseQueue = $this->queue . ':rpc:' . $suffix;
        // P1: compact, "\/", \uXXXX, integral floats without ".0"
        $message = json_encode(['function_call' => $functionCall, 'response_queue' => $responseQueue]);
        $this->lastRequest = $message;
        $this->redis->rpush($this->queue, $message);
        $popped = $this->redis->blpop($responseQueue, $this->timeout);
        if ($popped === null) {
            // P1 does not say what the original PHP client does on expiry; it leaves the request.
            throw new CallTimeout('timeout');
        }
        $response = json_decode($popped[1]);
        // P1: isset() is false for null, so {"exception": null} is a success.
        if (isset($response->exception)) {
            throw new RemoteError((string) $response->exception);
        }
        return $response->return_value;
    }
}

function types()
{
    return [0, -42, 9007199254740993, 1e-07, -0.0, 2.5, 5.0,
        "h\u{e9}llo w\u{f6}rld \u{1F600}", '/slash/', "tab\t \"q\" \\ end", '',
        [1, [2, [3, 'x']], ['k' => [true, null]]], ['a' => 1, 'b' => ['c' => [1, 2]], 'u' => "\u{fc}"],
        null, true, false, [], new stdClass()];
}

// Returns [name, args, kwargs] triples for a named call sequence.
function script_calls($script)
{
    switch ($script) {
        case 'calculator':
            return [['clr', [], []], ['add', [5], []], ['sub', [3], []], ['mul', [4], []],
                ['div', [2], []], ['val', [], []]];
        case 'types':
            return array_map(fn ($v) => ['echo', [$v], []], types());
        case 'kwargs':
            return [['describe', [1], ['b' => 2]]]; // describe(1, b: 2)
        case 'wire': // one call per request-format feature, for byte-level tests
            return [['add', [5], []], ['echo', ["h\u{e9}llo w\u{f6}rld \u{1F600} /slash/"], []],
                ['echo', [5.0], []], ['describe', [1], ['b' => 2]], ['val', [], []]];
        case 'errors':
            return [['clr', [], []], ['div', [0], []], ['nope', [], []], ['val', [], []]];
    }
    if (str_starts_with($script, 'raw:')) {
        $spec = json_decode(substr($script, 4));
        $args = isset($spec->args) ? $spec->args : [];
        $kwargs = isset($spec->kwargs) ? (array) $spec->kwargs : [];
        return [[$spec->name, $args, $kwargs]];
    }
    fwrite(STDERR, "unknown script: $script\n");
    exit(2);
}

function run_client($redis, $queue, $timeout, $script)
{
    $client = new Client($redis, $queue, $timeout);
    foreach (script_calls($script) as [$name, $args, $kwargs]) {
        $line = ['call' => $name];
        try {
            // Positional then named arguments, as a PHP program would write them.
            $line += ['ok' => true, 'value' => $client->$name(...$args, ...$kwargs)];
        } catch (RemoteError $e) {
            $line += ['ok' => false, 'kind' => 'remote', 'error' => $e->getMessage()];
        } catch (CallTimeout $e) {
            $line += ['ok' => false, 'kind' => 'timeout', 'error' => $e->getMessage()];
        }
        $line['request'] = $client->lastRequest;
        // Report values faithfully (keep 5.0 vs 5): this line is for the tests, not the wire.
        echo json_encode($line, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION), "\n";
        fflush(STDOUT);
    }
    echo "END\n"; // lets a reader know it has seen all of the output
    fflush(STDOUT);
}

// redis://[:password@]host[:port][/db] or unix:///path[?db=N] -> Predis parameters.
function connect($url)
{
    $parts = parse_url(preg_replace('#^unix://#', 'unix:', $url));
    $params = ['read_write_timeout' => 0]; // 0: no socket timeout (BLPOP 0 blocks forever)
    if (($parts['scheme'] ?? '') === 'unix') {
        $params += ['scheme' => 'unix', 'path' => $parts['path']];
    } else {
        $params += ['scheme' => 'tcp', 'host' => $parts['host'] ?? '127.0.0.1', 'port' => $parts['port'] ?? 6379];
        if (preg_match('#^/(\d+)#', $parts['path'] ?? '', $m)) {
            $params['database'] = (int) $m[1];
        }
        if (isset($parts['pass'])) {
            $params['password'] = urldecode($parts['pass']);
        }
    }
    parse_str($parts['query'] ?? '', $query);
    if (isset($query['db'])) {
        $params['database'] = (int) $query['db'];
    }
    return new Predis\Client($params);
}

$mode = $argv[1] ?? '';
$opts = ['url' => null, 'queue' => null, 'once' => null, 'delete-queue' => false, 'timeout' => 0];
$positional = [];
for ($i = 2; $i < $argc; $i++) {
    $a = $argv[$i];
    if ($a === '--delete-queue') {
        $opts['delete-queue'] = true;
    } elseif (str_starts_with($a, '--') && array_key_exists(substr($a, 2), $opts)) {
        $opts[substr($a, 2)] = $argv[++$i];
    } else {
        $positional[] = $a;
    }
}
if (!$opts['url'] || !$opts['queue'] || !in_array($mode, ['server', 'client'], true)) {
    fwrite(STDERR, "usage: php classic_peer.php server|client --url URL --queue Q ...\n");
    exit(2);
}
// SIGTERM keeps its default action (the process ends, killed by the signal): a pcntl handler
// would not run while Predis is blocked reading the BLPOP reply (PHP retries the read on EINTR).

$redis = connect($opts['url']);
if ($mode === 'server') {
    serve($redis, $opts['queue'], $opts['once'] === null ? null : (int) $opts['once'], $opts['delete-queue']);
} else {
    if (!$positional) {
        fwrite(STDERR, "client needs a script\n");
        exit(2);
    }
    $timeout = (float) $opts['timeout'];
    run_client($redis, $opts['queue'], $timeout, $positional[0]);
}
