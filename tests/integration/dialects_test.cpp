// Our client against our server through a real redis-server in the Codility and JSON-RPC 2.0
// dialects (and classic alongside), plus raw JSON-RPC messages and the Codility key rules.

#include "support/helpers.hpp"
#include "support/redis_server.hpp"

#include "../../examples/calculator/calculator.hpp"

#include <redisrpc/redisrpc.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <future>
#include <string>
#include <tuple>

using namespace std::chrono_literals;
using nlohmann::json;
using redisrpc::dialect;
using redisrpc::encoding;
using redisrpc::test::raw_redis;
using redisrpc::test::running_server;
using redisrpc::test::shared_redis;
using redisrpc::test::unique_queue;
using redisrpc::test::wait_until;

namespace {

const char* dialect_name(dialect d) {
    switch (d) {
    case dialect::classic: return "classic";
    case dialect::codility: return "codility";
    case dialect::jsonrpc: return "jsonrpc";
    }
    return "?";
}

class Dialects : public ::testing::TestWithParam<std::tuple<dialect, encoding>> {
protected:
    std::string url = shared_redis().url();
    std::string name = unique_queue("dq");
    dialect kind() const { return std::get<0>(GetParam()); }
    encoding enc() const { return std::get<1>(GetParam()); }

    redisrpc::server make_server(redisrpc::server_options o = {}) {
        o.dialect = kind();
        return redisrpc::server{url, name, o};
    }
    redisrpc::client make_client(std::chrono::milliseconds timeout = 5s) {
        return redisrpc::client{url, name, {.dialect = kind(), .encoding = enc(), .timeout = timeout}};
    }
    std::vector<std::string> leftover_keys() { return shared_redis().keys(name + "*"); }
};

std::string param_name(const ::testing::TestParamInfo<std::tuple<dialect, encoding>>& info) {
    return std::string(dialect_name(std::get<0>(info.param))) +
           (std::get<1>(info.param) == encoding::msgpack ? "_msgpack" : "_json");
}

} // namespace

INSTANTIATE_TEST_SUITE_P(AllDialects, Dialects,
                         ::testing::Combine(::testing::Values(dialect::classic, dialect::codility, dialect::jsonrpc),
                                            ::testing::Values(encoding::json, encoding::msgpack)),
                         param_name);

TEST_P(Dialects, CalculatorSequence) {
    Calculator calc;
    auto srv = make_server();
    REDISRPC_EXPOSE(srv, calc, clr, add, sub, mul, div, val);
    running_server running{srv};

    auto c = make_client();
    c.call("clr");
    EXPECT_EQ(c.call<double>("add", 5), 5.0);
    EXPECT_EQ(c.call<double>("sub", 3), 2.0);
    EXPECT_EQ(c.call<double>("mul", 4), 8.0);
    EXPECT_EQ(c.call<double>("div", 2), 4.0);
    EXPECT_EQ(c.call<double>("val"), 4.0);
    running.stop();
    // Call queues, result and reply lists are consumed; the heartbeat is deleted at stop.
    EXPECT_TRUE(leftover_keys().empty()) << ::testing::PrintToString(leftover_keys());
}

TEST_P(Dialects, KeywordArgumentsAndValues) {
    auto srv = make_server();
    srv.bind("hypot", [](double x, double y) { return std::hypot(x, y); }, {"x", "y"});
    srv.bind("echo", [](json v) { return v; });
    running_server running{srv};

    auto c = make_client();
    EXPECT_DOUBLE_EQ(c.call<double>("hypot", redisrpc::kw{{"y", 4}, {"x", 3}}), 5.0);
    EXPECT_DOUBLE_EQ(c.call<double>("hypot", 6, 8), 10.0);
    if (kind() == dialect::jsonrpc) {
        // JSON-RPC params are by position or by name, never both.
        EXPECT_THROW(c.call<double>("hypot", 3, redisrpc::kw{{"y", 4}}), redisrpc::usage_error);
    } else {
        EXPECT_DOUBLE_EQ(c.call<double>("hypot", 3, redisrpc::kw{{"y", 4}}), 5.0);
    }
    const json value = {{"s", "caf\xc3\xa9 \xf0\x9f\x98\x80"}, {"big", 9007199254740993LL}, {"neg", -0.5},
                        {"list", json::array({nullptr, true, json::object()})}};
    EXPECT_EQ(c.call_json("echo", json::array({value})), value);
}

