// Interop with the original classic redisrpc peers (Python, Ruby, PHP), through a real
// redis-server. The peers in tests/interop/peers/ reproduce the originals' wire behaviour as
// observed in PROTOCOL.md §1 (tests/interop/peer_selftest.sh checks them against each other).
//
//   (a) PeerClient*:  the language's client calls our server (hosted on a thread here)
//   (b) PeerServer*:  our client calls the language's server
//   (c) PeerRequestBytes*: the exact bytes the language's client pushes, fed to our server
//   (d) every scenario ends with no keys left under its queue, except the documented ones
//
// A language whose interpreter or Redis library is missing is skipped, with the reason.

#include "support/helpers.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

#include "../../examples/calculator/calculator.hpp"

#include <redisrpc/redisrpc.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using nlohmann::json;
using redisrpc::test::child_process;
using redisrpc::test::raw_redis;
using redisrpc::test::running_server;
using redisrpc::test::shared_redis;
using redisrpc::test::wait_until;

namespace {

// ------------------------------------------------------------------------------------------------
// The peers

const std::string peers_dir = REDISRPC_SOURCE_DIR "/tests/interop/peers/";

/// Interpreter + script of a language's peer, followed by `args`.
std::vector<std::string> peer_argv(const std::string& lang, std::vector<std::string> args) {
    std::vector<std::string> argv;
    if (lang == "python") {
        // Debian's interpreter: it has python3-redis (another python3 may come first on PATH).
        argv = {"/usr/bin/python3", peers_dir + "classic_peer.py"};
    } else if (lang == "ruby") {
        argv = {"ruby", peers_dir + "classic_peer.rb"};
    } else {
        argv = {"php", peers_dir + "classic_peer.php"};
    }
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

/// Empty when the language's interpreter and Redis library work, else why not (cached).
const std::string& missing_reason(const std::string& lang) {
    static std::map<std::string, std::string> cache;
    if (const auto it = cache.find(lang); it != cache.end()) return it->second;
    std::vector<std::string> probe;
    if (lang == "python") {
        probe = {"/usr/bin/python3", "-c", "import redis, json"};
    } else if (lang == "ruby") {
        probe = {"ruby", "-e", "require 'redis'; require 'json'"};
    } else {
        probe = {"php", "-r",
                 "set_include_path('/usr/share/php'); require 'Predis/Autoloader.php'; "
                 "if (!function_exists('json_encode')) exit(1);"};
    }
    std::string reason;
    try {
        child_process p(probe);
        const auto status = p.wait_for(30s);
        if (status != 0) reason = lang + " peer unavailable: " + p.output();
    } catch (const std::exception& e) {
        reason = lang + " peer unavailable: " + e.what();
    }
    return cache[lang] = reason;
}

/// The original clients' response-list suffix alphabets (PROTOCOL.md §1).
std::string suffix_pattern(const std::string& lang) {
    return lang == "php" ? "[A-Za-z0-9]{8}" : "[A-Z0-9]{8}";
}

/// Everything an exited child wrote. child_process::wait_for() can return before its drain
/// thread has read the last bytes from the pipe, so wait (bounded) until `marker` shows up.
std::string final_output(const child_process& p, const std::string& marker) {
    wait_until([&] { return p.output().find(marker) != std::string::npos; }, 10s);
    return p.output();
}

/// One line of a peer client's output:
/// {"call":NAME,"ok":true,"value":V,"request":BYTES} or {...,"ok":false,"kind":K,"error":TEXT};
/// the client ends its output with a line END.
struct client_run {
    std::optional<int> status;
    std::vector<json> lines; // the parsed call lines
    std::string output;      // everything, for failure messages
};

/// Runs a language's client to completion (bounded) and parses its lines.
client_run run_peer_client(const std::string& lang, const std::string& url, const std::string& queue,
                           const std::string& timeout, const std::string& script) {
    child_process p(peer_argv(lang, {"client", "--url", url, "--queue", queue, "--timeout", timeout, script}));
    client_run run;
    run.status = p.wait_for(90s);
    if (!run.status) p.signal(SIGKILL);
    run.output = run.status == 0 ? final_output(p, "END\n") : p.output();
    std::istringstream in(run.output);
    for (std::string line; std::getline(in, line);) {
        // stdout and stderr share the pipe: keep only our JSON lines, ignore warnings.
        const json j = json::parse(line, nullptr, false);
        if (j.is_object() && j.contains("call") && j.contains("ok")) run.lines.push_back(j);
    }
    return run;
}

/// A language's server, started with `--once n`; ready() waits for its READY line.
class peer_server {
public:
    peer_server(const std::string& lang, const std::string& url, const std::string& queue, int once)
        : process_(peer_argv(lang, {"server", "--url", url, "--queue", queue, "--once", std::to_string(once)})) {}
    ~peer_server() {
        if (process_.running()) {
            process_.signal(SIGTERM);
            (void)process_.wait_for(5s); // the child_process destructor SIGKILLs if still needed
        }
    }
    peer_server(const peer_server&) = delete;
    peer_server& operator=(const peer_server&) = delete;

    ::testing::AssertionResult ready() {
        const bool ok = wait_until(
            [&] { return process_.output().find("READY") != std::string::npos || !process_.running(); }, 30s);
        if (ok && process_.output().find("READY") != std::string::npos) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "peer server not ready: " << process_.output();
    }
    child_process& process() { return process_; }

private:
    child_process process_;
};

// ------------------------------------------------------------------------------------------------
// Values

/// The values of the peers' `types` script, in order (kept identical in all three peers).
json types_values() {
    return json::parse(R"([0, -42, 9007199254740993, 1e-07, -0.0, 2.5, 5.0,
        "h\u00e9llo w\u00f6rld \ud83d\ude00", "/slash/", "tab\t \"q\" \\ end", "",
        [1, [2, [3, "x"]], {"k": [true, null]}], {"a": 1, "b": {"c": [1, 2]}, "u": "\u00fc"},
        null, true, false, [], {}])");
}

/// Exact equality: integers stay integers, floats stay floats, -0.0 keeps its sign. With `php`,
/// an integral float may come back as an integer (PHP's json_encode writes 5.0 as 5 and -0.0 as
/// -0, PROTOCOL.md §1), and then the sign of zero is lost.
::testing::AssertionResult same_value(const json& want, const json& got, bool php, const std::string& path = "$") {
    auto fail = [&] {
        return ::testing::AssertionFailure() << "at " << path << ": want " << want.dump() << ", got " << got.dump();
    };
    if (want.is_number_float()) {
        const double w = want.get<double>();
        if (got.is_number_float()) {
            const double g = got.get<double>();
            return g == w && std::signbit(g) == std::signbit(w) ? ::testing::AssertionSuccess() : fail();
        }
        if (php && got.is_number_integer() && std::trunc(w) == w && got.get<double>() == w) {
            return ::testing::AssertionSuccess();
        }
        return fail();
    }
    if (want.is_number_integer()) return got.is_number_integer() && got == want ? ::testing::AssertionSuccess() : fail();
    if (want.type() != got.type()) return fail();
    if (want.is_array()) {
        if (want.size() != got.size()) return fail();
        for (std::size_t i = 0; i < want.size(); ++i) {
            auto r = same_value(want[i], got[i], php, path + "[" + std::to_string(i) + "]");
            if (!r) return r;
        }
        return ::testing::AssertionSuccess();
    }
    if (want.is_object()) {
        if (want.size() != got.size()) return fail();
        for (const auto& [k, v] : want.items()) {
            if (!got.contains(k)) return fail();
            auto r = same_value(v, got[k], php, path + "." + k);
            if (!r) return r;
        }
        return ::testing::AssertionSuccess();
    }
    return want == got ? ::testing::AssertionSuccess() : fail();
}

// ------------------------------------------------------------------------------------------------
// Our side

/// Our server on a thread, serving the example Calculator plus echo and describe.
struct our_service {
    Calculator calc;
    redisrpc::server srv;
    std::unique_ptr<running_server> running;

