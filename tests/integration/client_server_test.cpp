// Our client against our server through a real redis-server, classic dialect.

#include "support/helpers.hpp"
#include "support/redis_server.hpp"

#include "../../examples/calculator/calculator.hpp"

#include <redisrpc/redisrpc.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <latch>
#include <mutex>
#include <set>
#include <thread>

using namespace std::chrono_literals;
using redisrpc::test::raw_redis;
using redisrpc::test::running_server;
using redisrpc::test::shared_redis;
using redisrpc::test::unique_queue;
using redisrpc::test::wait_until;

namespace {

struct point {
    double x = 0, y = 0;
};
void to_json(nlohmann::json& j, const point& p) { j = {{"x", p.x}, {"y", p.y}}; }
void from_json(const nlohmann::json& j, point& p) {
    j.at("x").get_to(p.x);
    j.at("y").get_to(p.y);
}

class ClientServer : public ::testing::Test {
protected:
    std::string url = shared_redis().url();
    std::string queue = unique_queue();

    redisrpc::client make_client(redisrpc::client_options o = {}) {
        if (o.timeout == redisrpc::client_options{}.timeout) o.timeout = 5s;
        return redisrpc::client{url, queue, o};
    }
    /// Keys under this test's queue, excluding the queue itself.
    std::vector<std::string> leftover_keys() { return shared_redis().keys(queue + "*"); }
};

TEST_F(ClientServer, CalculatorSequenceLikeTheSeeds) {
    Calculator calc;
    redisrpc::server srv{url, queue};
    REDISRPC_EXPOSE(srv, calc, clr, add, sub, mul, div, val);
    running_server running{srv};

    auto c = make_client();
    c.call("clr");
    EXPECT_EQ(c.call<double>("add", 5), 5.0);
    EXPECT_EQ(c.call<double>("sub", 3), 2.0);
    EXPECT_EQ(c.call<double>("mul", 4), 8.0);
    EXPECT_EQ(c.call<double>("div", 2), 4.0);
    EXPECT_EQ(c.call<double>("val"), 4.0);
    EXPECT_EQ(c.call<int>("val"), 4); // integral doubles convert to integers
    running.stop();
    EXPECT_TRUE(leftover_keys().empty());
}

TEST_F(ClientServer, TypedProxyDynamicCallKeywordsAndUserTypes) {
    redisrpc::server srv{url, queue};
    srv.bind("hypot", [](double x, double y) { return std::hypot(x, y); }, {"x", "y"});
    srv.bind("mid", [](point a, point b) { return point{(a.x + b.x) / 2, (a.y + b.y) / 2}; });
    srv.bind("greet", [](std::string name, std::optional<std::string> greeting) {
        return greeting.value_or("hello") + ", " + name;
    });
    srv.bind("nothing", [] {});
    running_server running{srv};

    auto c = make_client();
    auto hypot = c.method<double(double, double)>("hypot");
    EXPECT_DOUBLE_EQ(hypot(3, 4), 5.0);
    EXPECT_DOUBLE_EQ(c.call<double>("hypot", redisrpc::kw{{"y", 4}, {"x", 3}}), 5.0);
    EXPECT_DOUBLE_EQ(c.call<double>("hypot", 3, redisrpc::kw{{"y", 4}}), 5.0);
    const auto m = c.call<point>("mid", point{0, 0}, point{2, 4});
    EXPECT_EQ(m.x, 1.0);
    EXPECT_EQ(m.y, 2.0);
    EXPECT_EQ(c.call<std::string>("greet", "ann"), "hello, ann");
    EXPECT_EQ(c.call<std::string>("greet", "ann", "hi"), "hi, ann");
    EXPECT_TRUE(c.call_json("nothing").is_null());
    const auto j = c.call_json("hypot", nlohmann::json::array({6, 8}));
    EXPECT_EQ(j.get<double>(), 10.0);
}

TEST_F(ClientServer, ErrorsReachTheCallerPrecisely) {
    Calculator calc;
    redisrpc::server srv{url, queue};
    REDISRPC_EXPOSE(srv, calc, clr, add, sub, mul, div, val);
    running_server running{srv};
    auto c = make_client();

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
    try {
        c.call("nope");
        FAIL() << "expected remote_error";
    } catch (const redisrpc::remote_error& e) {
        EXPECT_EQ(e.code(), redisrpc::error_code::method_not_found);
        EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos);
    }
    // Only exact names: no case folding, no prefixes.
    EXPECT_THROW(c.call("ADD", 1), redisrpc::remote_error);
    EXPECT_THROW(c.call("ad", 1), redisrpc::remote_error);
    // A result that does not convert is reported with the method's name.
    try {
        c.call<std::string>("add", 1);
        FAIL() << "expected argument_error";
    } catch (const redisrpc::argument_error& e) {
        EXPECT_NE(std::string(e.what()).find("add: result: expected string"), std::string::npos) << e.what();
    }
    // The server survived all of it.
    EXPECT_EQ(c.call<double>("clr"), 0.0);
    EXPECT_EQ(srv.stats().errors, 5u);
}