TEST_P(Dialects, ErrorsReachTheCallerPrecisely) {
    Calculator calc;
    auto srv = make_server();
    REDISRPC_EXPOSE(srv, calc, clr, add, sub, mul, div, val);
    running_server running{srv};
    auto c = make_client(kind() == dialect::codility ? 500ms : 5s);

    try {
        c.call<double>("div", 0);
        FAIL() << "expected remote_error";
    } catch (const redisrpc::remote_error& e) {
        EXPECT_STREQ(e.what(), "std::domain_error: division by zero");
        EXPECT_EQ(e.code(), redisrpc::error_code::handler_error);
    }
    try {
        c.call<double>("add", "five");
        FAIL() << "expected remote_error";
    } catch (const redisrpc::remote_error& e) {
        EXPECT_STREQ(e.what(), "add: argument 1: expected number, got string");
        EXPECT_EQ(e.code(), redisrpc::error_code::invalid_params);
    }
    if (kind() == dialect::codility) {
        // No queue is popped for an unbound function: like the original peers, the call times
        // out, and the request is withdrawn.
        try {
            c.call("nope");
            FAIL() << "expected timeout_error";
        } catch (const redisrpc::timeout_error& e) {
            EXPECT_FALSE(e.outcome_unknown()) << e.what();
        }
    } else {
        try {
            c.call("nope");
            FAIL() << "expected remote_error";
        } catch (const redisrpc::remote_error& e) {
            EXPECT_EQ(e.code(), redisrpc::error_code::method_not_found);
            EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos);
        }
    }
    EXPECT_EQ(c.call<double>("clr"), 0.0); // the server survived
    running.stop();
    EXPECT_TRUE(leftover_keys().empty()) << ::testing::PrintToString(leftover_keys());
}

TEST_P(Dialects, AsyncCalls) {
    auto srv = make_server();
    srv.bind("square", [](long long x) { return x * x; });
    running_server running{srv};
    auto c = make_client();
    std::vector<std::future<long long>> futures;
    for (long long i = 0; i < 100; ++i) futures.push_back(c.async_call<long long>("square", i));
    for (long long i = 0; i < 100; ++i) EXPECT_EQ(futures[i].get(), i * i);
    auto bad = c.async_call<long long>("square", "x");
    EXPECT_THROW(bad.get(), redisrpc::remote_error);
    running.stop();
    EXPECT_TRUE(wait_until([&] { return leftover_keys().empty(); }));
}

// =============================================================================================
// One object, three dialects, one server

TEST(DialectsTogether, OneServerSpeaksAllThreeDialects) {
    const std::string url = shared_redis().url();
    const std::string base = unique_queue("dq");
    Calculator calc;
    redisrpc::server srv{url, base + ":classic"};
    srv.listen(dialect::jsonrpc, base + ":jsonrpc").listen(dialect::codility, base + ":codility");
    REDISRPC_EXPOSE(srv, calc, clr, add, sub, mul, div, val);
    running_server running{srv};

    redisrpc::client classic{url, base + ":classic", {.timeout = 5s}};
    redisrpc::client jsonrpc{url, base + ":jsonrpc", {.dialect = dialect::jsonrpc, .timeout = 5s}};
    redisrpc::client codility{url, base + ":codility", {.dialect = dialect::codility, .timeout = 5s}};
    EXPECT_EQ(classic.call<double>("clr"), 0.0);
    EXPECT_EQ(jsonrpc.call<double>("add", 5), 5.0);
    EXPECT_EQ(codility.call<double>("sub", 3), 2.0);
    EXPECT_EQ(classic.call<double>("mul", 4), 8.0);
    EXPECT_EQ(jsonrpc.call<double>("div", 2), 4.0);
    EXPECT_EQ(codility.call<double>("val"), 4.0); // one accumulator behind all three
    EXPECT_EQ(srv.stats().calls, 6U);
    running.stop();
    EXPECT_TRUE(shared_redis().keys(base + "*").empty());
}