    our_service(const std::string& url, const std::string& queue)
        : srv(url, queue, redisrpc::server_options{.handle_signals = false}) {
        REDISRPC_EXPOSE(srv, calc, clr, add, sub, mul, div, val);
        srv.bind("echo", [](json x) { return x; });
        // Named parameters: keywords work however the client spells them (Python "kwargs",
        // Ruby trailing hash, PHP named-argument object).
        srv.bind("describe", [](int a, std::optional<int> b) {
            return json{{"a", a}, {"b", b ? json(*b) : json(nullptr)}};
        }, {"a", "b"});
        running = std::make_unique<running_server>(srv);
    }
    void stop() { running->stop(); }
};

redisrpc::client our_client(const std::string& url, const std::string& queue,
                            std::chrono::milliseconds timeout = 5s) {
    // ids_echoed = false: the original peers do not echo ids; every call uses its own reply list.
    return redisrpc::client{url, queue, redisrpc::client_options{.timeout = timeout, .ids_echoed = false}};
}

// ------------------------------------------------------------------------------------------------
// Fixture

class Interop : public ::testing::TestWithParam<std::string> {
protected:
    std::string lang = GetParam();
    bool php = lang == "php";
    std::string url = shared_redis().url();     // unix socket: our side
    std::string tcp = shared_redis().tcp_url(); // TCP: the peers' side
    std::string queue;