TEST_F(ClientServer, TimeoutWithoutServerWithdrawsTheRequestAndLeavesNoKey) {
    auto c = make_client({.timeout = 150ms});
    const auto start = std::chrono::steady_clock::now();
    try {
        c.call("add", 1);
        FAIL() << "expected timeout_error";
    } catch (const redisrpc::timeout_error& e) {
        EXPECT_FALSE(e.outcome_unknown()) << e.what();
    }
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 150ms);
    EXPECT_LT(took, 150ms + 250ms);
    EXPECT_TRUE(leftover_keys().empty()) << "the request must have been withdrawn";
}

TEST_F(ClientServer, TimeoutAfterServerTookTheRequestIsOutcomeUnknownAndReplyExpires) {
    std::mutex m;
    std::condition_variable cv;
    bool release = false;
    redisrpc::server srv{url, queue, {.reply_ttl = 30s}};
    srv.bind("slow", [&] {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return release; });
        return 1;
    });
    running_server running{srv};
    auto c = make_client({.timeout = 200ms});
    try {
        c.call("slow");
        FAIL() << "expected timeout_error";
    } catch (const redisrpc::timeout_error& e) {
        EXPECT_TRUE(e.outcome_unknown()) << e.what();
    }
    {
        std::lock_guard lock(m);
        release = true;
    }
    cv.notify_all();
    // The late reply lands in the abandoned reply list, which must carry a TTL.
    raw_redis raw{url};
    std::vector<std::string> keys;
    ASSERT_TRUE(wait_until([&] {
        keys = shared_redis().keys(queue + ":rpc:*");
        return !keys.empty();
    }));
    ASSERT_EQ(keys.size(), 1u);
    const auto ttl = raw.ttl(keys[0]);
    EXPECT_GT(ttl, 0);
    EXPECT_LE(ttl, 30);
    raw.run({"DEL", keys[0]});
}

TEST_F(ClientServer, SubSecondTimeoutsAreHonoured) {
    auto c = make_client({.timeout = 50ms});
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(c.call("x"), redisrpc::timeout_error);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 300ms);
    EXPECT_THROW(c.call_json("x", nlohmann::json::array(), nlohmann::json::object(), {.timeout = 20ms}),
                 redisrpc::timeout_error);
}

TEST_F(ClientServer, PendingRequestsSurviveServerStartAndAreServed) {
    // A request queued before any server runs must not be deleted when one starts.
    auto c = make_client({.timeout = 5s});
    auto pending = std::async(std::launch::async, [&] { return c.call<int>("one"); });
    raw_redis raw{url};
    ASSERT_TRUE(wait_until([&] { return raw.llen(queue) == 1; }));
    redisrpc::server srv{url, queue};
    srv.bind("one", [] { return 1; });
    running_server running{srv};
    EXPECT_EQ(pending.get(), 1);
}