// =============================================================================================
// JSON-RPC: the specification's examples pushed raw through Redis

class JsonRpcRaw : public ::testing::Test {
protected:
    std::string url = shared_redis().url();
    std::string queue = unique_queue("jr");
    std::string reply = queue + ":rpc:RAWTEST1";
    raw_redis raw{url};
    redisrpc::server srv{url, queue, {.dialect = dialect::jsonrpc, .reply_ttl = 30s}};
    std::atomic<int> hellos{0};

    void SetUp() override {
        srv.bind("subtract", [](int minuend, int subtrahend) { return minuend - subtrahend; }, {"minuend", "subtrahend"});
        srv.bind("sum", [](int a, int b, int c) { return a + b + c; });
        srv.bind("update", [](int, int, int, int, int) {});
        srv.bind("notify_hello", [this](int) { ++hellos; });
        srv.bind("notify_sum", [](int, int, int) {});
        srv.bind("get_data", [] { return json::array({"hello", 5}); });
    }

    void push(const std::string& message) { raw.run({"RPUSH", queue, message}); }
    /// Sends `body` with the reply prefix and returns the reply (empty when none came).
    std::string ask(const std::string& body) {
        push(reply + "\n" + body);
        return raw.blpop(reply, 5).value_or("");
    }
    /// Sends `body`, then a sentinel request: the sentinel's answer must be the first reply.
    void expect_no_reply(const std::string& body) {
        push(reply + "\n" + body);
        EXPECT_EQ(ask(R"({"jsonrpc":"2.0","method":"get_data","id":"sentinel"})"),
                  R"({"jsonrpc":"2.0","result":["hello",5],"id":"sentinel"})")
            << body;
        EXPECT_EQ(raw.llen(reply), 0);
    }
};

TEST_F(JsonRpcRaw, SpecificationExamples) {
    running_server running{srv};
    // rpc call with positional / named parameters
    EXPECT_EQ(ask(R"({"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1})"),
              R"({"jsonrpc":"2.0","result":19,"id":1})");
    EXPECT_EQ(ask(R"({"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2})"),
              R"({"jsonrpc":"2.0","result":-19,"id":2})");
    EXPECT_EQ(ask(R"({"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3})"),
              R"({"jsonrpc":"2.0","result":19,"id":3})");
    // notifications
    expect_no_reply(R"({"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]})");
    expect_no_reply(R"({"jsonrpc": "2.0", "method": "foobar"})");
    // non-existent method
    EXPECT_EQ(ask(R"({"jsonrpc": "2.0", "method": "foobar", "id": "1"})"),
              R"({"jsonrpc":"2.0","error":{"code":-32601,"message":"unknown method 'foobar'"},"id":"1"})");
    // invalid JSON
    json r = json::parse(ask(R"({"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz])"));
    EXPECT_EQ(r["error"]["code"], -32700);
    EXPECT_TRUE(r["id"].is_null());
    // invalid Request object
    r = json::parse(ask(R"({"jsonrpc": "2.0", "method": 1, "params": "bar"})"));
    EXPECT_EQ(r["error"]["code"], -32600);
    EXPECT_TRUE(r["id"].is_null());
    // batch, invalid JSON
    r = json::parse(ask(R"([{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method"])"));
    EXPECT_EQ(r["error"]["code"], -32700);
    // empty array
    EXPECT_EQ(ask("[]"), R"({"jsonrpc":"2.0","error":{"code":-32600,"message":"empty batch"},"id":null})");
    // invalid batch, not empty / invalid batch
    r = json::parse(ask("[1]"));
    ASSERT_EQ(r.size(), 1U);
    EXPECT_EQ(r[0]["error"]["code"], -32600);
    r = json::parse(ask("[1,2,3]"));
    ASSERT_EQ(r.size(), 3U);
    for (const auto& e : r) EXPECT_EQ(e["error"]["code"], -32600);
    // mixed batch
    r = json::parse(ask(R"([
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}])"));
    ASSERT_EQ(r.size(), 5U) << r.dump();
    EXPECT_EQ(r[0], json::parse(R"({"jsonrpc":"2.0","result":7,"id":"1"})"));
    EXPECT_EQ(r[1], json::parse(R"({"jsonrpc":"2.0","result":19,"id":"2"})"));
    EXPECT_EQ(r[2]["error"]["code"], -32600);
    EXPECT_TRUE(r[2]["id"].is_null());
    EXPECT_EQ(r[3]["error"]["code"], -32601);
    EXPECT_EQ(r[3]["id"], "5");
    EXPECT_EQ(r[4], json::parse(R"({"jsonrpc":"2.0","result":["hello",5],"id":"9"})"));
    // all-notification batch
    expect_no_reply(R"([{"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
                        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}])");
    EXPECT_EQ(hellos.load(), 2); // notifications ran
}