    void SetUp() override {
        if (const auto& reason = missing_reason(lang); !reason.empty()) GTEST_SKIP() << reason;
        // Test names hold '/' (parameterised), which PHP would escape as "\/": keep queues plain.
        std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
        for (auto& c : name) if (c == '/') c = '.';
        queue = "interop:" + name;
        for (const auto& k : shared_redis().keys(queue + "*")) raw().run({"DEL", k});
    }

    raw_redis& raw() {
        if (!raw_) raw_ = std::make_unique<raw_redis>(url);
        return *raw_;
    }
    /// (d): nothing under the test's queue survives the scenario.
    void expect_no_keys() { EXPECT_EQ(shared_redis().keys(queue + "*"), std::vector<std::string>{}); }
    void expect_all_ok(const client_run& run, std::size_t n) {
        ASSERT_EQ(run.status, 0) << run.output;
        ASSERT_EQ(run.lines.size(), n) << run.output;
        for (const auto& l : run.lines) EXPECT_TRUE(l["ok"].get<bool>()) << l.dump();
    }

private:
    std::unique_ptr<raw_redis> raw_;
};

// ================================================================================================
// (a) the language's client against our server

TEST_P(Interop, PeerClientRunsCalculatorOnOurServer) {
    our_service service(url, queue);
    const auto run = run_peer_client(lang, tcp, queue, "5", "calculator");
    expect_all_ok(run, 6);
    const std::vector<double> want{0, 5, 2, 8, 4, 4};
    for (std::size_t i = 0; i < run.lines.size() && i < want.size(); ++i) {
        // Our server answers doubles as JSON floats; every peer keeps them floats (PHP prints 4.0).
        EXPECT_TRUE(same_value(json(want[i]), run.lines[i]["value"], false)) << run.lines[i].dump();
    }
    // The client's own report of its request matches its language's wire format.
    const std::regex format(lang == "python" ? R"(\{"function_call": \{"name": "\w+"(, "args": \[.*\])?\}, "response_queue": ".*"\})"
                            : lang == "ruby" ? R"(\{"function_call":\{"name":"\w+","args":\[.*\]\},"response_queue":".*"\})"
                                             : R"(\{"function_call":\{"name":"\w+"(,"args":\[.*\])?\},"response_queue":".*"\})");
    for (const auto& l : run.lines) EXPECT_TRUE(std::regex_match(l["request"].get<std::string>(), format)) << l.dump();
    EXPECT_EQ(service.srv.stats().errors, 0U);
    service.stop();
    expect_no_keys();
}

TEST_P(Interop, PeerClientRoundTripsTypesThroughOurServer) {
    our_service service(url, queue);
    const auto run = run_peer_client(lang, tcp, queue, "5", "types");
    const json values = types_values();
    expect_all_ok(run, values.size());
    for (std::size_t i = 0; i < run.lines.size() && i < values.size(); ++i) {
        // PHP's client itself sends 5.0 as 5 and -0.0 as -0, so those come back as integers.
        EXPECT_TRUE(same_value(values[i], run.lines[i]["value"], php)) << "value #" << i;
    }
    service.stop();
    expect_no_keys();
}

TEST_P(Interop, PeerClientKeywordArgumentsReachOurServer) {
    our_service service(url, queue);
    // Python: "kwargs": {"b": 2}; Ruby: "args": [1, {"b": 2}]; PHP 8: "args": {"0": 1, "b": 2}.
    const auto kw = run_peer_client(lang, tcp, queue, "5", "kwargs");
    expect_all_ok(kw, 1);
    ASSERT_EQ(kw.lines.size(), 1U);
    EXPECT_EQ(kw.lines[0]["value"], (json{{"a", 1}, {"b", 2}})) << kw.output;
    const std::string request = kw.lines[0]["request"].get<std::string>();
    const std::string spelled = lang == "python" ? R"("kwargs": {"b": 2})"
                                : lang == "ruby" ? R"("args":[1,{"b":2}])"
                                                 : R"("args":{"0":1,"b":2})";
    EXPECT_NE(request.find(spelled), std::string::npos) << request;

    const auto positional = run_peer_client(lang, tcp, queue, "5", R"(raw:{"name":"describe","args":[1,2]})");
    expect_all_ok(positional, 1);
    ASSERT_EQ(positional.lines.size(), 1U);
    EXPECT_EQ(positional.lines[0]["value"], (json{{"a", 1}, {"b", 2}}));
    const auto optional = run_peer_client(lang, tcp, queue, "5", R"(raw:{"name":"describe","args":[7]})");
    expect_all_ok(optional, 1);
    ASSERT_EQ(optional.lines.size(), 1U);
    EXPECT_EQ(optional.lines[0]["value"], (json{{"a", 7}, {"b", nullptr}}));
    service.stop();
    expect_no_keys();
}

TEST_P(Interop, PeerClientSeesOurServersErrorTexts) {
    our_service service(url, queue);
    const auto run = run_peer_client(lang, tcp, queue, "5", "errors"); // clr, div 0, nope, val
    ASSERT_EQ(run.status, 0) << run.output;
    ASSERT_EQ(run.lines.size(), 4U) << run.output;
    EXPECT_TRUE(run.lines[0]["ok"].get<bool>());
    EXPECT_FALSE(run.lines[1]["ok"].get<bool>());
    EXPECT_EQ(run.lines[1]["kind"], "remote");
    EXPECT_EQ(run.lines[1]["error"], "std::domain_error: division by zero");
    EXPECT_FALSE(run.lines[2]["ok"].get<bool>());
    EXPECT_EQ(run.lines[2]["kind"], "remote");
    EXPECT_EQ(run.lines[2]["error"], "unknown method 'nope'");
    // Still serving after both errors.
    EXPECT_TRUE(run.lines[3]["ok"].get<bool>()) << run.output;
    EXPECT_TRUE(same_value(json(0.0), run.lines[3]["value"], false));

    const auto bad = run_peer_client(lang, tcp, queue, "5", R"(raw:{"name":"add","args":["x"]})");
    ASSERT_EQ(bad.lines.size(), 1U) << bad.output;
    EXPECT_EQ(bad.lines[0]["kind"], "remote");
    EXPECT_EQ(bad.lines[0]["error"].get<std::string>().rfind("add: argument 1: ", 0), 0U) << bad.output;

    EXPECT_TRUE(service.srv.running());
    EXPECT_EQ(our_client(url, queue).call<double>("val"), 0.0);
    service.stop();
    expect_no_keys();
}

// ================================================================================================
// (b) our client against the language's server

TEST_P(Interop, OurClientRunsCalculatorOnPeerServer) {
    peer_server peer(lang, tcp, queue, 7);
    ASSERT_TRUE(peer.ready());
    auto c = our_client(url, queue);
    c.call("clr");
    EXPECT_EQ(c.call<double>("add", 5), 5.0);
    EXPECT_EQ(c.call<double>("sub", 3), 2.0);
    EXPECT_EQ(c.call<double>("mul", 4), 8.0);
    EXPECT_EQ(c.call<double>("div", 2), 4.0);
    const json raw_val = c.call_json("val");
    // Python/Ruby answer 4.0; PHP writes the integral float as 4 (PROTOCOL.md §1).
    EXPECT_EQ(raw_val.is_number_integer(), php) << raw_val.dump();
    EXPECT_EQ(c.call<int>("val"), 4);
    EXPECT_EQ(peer.process().wait_for(10s), 0) << peer.process().output(); // --once 7: all 7 served
    expect_no_keys();
}

TEST_P(Interop, OurClientRoundTripsTypesThroughPeerServer) {
    const json values = types_values();
    peer_server peer(lang, tcp, queue, static_cast<int>(values.size()) + 4);
    ASSERT_TRUE(peer.ready());
    auto c = our_client(url, queue);
    for (std::size_t i = 0; i < values.size(); ++i) {
        // Our client writes floats as floats; PHP's server turns integral ones into integers.
        EXPECT_TRUE(same_value(values[i], c.call_json("echo", json::array({values[i]})), php)) << "value #" << i;
    }
    // The integral-float quirk converts both ways: 5.0 sent, "5" (PHP) or "5.0" received.
    EXPECT_EQ(c.call_json("echo", json::array({5.0})).is_number_integer(), php);
    EXPECT_EQ(c.call<double>("echo", 5.0), 5.0);
    EXPECT_EQ(c.call<int>("echo", 5.0), 5);
    EXPECT_EQ(c.call<std::int64_t>("echo", std::int64_t{9007199254740993}), std::int64_t{9007199254740993});
    EXPECT_EQ(peer.process().wait_for(10s), 0) << peer.process().output();
    expect_no_keys();
}

TEST_P(Interop, OurClientKeywordArgumentsOnPeerServer) {
    peer_server peer(lang, tcp, queue, 1);
    ASSERT_TRUE(peer.ready());
    auto c = our_client(url, queue);
    const json got = c.call<json>("describe", 1, redisrpc::kw{{"b", 2}});
    // We send {"args":[1],"kwargs":{"b":2}} as the Python client does; only the Python server
    // reads "kwargs", the Ruby and PHP servers ignore it (they never receive one from their own
    // clients).
    const json want = lang == "python" ? json::parse(R"({"args":[1],"kwargs":{"b":2}})")
                                       : json::parse(R"({"args":[1],"kwargs":{}})");
    EXPECT_EQ(got, want);
    EXPECT_EQ(peer.process().wait_for(10s), 0) << peer.process().output();
    expect_no_keys();
}

TEST_P(Interop, OurClientReportsPeerServerErrorsVerbatim) {
    const int calls = php ? 3 : 4; // clr, nope, div, val (PHP dies at div)
    peer_server peer(lang, tcp, queue, calls);
    ASSERT_TRUE(peer.ready());
    auto c = our_client(url, queue, 3s);
    c.call("clr");

    auto remote_text = [&](const char* method, json args) -> std::optional<redisrpc::remote_error> {
        try {
            c.call_json(method, std::move(args));
        } catch (const redisrpc::remote_error& e) {
            return e;
        }
        ADD_FAILURE() << method << " did not fail";
        return std::nullopt;
    };

    const auto nope = remote_text("nope", json::array());
    ASSERT_TRUE(nope);
    if (lang == "python") {
        EXPECT_STREQ(nope->what(), R"(AttributeError("'Calculator' object has no attribute 'nope'"))");
    } else if (lang == "ruby") {
        EXPECT_TRUE(std::regex_match(nope->what(), std::regex("undefined method `nope' for #<Calculator:0x[0-9a-f]+ @acc=0\\.0>")))
            << nope->what();
        EXPECT_TRUE(nope->data().is_array()) << nope->data().dump(); // Ruby's "backtrace"
    } else {
        EXPECT_STREQ(nope->what(), R"(method "nope" does not exist)");
    }

    if (!php) {
        const auto div = remote_text("div", json::array({0}));
        ASSERT_TRUE(div);
        EXPECT_STREQ(div->what(), lang == "python" ? "ZeroDivisionError('float division by zero')" : "divided by 0");
        EXPECT_EQ(div->code(), redisrpc::error_code::handler_error);
        if (lang == "ruby") {
            ASSERT_TRUE(div->data().is_array());
            ASSERT_FALSE(div->data().empty());
            EXPECT_TRUE(div->data()[0].is_string());
        }
        EXPECT_EQ(c.call<double>("val"), 0.0); // still serving
        EXPECT_EQ(peer.process().wait_for(10s), 0) << peer.process().output();
    } else {
        // The PHP server has no try/catch: DivisionByZeroError ends the process, no reply comes.
        try {
            c.call_json("div", json::array({0}), json::object(), {.timeout = 2s});
            ADD_FAILURE() << "div(0) on the PHP server returned";
        } catch (const redisrpc::timeout_error& e) {
            EXPECT_TRUE(e.outcome_unknown()) << e.what(); // the server had taken the request
        }
        const auto status = peer.process().wait_for(10s);
        ASSERT_TRUE(status.has_value());
        EXPECT_NE(*status, 0);
        const std::string output = final_output(peer.process(), "DivisionByZeroError");
        EXPECT_NE(output.find("DivisionByZeroError"), std::string::npos) << output;
    }
    expect_no_keys();
}

TEST_P(Interop, OurClientHandlesPeerReplyLists) {
    if (lang != "ruby") {
        // Python/PHP: no TTL on the reply list (it is simply consumed).
        peer_server peer(lang, tcp, queue, 1);
        ASSERT_TRUE(peer.ready());
        const std::string reply_key = queue + ":rpc:PROBE001";
        raw().run({"RPUSH", queue, R"({"function_call":{"name":"val"},"response_queue":")" + reply_key + "\"}"});
        ASSERT_TRUE(wait_until([&] { return raw().exists(reply_key); }, 10s));
        EXPECT_EQ(raw().run({"PTTL", reply_key}).integer, -1); // persistent: PROTOCOL.md §1
        EXPECT_EQ(raw().run({"LPOP", reply_key}).str, php ? R"({"return_value":0})" : R"({"return_value": 0.0})");
        EXPECT_EQ(peer.process().wait_for(10s), 0);
        expect_no_keys();
        return;
    }
    // Ruby: MULTI; RPUSH; EXPIRE <reply> 1; EXEC. A fast client is unaffected.
    peer_server peer(lang, tcp, queue, 3);
    ASSERT_TRUE(peer.ready());
    const std::string reply_key = queue + ":rpc:PROBE001";
    raw().run({"RPUSH", queue, R"({"function_call":{"name":"val","args":[]},"response_queue":")" + reply_key + "\"}"});
    ASSERT_TRUE(wait_until([&] { return raw().exists(reply_key); }, 10s));
    const long long pttl = raw().run({"PTTL", reply_key}).integer;
    EXPECT_GT(pttl, 0);
    EXPECT_LE(pttl, 1000);
    EXPECT_EQ(raw().run({"LPOP", reply_key}).str, R"({"return_value":0.0})");
    auto c = our_client(url, queue);
    EXPECT_EQ(c.call<double>("add", 1), 1.0);
    EXPECT_EQ(c.call<double>("add", 1), 2.0);
    EXPECT_EQ(peer.process().wait_for(10s), 0);
    expect_no_keys();
}