TEST_F(ClientServer, ClearQueueOnStartIsAnExplicitOption) {
    raw_redis raw{url};
    raw.run({"RPUSH", queue, "stale"});
    redisrpc::server srv{url, queue, {.clear_queue_on_start = true}};
    srv.bind("one", [] { return 1; });
    running_server running{srv};
    // The DEL comes before the first pop: the stale message disappears without being taken.
    ASSERT_TRUE(wait_until([&] { return raw.llen(queue) == 0; }));
    EXPECT_EQ(srv.stats().requests, 0u) << "the stale message was deleted, not read";
    auto c = make_client();
    EXPECT_EQ(c.call<int>("one"), 1);
    EXPECT_EQ(srv.stats().rejected, 0u);
}

TEST_F(ClientServer, StopFinishesTheCallInProgress) {
    std::promise<void> entered;
    std::promise<void> proceed;
    auto proceed_future = proceed.get_future().share();
    redisrpc::server srv{url, queue};
    srv.bind("work", [&] {
        entered.set_value();
        proceed_future.wait();
        return 42;
    });
    std::thread t([&] { srv.run(); });
    auto c = make_client();
    auto result = std::async(std::launch::async, [&] { return c.call<int>("work"); });
    entered.get_future().wait();
    srv.stop(); // while the call runs
    proceed.set_value();
    EXPECT_EQ(result.get(), 42);
    t.join();
    EXPECT_FALSE(srv.running());
}

TEST_F(ClientServer, AsyncCallsFuturesAndCallbacks) {
    redisrpc::server srv{url, queue};
    srv.bind("square", [](long long x) { return x * x; });
    running_server running{srv};
    auto c = make_client();

    std::vector<std::future<long long>> futures;
    for (long long i = 0; i < 500; ++i) futures.push_back(c.async_call<long long>("square", i));
    for (long long i = 0; i < 500; ++i) EXPECT_EQ(futures[i].get(), i * i);

    std::promise<redisrpc::call_result> got;
    c.async_call_json("square", nlohmann::json::array({7}), {}, [&](redisrpc::call_result r) { got.set_value(r); });
    EXPECT_EQ(got.get_future().get().get(), 49);

    auto bad = c.async_call<long long>("square", "x");
    EXPECT_THROW(bad.get(), redisrpc::remote_error);
    running.stop();
    // The shared reply list is consumed: nothing stays behind.
    EXPECT_TRUE(wait_until([&] { return leftover_keys().empty(); }));
}

TEST_F(ClientServer, AsyncTimeoutEndsTheCall) {
    auto c = make_client({.timeout = 100ms});
    auto f = c.async_call<int>("nobody");
    try {
        f.get();
        FAIL() << "expected timeout_error";
    } catch (const redisrpc::timeout_error& e) {
        EXPECT_FALSE(e.outcome_unknown());
    }
    EXPECT_TRUE(leftover_keys().empty());
}

TEST_F(ClientServer, ManyThreadsShareFewConnections) {
    redisrpc::server srv{url, queue, {.workers = 2}};
    srv.bind("id", [](long long x) { return x; });
    running_server running{srv};
    auto c = make_client({.connections = 2});
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 50; ++i)
                if (c.call<long long>("id", t * 1000 + i) == t * 1000 + i) ++ok;
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 16 * 50);
    raw_redis raw{url};
    // 2 pooled + the async engine's 3 + the server's 1 + this one: far fewer than 16 threads.
    const auto clients = raw.run({"CLIENT", "LIST"}).str;
    EXPECT_LE(std::count(clients.begin(), clients.end(), '\n'), 12);
}