TEST_F(JsonRpcRaw, ReplyAddressRules) {
    running_server running{srv};
    // Without a prefix: run, not answered.
    push(R"({"jsonrpc":"2.0","method":"notify_hello","params":[1],"id":1})");
    EXPECT_TRUE(wait_until([&] { return hellos.load() == 1; }));
    // A reply list outside <queue>:rpc: is refused: nothing run, nothing written there.
    const std::string foreign = unique_queue("elsewhere");
    push(foreign + "\n" + R"({"jsonrpc":"2.0","method":"notify_hello","params":[1],"id":2})");
    push(queue + "\n" + R"({"jsonrpc":"2.0","method":"notify_hello","params":[1],"id":3})"); // the queue itself
    EXPECT_EQ(ask(R"({"jsonrpc":"2.0","method":"get_data","id":4})"), R"({"jsonrpc":"2.0","result":["hello",5],"id":4})");
    EXPECT_EQ(hellos.load(), 1);
    EXPECT_FALSE(raw.exists(foreign));
    EXPECT_GE(srv.stats().rejected, 2U);
    // Replies carry the reply TTL.
    push(reply + "\n" + R"({"jsonrpc":"2.0","method":"get_data","id":5})");
    ASSERT_TRUE(wait_until([&] { return raw.exists(reply); }));
    const auto ttl = raw.ttl(reply);
    EXPECT_GT(ttl, 0);
    EXPECT_LE(ttl, 30);
    raw.run({"DEL", reply});
}

TEST_F(JsonRpcRaw, HostileMessagesDoNotStopTheServer) {
    running_server running{srv};
    const std::string messages[] = {
        "",
        "\x80\x04\x95\x1e\x00\x00\x00\x00\x00\x00\x00}\x94(",
        reply + "\n" + std::string(100000, '[') + std::string(100000, ']'),
        reply + "\n" + std::string(2 * 1024 * 1024, '1'),
        std::string(10000, 'x') + "\n{}",
        reply + "\n\xff\xfe",
    };
    for (const auto& m : messages) push(m);
    for (int i = 0; i < 3; ++i) { // deep, huge and \xff\xfe are answered with -32700
        const auto r = raw.blpop(reply, 5);
        ASSERT_TRUE(r.has_value());
        EXPECT_EQ(json::parse(*r)["error"]["code"], -32700) << *r;
    }
    EXPECT_EQ(ask(R"({"jsonrpc":"2.0","method":"sum","params":[1,2,3],"id":1})"), R"({"jsonrpc":"2.0","result":6,"id":1})");
}

// =============================================================================================
// Codility: heartbeat and key lifetimes

class CodilityKeys : public ::testing::Test {
protected:
    std::string url = shared_redis().url();
    std::string prefix = unique_queue("cod");
    raw_redis raw{url};
};