// ================================================================================================
// (c) the exact bytes of the language's client, accepted by our server

/// What the `wire` script's calls look like from each original client (PROTOCOL.md §1), split
/// around the 8-character response-list suffix.
std::vector<std::pair<std::string, std::string>> expected_wire(const std::string& lang, const std::string& queue) {
    std::vector<std::string> calls;
    std::string head, middle, tail;
    if (lang == "python") { // spaced, \uXXXX with surrogate pairs, args/kwargs only when non-empty
        calls = {R"({"name": "add", "args": [5]})",
                 R"({"name": "echo", "args": ["h\u00e9llo w\u00f6rld \ud83d\ude00 /slash/"]})",
                 R"({"name": "echo", "args": [5.0]})",
                 R"({"name": "describe", "args": [1], "kwargs": {"b": 2}})",
                 R"({"name": "val"})"};
        head = R"({"function_call": )";
        middle = R"(, "response_queue": ")";
        tail = R"("})";
    } else if (lang == "ruby") { // compact, raw UTF-8, args always, keywords as trailing hash
        calls = {R"({"name":"add","args":[5]})",
                 "{\"name\":\"echo\",\"args\":[\"h\xc3\xa9llo w\xc3\xb6rld \xf0\x9f\x98\x80 /slash/\"]}",
                 R"({"name":"echo","args":[5.0]})",
                 R"({"name":"describe","args":[1,{"b":2}]})",
                 R"({"name":"val","args":[]})"};
        head = R"({"function_call":)";
        middle = R"(,"response_queue":")";
        tail = R"("})";
    } else { // compact, \uXXXX, "\/", 5.0 as 5, named arguments as an object
        calls = {R"({"name":"add","args":[5]})",
                 R"({"name":"echo","args":["h\u00e9llo w\u00f6rld \ud83d\ude00 \/slash\/"]})",
                 R"({"name":"echo","args":[5]})",
                 R"({"name":"describe","args":{"0":1,"b":2}})",
                 R"({"name":"val"})"};
        head = R"({"function_call":)";
        middle = R"(,"response_queue":")";
        tail = R"("})";
    }
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& call : calls) out.emplace_back(head + call + middle + queue + ":rpc:", tail);
    return out;
}