TEST_F(ClientServer, SeveralServersShareOneQueue) {
    std::atomic<int> a{0}, b{0};
    redisrpc::server s1{url, queue}, s2{url, queue};
    s1.bind("who", [&] {
        ++a;
        std::this_thread::sleep_for(1ms); // keep each server busy long enough for the other to pop
        return 1;
    });
    s2.bind("who", [&] {
        ++b;
        std::this_thread::sleep_for(1ms);
        return 2;
    });
    running_server r1{s1}, r2{s2};
    auto c = make_client();
    std::vector<std::future<int>> fs;
    for (int i = 0; i < 200; ++i) fs.push_back(c.async_call<int>("who"));
    for (auto& f : fs) f.get();
    EXPECT_EQ(a + b, 200);
    EXPECT_GT(a.load(), 0);
    EXPECT_GT(b.load(), 0);
}

TEST_F(ClientServer, WorkersRunCallsConcurrently) {
    std::atomic<int> now{0}, peak{0};
    std::latch all_in{4};
    redisrpc::server srv{url, queue, {.workers = 4}};
    srv.bind("meet", [&] {
        const int n = ++now;
        int p = peak.load();
        while (n > p && !peak.compare_exchange_weak(p, n)) {
        }
        all_in.count_down();
        all_in.wait(); // only returns if 4 calls run at the same time
        --now;
        return true;
    });
    // Queue 4 requests before the server starts, so one pop takes them all.
    auto c = make_client();
    std::vector<std::future<bool>> fs;
    for (int i = 0; i < 4; ++i) fs.push_back(c.async_call<bool>("meet"));
    raw_redis raw{url};
    ASSERT_TRUE(wait_until([&] { return raw.llen(queue) == 4; }));
    running_server running{srv};
    for (auto& f : fs) EXPECT_TRUE(f.get());
    EXPECT_EQ(peak.load(), 4);
}

TEST_F(ClientServer, MessagePackEncodingIsAnsweredInKind) {
    redisrpc::server srv{url, queue};
    srv.bind("echo", [](nlohmann::json v) { return v; });
    running_server running{srv};
    auto c = make_client({.encoding = redisrpc::encoding::msgpack});
    const nlohmann::json v = {{"a", {1, 2.5, "x", nullptr, true}}, {"b", "héllo"}};
    EXPECT_EQ(c.call_json("echo", nlohmann::json::array({v})), v);
    EXPECT_EQ(c.async_call<nlohmann::json>("echo", v).get(), v);
}

TEST_F(ClientServer, ReplyListsGetATtl) {
    redisrpc::server srv{url, queue, {.reply_ttl = 45s}};
    srv.bind("one", [] { return 1; });
    running_server running{srv};
    raw_redis raw{url};
    // A client that vanished: its reply list is never read.
    const std::string reply = queue + ":rpc:VANISHEDCLIENT000000";
    raw.run({"RPUSH", queue, R"({"function_call":{"name":"one"},"response_queue":")" + reply + "\"}"});
    ASSERT_TRUE(wait_until([&] { return raw.exists(reply); }));
    const auto ttl = raw.ttl(reply);
    EXPECT_GT(ttl, 0);
    EXPECT_LE(ttl, 45);
    EXPECT_EQ(nlohmann::json::parse(*raw.blpop(reply, 1)), nlohmann::json({{"return_value", 1}}));
}

TEST_F(ClientServer, UnreachableRedisGivesAConnectionErrorNamingTheAddress) {
    redisrpc::client c{"redis://127.0.0.1:1", "q", {.timeout = 1s}};
    try {
        c.call("x");
        FAIL() << "expected connection_error";
    } catch (const redisrpc::connection_error& e) {
        EXPECT_NE(std::string(e.what()).find("127.0.0.1:1"), std::string::npos) << e.what();
    }
    redisrpc::server srv{"redis://127.0.0.1:1", "q"};
    srv.bind("x", [] {});
    EXPECT_THROW(srv.run(), redisrpc::connection_error);
}

TEST_F(ClientServer, ServerOverTcpAndClientOverUnixSocket) {
    redisrpc::server srv{shared_redis().tcp_url(), queue};
    srv.bind("one", [] { return 1; });
    running_server running{srv};
    redisrpc::client c{shared_redis().unix_url(), queue, {.timeout = 5s}};
    EXPECT_EQ(c.call<int>("one"), 1);
}

} // namespace