TEST_F(CodilityKeys, HeartbeatWhileServingGoneAfterStop) {
    redisrpc::server srv{url, prefix, {.dialect = dialect::codility, .server_kind = "calc", .server_id = "s1"}};
    srv.bind("one", [] { return 1; });
    const std::string key = prefix + ":calc:s1:alive";
    {
        running_server running{srv};
        ASSERT_TRUE(wait_until([&] { return raw.exists(key); }));
        EXPECT_EQ(raw.run({"GET", key}).str, "1");
        for (int i = 0; i < 3; ++i) {
            const auto ttl = raw.ttl(key);
            EXPECT_GT(ttl, 0);
            EXPECT_LE(ttl, 4);
            std::this_thread::sleep_for(1100ms); // across a refresh period
        }
        EXPECT_TRUE(raw.exists(key)); // refreshed, not expired
    }
    EXPECT_FALSE(raw.exists(key));

    // Without a server_id a random one is chosen; clients find servers by pattern.
    redisrpc::server anon{url, prefix, {.dialect = dialect::codility, .server_kind = "calc"}};
    anon.bind("one", [] { return 1; });
    running_server running{anon};
    std::vector<std::string> alive;
    ASSERT_TRUE(wait_until([&] {
        alive = shared_redis().keys(prefix + ":calc:*:alive");
        return !alive.empty();
    }));
    EXPECT_EQ(alive.size(), 1U);
}

TEST_F(CodilityKeys, EveryKeyWrittenExpiresWithin120s) {
    // The client's call queue: MULTI RPUSH EXPIRE 120 EXEC.
    {
        redisrpc::client c{url, prefix, {.dialect = dialect::codility, .timeout = 3s}};
        auto pending = c.async_call<int>("one");
        const std::string queue = prefix + ":one:calls";
        ASSERT_TRUE(wait_until([&] { return raw.exists(queue); }));
        const auto ttl = raw.ttl(queue);
        EXPECT_GT(ttl, 0);
        EXPECT_LE(ttl, 120);
        // Now a server takes it.
        redisrpc::server srv{url, prefix, {.dialect = dialect::codility}};
        srv.bind("one", [] { return 1; });
        running_server running{srv};
        EXPECT_EQ(pending.get(), 1);
    }
    // The server's result list, for a call pushed raw the way the Python client does.
    redisrpc::server srv{url, prefix, {.dialect = dialect::codility}};
    srv.bind("add", [](double a, double b) { return a + b; }, {"a", "b"});
    running_server running{srv};
    const std::string id = "6f1c1d0e-3d53-4a3e-9d0c-2f6b9e6a0b11";
    raw.run({"RPUSH", prefix + ":add:calls",
             R"({"id": ")" + id + R"(", "ts": "2024-05-01T12:00:00.123456", "kw": {"a": 1, "b": 2.5}})"});
    const std::string result = prefix + ":add:result:" + id;
    ASSERT_TRUE(wait_until([&] { return raw.exists(result); }));
    const auto ttl = raw.ttl(result);
    EXPECT_GT(ttl, 0);
    EXPECT_LE(ttl, 120);
    const json r = json::parse(raw.blpop(result, 1).value_or("null"));
    EXPECT_EQ(r["res"], 3.5);
    EXPECT_TRUE(r["ts"].is_string());

    // An unusable id cannot be answered: dropped, no key written anywhere.
    const auto before = srv.stats().dropped;
    raw.run({"RPUSH", prefix + ":add:calls", R"({"id": "../../x", "kw": {"a": 1, "b": 2}})"});
    raw.run({"RPUSH", prefix + ":add:calls", "not json"});
    EXPECT_TRUE(wait_until([&] { return srv.stats().dropped >= before + 2; }));
    running.stop();
    EXPECT_TRUE(shared_redis().keys(prefix + "*").empty()) << ::testing::PrintToString(shared_redis().keys(prefix + "*"));
}

TEST(DialectsTogether, JsonRpcClientWithoutIdsUsesNullIds) {
    // ids_echoed = false (for other JSON-RPC servers): "id": null, still a request, one reply
    // list per call.
    const std::string url = shared_redis().url();
    const std::string queue = unique_queue("dq");
    redisrpc::server srv{url, queue, {.dialect = dialect::jsonrpc}};
    srv.bind("twice", [](int x) { return 2 * x; });
    running_server running{srv};
    redisrpc::client c{url, queue, {.dialect = dialect::jsonrpc, .timeout = 5s, .ids_echoed = false}};
    EXPECT_EQ(c.call<int>("twice", 21), 42);
    auto f = c.async_call<int>("twice", 4);
    EXPECT_EQ(f.get(), 8);
}