TEST_P(Interop, PeerRequestBytesAreAcceptedByOurServer) {
    // Capture: no server runs; this test pops each request as it arrives and never answers, so
    // the client times out on every call (Ruby's LREM then finds nothing to withdraw).
    child_process client(peer_argv(lang, {"client", "--url", tcp, "--queue", queue, "--timeout", "0.5", "wire"}));
    std::vector<std::string> captured;
    for (int i = 0; i < 5; ++i) {
        const auto request = raw().blpop(queue, 20);
        ASSERT_TRUE(request) << "request #" << i << " not pushed: " << client.output();
        captured.push_back(*request);
    }
    ASSERT_EQ(client.wait_for(30s), 0) << client.output();
    const std::string output = final_output(client, "END\n");
    EXPECT_EQ(raw().llen(queue), 0);

    // The bytes are exactly the original client's.
    const auto want = expected_wire(lang, queue);
    const std::regex suffix(suffix_pattern(lang));
    std::vector<std::string> reply_keys;
    for (std::size_t i = 0; i < captured.size(); ++i) {
        const std::string& got = captured[i];
        const auto& [prefix, tail] = want[i];
        ASSERT_EQ(got.size(), prefix.size() + 8 + tail.size()) << got;
        EXPECT_EQ(got.substr(0, prefix.size()), prefix);
        EXPECT_TRUE(std::regex_match(got.substr(prefix.size(), 8), suffix)) << got;
        EXPECT_EQ(got.substr(prefix.size() + 8), tail);
        reply_keys.push_back(json::parse(got)["response_queue"].get<std::string>());
    }
    // The peer's own report of what it sent agrees with what Redis held.
    std::istringstream lines(output);
    std::size_t n = 0;
    for (std::string line; std::getline(lines, line);) {
        const json j = json::parse(line, nullptr, false);
        if (!j.is_object() || !j.contains("request")) continue;
        ASSERT_LT(n, captured.size());
        EXPECT_EQ(j["request"], captured[n]);
        EXPECT_EQ(j["kind"], "timeout");
        ++n;
    }
    EXPECT_EQ(n, captured.size());

    // Replay them, byte for byte, to our server: every one is accepted and answered.
    our_service service(url, queue);
    for (const auto& request : captured) raw().run({"RPUSH", queue, request});
    const json want_values = json::array({5.0, "h\u00e9llo w\u00f6rld \U0001F600 /slash/", 5.0, {{"a", 1}, {"b", 2}}, 5.0});
    for (std::size_t i = 0; i < reply_keys.size(); ++i) {
        const auto reply = raw().blpop(reply_keys[i], 10);
        ASSERT_TRUE(reply) << "no reply to " << captured[i];
        const json r = json::parse(*reply);
        EXPECT_FALSE(r.contains("exception")) << *reply;
        ASSERT_TRUE(r.contains("return_value")) << *reply;
        // PHP sent 5.0 as 5, which our echo returns as the integer 5.
        EXPECT_TRUE(same_value(want_values[i], r["return_value"], php)) << *reply;
    }
    EXPECT_EQ(service.srv.stats().errors, 0U);
    service.stop();
    expect_no_keys();
}