namespace {

TEST_F(ClientServer, PerMethodStatsAndTheBuiltinRpcStatsMethod) {
    Calculator calc;
    redisrpc::server srv{url, queue};
    REDISRPC_EXPOSE(srv, calc, clr, add, sub, mul, div, val);
    running_server running{srv};
    auto c = make_client();
    for (int i = 0; i < 10; ++i) c.call<double>("add", 1);
    EXPECT_THROW(c.call<double>("div", 0), redisrpc::remote_error);
    EXPECT_THROW(c.call("nope"), redisrpc::remote_error);

    const auto s = srv.stats();
    ASSERT_TRUE(s.methods.count("add"));
    EXPECT_EQ(s.methods.at("add").calls, 10u);
    EXPECT_EQ(s.methods.at("add").errors, 0u);
    EXPECT_GT(s.methods.at("add").p99_ms, 0.0);
    EXPECT_GE(s.methods.at("add").p99_ms, s.methods.at("add").p50_ms);
    EXPECT_EQ(s.methods.at("div").errors, 1u);
    EXPECT_EQ(s.methods.at("(unknown)").errors, 1u);

    const auto j = c.call_json("rpc.stats");
    EXPECT_EQ(j.at("methods").at("add").at("calls"), 10);
    EXPECT_EQ(j.at("server_id"), s.server_id);
    EXPECT_GE(j.at("requests").get<int>(), 12);
    // The rpc.stats request itself was taken and not yet answered when the figures were read.
    EXPECT_GE(j.at("in_flight").get<int>(), 1);
    // Every answered call leaves the in-flight gauge once Redis confirmed its reply.
    EXPECT_TRUE(wait_until([&] { return srv.stats().in_flight == 0; })) << srv.stats().in_flight;
}

TEST_F(ClientServer, InFlightCountsTakenRequestsUntilTheirRepliesAreOut) {
    redisrpc::server srv{url, queue, {.workers = 2}};
    std::atomic<bool> release{false};
    srv.bind("hold", [&release] {
        while (!release.load()) std::this_thread::yield();
        return 1;
    });
    auto c = make_client();
    auto first = c.async_call<int>("hold");
    auto second = c.async_call<int>("hold");
    // Both wait in Redis before the server starts, so its first pop takes them together.
    raw_redis raw{url};
    ASSERT_TRUE(wait_until([&] { return raw.llen(queue) == 2; }));
    running_server running{srv};
    EXPECT_TRUE(wait_until([&] { return srv.stats().in_flight == 2; })) << srv.stats().in_flight;
    release.store(true);
    EXPECT_EQ(first.get(), 1);
    EXPECT_EQ(second.get(), 1);
    EXPECT_TRUE(wait_until([&] { return srv.stats().in_flight == 0; })) << srv.stats().in_flight;
}

TEST_F(ClientServer, ClassicAndJsonRpcEndpointsKeepAHeartbeatKeyWhileServing) {
    redisrpc::server srv{url, queue, {.server_id = "srv1"}};
    srv.bind("one", [] { return 1; });
    srv.listen(redisrpc::dialect::jsonrpc, queue + ".jsonrpc");
    raw_redis raw{url};
    const std::vector<std::string> keys{queue + ":server:srv1:alive", queue + ".jsonrpc:server:srv1:alive"};
    {
        running_server running{srv};
        for (const auto& key : keys) {
            ASSERT_TRUE(wait_until([&] { return raw.exists(key); })) << key;
            const auto ttl = raw.ttl(key);
            EXPECT_GT(ttl, 0);
            EXPECT_LE(ttl, 4);
        }
    }
    for (const auto& key : keys) EXPECT_FALSE(raw.exists(key)) << "a stopped server removes its heartbeat " << key;
}

} // namespace
