// Codility dialect against a Python peer that behaves like Codility's Python redis-rpc
// (tests/interop/peers/codility_peer.py), in both directions.

#include "support/helpers.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

#include "../../examples/calculator/calculator.hpp"

#include <redisrpc/redisrpc.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <cmath>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using nlohmann::json;
using redisrpc::dialect;
using redisrpc::test::child_process;
using redisrpc::test::raw_redis;
using redisrpc::test::running_server;
using redisrpc::test::shared_redis;
using redisrpc::test::unique_queue;
using redisrpc::test::wait_until;

namespace {

const std::string python = "/usr/bin/python3";
const std::string peer = std::string(REDISRPC_SOURCE_DIR) + "/tests/interop/peers/codility_peer.py";

class CodilityInterop : public ::testing::Test {
protected:
    std::string url = shared_redis().url();
    std::string prefix = unique_queue("ci");
    raw_redis raw{url};

    /// The Python server, once it printed READY (it pops right after).
    std::unique_ptr<child_process> start_python_server() {
        auto p = std::make_unique<child_process>(std::vector<std::string>{
            python, peer, "server", "--url", url, "--prefix", prefix, "--name", "pycalc", "--id", "py1"});
        if (!wait_until([&] { return p->output().find("READY") != std::string::npos || !p->running(); }, 15s) ||
            p->output().find("READY") == std::string::npos) {
            ADD_FAILURE() << "python peer did not start: " << p->output();
        }
        return p;
    }

    static void stop(child_process& p) {
        p.signal(SIGTERM);
        EXPECT_EQ(p.wait_for(10s), 0) << p.output();
    }

    /// Runs a Python client script; one parsed JSON line per call.
    std::vector<json> run_python_client(const std::string& script, const std::string& timeout = "2") {
        child_process p({python, peer, "client", "--url", url, "--prefix", prefix, "--timeout", timeout, script});
        const auto rc = p.wait_for(60s);
        EXPECT_EQ(rc, 0) << p.output();
        std::vector<json> lines;
        std::istringstream in(p.output());
        for (std::string line; std::getline(in, line);) {
            if (line.empty() || line.front() != '{') continue;
            lines.push_back(json::parse(line));
        }
        return lines;
    }

    redisrpc::client make_client(std::chrono::milliseconds timeout = 5s) {
        return redisrpc::client{url, prefix, {.dialect = dialect::codility, .timeout = timeout}};
    }
};

} // namespace

// =============================================================================================
// Our client -> Python server

TEST_F(CodilityInterop, OurClientCallsPythonServer) {
    auto server = start_python_server();
    auto c = make_client();
    using redisrpc::kw;
    EXPECT_EQ(c.call<double>("clr"), 0.0);
    EXPECT_EQ(c.call<double>("add", kw{{"number", 5}}), 5.0);
    EXPECT_EQ(c.call<double>("sub", kw{{"number", 3}}), 2.0);
    EXPECT_EQ(c.call<double>("mul", kw{{"number", 4}}), 8.0);
    EXPECT_EQ(c.call<double>("div", kw{{"number", 2}}), 4.0);
    EXPECT_EQ(c.call<double>("val"), 4.0);

    // Values survive the trip through Python.
    for (const json& v : {json(9007199254740993LL), json(-0.0), json(1e-7), json("caf\xc3\xa9 \xf0\x9f\x98\x80"),
                          json::parse(R"({"a":[1,{"b":null}],"t":true})"), json(nullptr), json::array()}) {
        EXPECT_EQ(c.call_json("echo", json::array(), {{"x", v}}), v);
    }
    EXPECT_EQ(c.call_json("describe", json::array(), {{"a", 1}, {"b", "x"}}), json::parse(R"({"kw":{"a":1,"b":"x"}})"));
    // A bare NaN from json.dumps.
    EXPECT_TRUE(std::isnan(c.call<double>("nan")));
}