// (d) the documented leftovers: on timeout the Python and PHP clients leave their request queued
// (it would still run later); the Ruby client withdraws it with LREM.
TEST_P(Interop, PeerClientTimeoutLeavesOrWithdrawsItsRequest) {
    const auto run = run_peer_client(lang, tcp, queue, "0.3", R"(raw:{"name":"val"})");
    ASSERT_EQ(run.status, 0) << run.output;
    ASSERT_EQ(run.lines.size(), 1U) << run.output;
    EXPECT_EQ(run.lines[0]["kind"], "timeout");
    const std::string request = run.lines[0]["request"].get<std::string>();
    if (lang == "ruby") {
        expect_no_keys();
        return;
    }
    EXPECT_EQ(raw().run({"LRANGE", queue, "0", "-1"}).elements.size(), 1U);
    EXPECT_EQ(raw().run({"LINDEX", queue, "0"}).str, request);
    EXPECT_EQ(shared_redis().keys(queue + "*"), std::vector<std::string>{queue}); // no reply list
    // A later server still runs the abandoned request (and its reply expires: our reply TTL).
    const std::string reply_key = json::parse(request)["response_queue"].get<std::string>();
    {
        our_service service(url, queue);
        ASSERT_TRUE(wait_until([&] { return raw().exists(reply_key); }, 10s));
        EXPECT_GT(raw().ttl(reply_key), 0);
        service.stop();
    }
    raw().run({"DEL", reply_key});
    expect_no_keys();
}

INSTANTIATE_TEST_SUITE_P(Classic, Interop, ::testing::Values("python", "ruby", "php"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

} // namespace