TEST_F(CodilityInterop, PythonServerErrorsAndTimeouts) {
    auto server = start_python_server();
    auto c = make_client(1500ms);
    using redisrpc::kw;
    c.call("clr");
    try {
        c.call<double>("div", kw{{"number", 0}});
        FAIL() << "expected remote_error";
    } catch (const redisrpc::remote_error& e) {
        EXPECT_STREQ(e.what(), "ZeroDivisionError: float division by zero");
        EXPECT_EQ(e.code(), redisrpc::error_code::handler_error);
        ASSERT_TRUE(e.data().is_string()); // err_traceback
        EXPECT_NE(e.data().get<std::string>().find("ZeroDivisionError"), std::string::npos);
    }
    // Positional arguments travel as kw "0": a Python function has no such keyword.
    try {
        c.call<double>("add", 5);
        FAIL() << "expected remote_error";
    } catch (const redisrpc::remote_error& e) {
        EXPECT_NE(std::string(e.what()).find("unexpected keyword argument '0'"), std::string::npos) << e.what();
    }
    // An unknown function is never popped: a timeout, and the request is withdrawn.
    try {
        c.call("nope");
        FAIL() << "expected timeout_error";
    } catch (const redisrpc::timeout_error& e) {
        EXPECT_FALSE(e.outcome_unknown()) << e.what();
    }
    EXPECT_FALSE(raw.exists(prefix + ":nope:calls"));
    EXPECT_EQ(c.call<double>("val"), 0.0); // the Python server is still serving

    // Its heartbeat, as our tooling would look for it.
    const std::string alive = prefix + ":pycalc:py1:alive";
    ASSERT_TRUE(wait_until([&] { return raw.exists(alive); }));
    const auto ttl = raw.ttl(alive);
    EXPECT_GT(ttl, 0);
    EXPECT_LE(ttl, 4);
    stop(*server);
    // Result lists were consumed; only the heartbeat (expiring) may remain.
    for (const auto& key : shared_redis().keys(prefix + "*")) EXPECT_EQ(key, alive);
}

// =============================================================================================
// Python client -> our server

class CodilityInteropOurServer : public CodilityInterop {
protected:
    Calculator calc;
    redisrpc::server srv{url, prefix, {.dialect = dialect::codility, .server_kind = "calc", .server_id = "cpp1"}};

    void SetUp() override {
        // The protocol has keyword arguments only: bind with parameter names.
        srv.bind("clr", &Calculator::clr, &calc);
        srv.bind("add", &Calculator::add, &calc, {"number"});
        srv.bind("sub", &Calculator::sub, &calc, {"number"});
        srv.bind("mul", &Calculator::mul, &calc, {"number"});
        srv.bind("div", &Calculator::div, &calc, {"number"});
        srv.bind("val", &Calculator::val, &calc);
        srv.bind("echo", [](json x) { return x; }, {"x"});
        srv.bind("hypot", [](double x, double y) { return std::hypot(x, y); }, {"x", "y"});
    }
};

TEST_F(CodilityInteropOurServer, Calculator) {
    running_server running{srv};
    const auto lines = run_python_client("calculator");
    ASSERT_EQ(lines.size(), 6U);
    const double expected[] = {0, 5, 2, 8, 4, 4};
    for (std::size_t i = 0; i < lines.size(); ++i) {
        EXPECT_EQ(lines[i]["ok"], true) << lines[i].dump();
        EXPECT_EQ(lines[i]["value"], expected[i]) << lines[i].dump();
    }
    const auto kw = run_python_client("kwargs");
    ASSERT_EQ(kw.size(), 2U);
    EXPECT_EQ(kw[0]["value"], 5.0);
    EXPECT_EQ(kw[1]["value"], 10.0);
    running.stop();
    EXPECT_TRUE(shared_redis().keys(prefix + "*").empty()) << ::testing::PrintToString(shared_redis().keys(prefix + "*"));
}

TEST_F(CodilityInteropOurServer, ErrorsAndTimeouts) {
    running_server running{srv};
    const auto lines = run_python_client("errors", "1");
    ASSERT_EQ(lines.size(), 6U);
    EXPECT_EQ(lines[0]["value"], 0.0);
    EXPECT_EQ(lines[1]["kind"], "remote");
    EXPECT_EQ(lines[1]["error"], "std::domain_error: division by zero");
    EXPECT_EQ(lines[2]["error"], "InvalidParams: add: argument 1: expected number, got string");
    EXPECT_EQ(lines[3]["kind"], "remote");
    EXPECT_EQ(lines[3]["error"].get<std::string>().rfind("InvalidParams: add", 0), 0U) << lines[3].dump();
    EXPECT_EQ(lines[4]["kind"], "timeout"); // no queue for an unbound function, as with the originals
    EXPECT_EQ(lines[5]["value"], 0.0);
    // The Python client leaves its unanswered call queued, with the protocol's expiry.
    const auto ttl = raw.ttl(prefix + ":nope:calls");
    EXPECT_GT(ttl, 0);
    EXPECT_LE(ttl, 120);
    raw.run({"DEL", prefix + ":nope:calls"});
}

TEST_F(CodilityInteropOurServer, ValuesSurvive) {
    running_server running{srv};
    const auto lines = run_python_client("types");
    const json expected = json::parse(R"([0, -42, 9007199254740993, 1e-07, -0.0, 2.5, "h\u00e9llo \ud83d\ude00", "",
        [1, [2, "x"]], {"a": {"b": [true, null]}}, null, true, false, [], {}])");
    ASSERT_EQ(lines.size(), expected.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
        EXPECT_EQ(lines[i]["ok"], true) << lines[i].dump();
        EXPECT_EQ(lines[i]["value"], expected[i]) << lines[i].dump();
    }
    EXPECT_TRUE(std::signbit(lines[4]["value"].get<double>()));
}
