// The fault-injection suite (ctest label `faults`): real redis-server and server processes,
// killed and paused for real. Every scenario records the calls it makes and checks the history:
// no call hangs, no result of another call, no double execution in at-most-once mode, no lost
// request in at-least-once mode, no key left without a TTL, the servers still alive.

#include "fault_support.hpp"

#include <redisrpc/admin.hpp>

#include <csignal>

namespace redisrpc::test {
namespace {

constexpr const char* most = "at-most-once";
constexpr const char* least = "at-least-once";

// A sleep here is the fault itself (how long Redis stays down), not a stand-in for a condition.
void hold_fault(std::chrono::milliseconds how_long) {
    std::this_thread::sleep_for(how_long);
}

TEST(Faults, RedisKilledAndRestartedUnderLoad) {
    redis_server redis;
    service svc(redis, "faults:restart");
    svc.start("s1", most);
    svc.start("s2", most);
    client c(redis.url(), svc.queue(), {.timeout = 1s});
    history h;
    {
        load l(c, h, "restart", 3, 1s);
        ASSERT_TRUE(wait_until([&] { return h.results_after(steady::time_point{}) >= 20; }, 10s))
            << h.summary();
        redis.kill();
        hold_fault(1s);
        redis.restart();
        const auto back = steady::now();
        // Each server resumes (writes its heartbeat again) within ~3 s of Redis's return.
        for (const auto* id : {"s1", "s2"}) {
            EXPECT_TRUE(
                wait_until([&] { return key_exists(redis.url(), svc.heartbeat_key(id)); }, 3s + end_slack))
                << id << " did not resume within 3 s";
        }
        ASSERT_TRUE(wait_until([&] { return h.results_after(back) >= 20; }, 10s)) << h.summary();
        l.stop();
    }
    check_history(h, svc, {.at_least_once = false});
    svc.expect_alive({"s1", "s2"});
    EXPECT_EQ(c.call<std::string>("work", "final", 0), "final");
    // No busy loop while Redis was down: capped exponential backoff, a handful of attempts.
    for (const auto* id : {"s1", "s2"}) {
        const std::string out = svc.process(id).output();
        int attempts = 0;
        for (auto at = out.find("cannot reach redis"); at != std::string::npos;
             at = out.find("cannot reach redis", at + 1)) {
            ++attempts;
        }
        EXPECT_LE(attempts, 12) << id << " retried too often:\n" << out;
    }
    svc.stop_gracefully();
    expect_no_leaked_keys(redis);
}

TEST(Faults, SigtermAnswersTakenCallsAndLeavesTheRestQueued) {
    redis_server redis;
    service svc(redis, "faults:sigterm");
    svc.start("s1", most);
    client c(redis.url(), svc.queue());
    history h;
    std::vector<std::thread> callers;
    for (int i = 0; i < 4; ++i) {
        callers.emplace_back([&, i] { h.add(timed_call(c, "t" + std::to_string(i), 300, 10s)); });
    }
    ASSERT_EQ(svc.wait_any_started(), "s1");
    svc.process("s1").signal(SIGTERM);
    const auto code = svc.process("s1").wait_for(10s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 0) << svc.process("s1").output();
    // Whatever s1 did not take is still queued: a new server answers it.
    svc.start("s2", most);
    for (auto& t : callers) {
        t.join();
    }
    for (const auto& r : h.all()) {
        EXPECT_EQ(r.kind, outcome::result) << r.token << ": " << r.text;
    }
    check_history(h, svc, {.at_least_once = false, .all_accepted_run = true});
    svc.stop_gracefully();
    expect_no_leaked_keys(redis);
}

TEST(Faults, RedisPausedWithSigstop) {
    redis_server redis;
    service svc(redis, "faults:pause");
    svc.start("s1", most);
    svc.start("s2", most);
    client c(redis.url(), svc.queue(), {.timeout = 500ms});
    client async_c(redis.url(), svc.queue(), {.timeout = 500ms});
    history h;
    std::atomic<bool> stop_async{false};
    std::atomic<int> async_open{0};
    std::thread async_load([&] {
        // Async calls share one reply list and a timer thread: none may outlive its deadline either.
        for (int seq = 0; !stop_async.load(); ++seq) {
            auto rec = std::make_shared<call_record>();
            rec->token = "pause-async-" + std::to_string(seq);
            rec->timeout = 500ms;
            rec->started = steady::now();
            ++async_open;
            async_c.async_call_json(
                "work", {rec->token, 5}, nlohmann::json::object(), [&h, &async_open, rec](call_result r) {
                    rec->ended = steady::now();
                    if (r.ok()) {
                        rec->kind = outcome::result;
                        rec->value = r.value.is_string() ? r.value.get<std::string>() : r.value.dump();
                    } else {
                        classify(r.error, *rec);
                    }
                    h.add(*rec);
                    --async_open;
                });
            std::this_thread::sleep_for(10ms);
        }
    });
    {
        load l(c, h, "pause", 3, 500ms);
        ASSERT_TRUE(wait_until([&] { return h.results_after(steady::time_point{}) >= 20; }, 10s))
            << h.summary();
        redis.pause();
        hold_fault(1500ms);
        redis.resume();
        const auto back = steady::now();
        ASSERT_TRUE(wait_until([&] { return h.results_after(back) >= 20; }, 10s)) << h.summary();
        l.stop();
    }
    stop_async.store(true);
    async_load.join();
    ASSERT_TRUE(wait_until([&] { return async_open.load() == 0; }, 2s));
    check_history(h, svc, {.at_least_once = false});
    svc.expect_alive({"s1", "s2"});
    EXPECT_EQ(c.call<std::string>("work", "final", 0), "final");
    svc.stop_gracefully();
    expect_no_leaked_keys(redis);
}

TEST(Faults, ServerKilledMidCallAtMostOnce) {
    redis_server redis;
    service svc(redis, "faults:kill-most");
    svc.start("s1", most);
    svc.start("s2", most);
    client c(redis.url(), svc.queue());
    history h;
    std::thread caller([&] { h.add(timed_call(c, "victim", 2000, 2500ms)); });
    const std::string who = svc.wait_started("victim");
    ASSERT_FALSE(who.empty());
    svc.process(who).signal(SIGKILL);
    caller.join();
    const auto records = h.all();
    ASSERT_EQ(records.size(), 1U);
    // The server took it and died: the caller cannot know whether it ran.
    EXPECT_EQ(records[0].kind, outcome::outcome_unknown) << records[0].text;
    const std::string survivor = who == "s1" ? "s2" : "s1";
    // The survivor answers, and nobody runs the lost request again.
    EXPECT_EQ(c.call<std::string>("work", "after", 0), "after");
    check_history(h, svc, {.at_least_once = false});
    EXPECT_EQ(svc.starts()["victim"].size(), 1U);
    svc.expect_alive({survivor});
    svc.stop_gracefully();
    expect_no_leaked_keys(redis); // the dead server's heartbeat key has a TTL
}

TEST(Faults, ServerKilledMidCallAtLeastOnce) {
    redis_server redis;
    service svc(redis, "faults:kill-least");
    svc.start("s1", least);
    svc.start("s2", least);
    client c(redis.url(), svc.queue());
    history h;
    // Several calls in flight, so the victim holds one running and possibly more taken ones.
    std::vector<std::thread> callers;
    for (int i = 0; i < 6; ++i)
        callers.emplace_back([&, i] { h.add(timed_call(c, "job" + std::to_string(i), 400, 20s)); });
    const std::string who = svc.wait_any_started(); // the first server to start any of them
    ASSERT_FALSE(who.empty());
    svc.process(who).signal(SIGKILL);
    for (auto& t : callers) {
        t.join();
    }
    // Every request was accepted: every one must have run (the reaper gave the victim's back).
    for (const auto& r : h.all()) {
        EXPECT_EQ(r.kind, outcome::result) << r.token << ": " << r.text;
    }
    check_history(h, svc, {.at_least_once = true, .all_accepted_run = true});
    const std::string survivor = who == "s1" ? "s2" : "s1";
    svc.expect_alive({survivor});
    EXPECT_FALSE(key_exists(redis.url(), svc.queue() + ":processing:" + who))
        << "the victim's work was not reaped";
    svc.stop_gracefully();
    expect_no_leaked_keys(redis);
    EXPECT_FALSE(key_exists(redis.url(), svc.queue() + ":processing:" + survivor));
}

TEST(Faults, ServerPausedPastItsHeartbeat) {
    redis_server redis;
    service svc(redis, "faults:stopped-server");
    svc.start("s1", most);
    client plain(redis.url(), svc.queue(), {.timeout = 700ms});
    client fast(redis.url(), svc.queue(), {.timeout = 700ms, .fail_fast_without_server = true});
    EXPECT_EQ(fast.call<std::string>("work", "before", 0), "before");

    svc.process("s1").signal(SIGSTOP);
    ASSERT_TRUE(svc.process("s1").wait_stopped());
    // The heartbeat (TTL 4 s) is refreshed only by a healthy serve loop: it must lapse.
    ASSERT_TRUE(wait_until([&] { return !key_exists(redis.url(), svc.heartbeat_key("s1")); }, 6s));
    EXPECT_TRUE(admin::live_servers(redis.url(), svc.queue()).empty());

    history h;
    const auto t0 = steady::now();
    EXPECT_THROW((void)fast.call<std::string>("work", "refused", 0), no_live_server_error);
    EXPECT_LT(steady::now() - t0, 100ms + end_slack) << "fail-fast must not wait for the deadline";
    // Without fail-fast the call times out; the frozen server may hold it (popped before the stop).
    h.add(timed_call(plain, "frozen", 0, 700ms));
    ASSERT_NE(h.all()[0].kind, outcome::result);

    svc.process("s1").signal(SIGCONT);
    EXPECT_TRUE(wait_until([&] { return key_exists(redis.url(), svc.heartbeat_key("s1")); }, 3s));
    EXPECT_EQ(fast.call<std::string>("work", "after", 0), "after");
    // A request the frozen server held expired meanwhile: it is dropped, never run late.
    check_history(h, svc, {.at_least_once = false});
    EXPECT_TRUE(svc.starts()["frozen"].empty());
    svc.expect_alive({"s1"});
    svc.stop_gracefully();
    expect_no_leaked_keys(redis);
}

TEST(Faults, PausedServerInAtLeastOnceModeIsReapedAndDuplicatesAreIgnored) {
    redis_server redis;
    service svc(redis, "faults:stopped-least");
    svc.start("s1", least);
    svc.start("s2", least);
    client c(redis.url(), svc.queue(), {.timeout = 20s});
    history h;
    // Async calls share one reply list: the paused server's late duplicate lands there.
    auto first =
        std::make_shared<call_record>(call_record{.token = "held", .started = steady::now(), .timeout = 20s});
    std::promise<void> first_done;
    c.async_call_json("work", {"held", 1000}, nlohmann::json::object(), [&, first](call_result r) {
        first->ended = steady::now();
        if (r.ok()) {
            first->kind = outcome::result;
            first->value = r.value.get<std::string>();
        } else {
            classify(r.error, *first);
        }
        first_done.set_value();
    });
    const std::string who = svc.wait_started("held");
    ASSERT_FALSE(who.empty());
    svc.process(who).signal(SIGSTOP);
    ASSERT_TRUE(svc.process(who).wait_stopped());
    // The other server reaps the held request once the heartbeat lapses, and answers it.
    ASSERT_EQ(first_done.get_future().wait_for(15s), std::future_status::ready);
    h.add(*first);
    EXPECT_EQ(first->kind, outcome::result) << first->text;
    svc.process(who).signal(SIGCONT);
    // The resumed server finishes too and pushes a second reply: the client must drop it.
    ASSERT_TRUE(wait_until([&] { return svc.starts()["held"].size() == 2; }, 5s));
    ASSERT_TRUE(wait_until([&] { return svc.logged("done", "held", who); }, 5s));
    const std::string probe = c.async_call<std::string>("work", "probe", 0).get();
    EXPECT_EQ(probe, "probe");
    check_history(h, svc, {.at_least_once = true, .all_accepted_run = true});
    svc.expect_alive({"s1", "s2"});
    svc.stop_gracefully();
    expect_no_leaked_keys(redis);
}

TEST(Faults, RedisAtMaxmemoryWithNoeviction) {
    redis_server redis({.extra_args = {"--maxmemory-policy", "noeviction"}});
    service svc(redis, "faults:oom");
    svc.start("s1", most);
    client c(redis.url(), svc.queue(), {.timeout = 1s});
    raw_redis raw(redis.url());
    // 4 MB of data, then a limit 1 MB above what Redis used before: Redis is well past
    // maxmemory and refuses every write until the data is deleted.
    const auto info = raw.run({"INFO", "memory"}).str;
    const auto at = info.find("used_memory:");
    ASSERT_NE(at, std::string::npos);
    const long long baseline = std::stoll(info.substr(at + 12));
    const std::string chunk(256 * 1024, 'x');
    const int fillers = 16;
    for (int i = 0; i < fillers; ++i) {
        raw.run({"SET", "filler:" + std::to_string(i), chunk});
    }
    ASSERT_FALSE(raw.run({"CONFIG", "SET", "maxmemory", std::to_string(baseline + (1 << 20))}).is_error());
    history h;
    h.add(timed_call(c, "oom", 0, 1s));
    // Redis refuses the push: a connection error naming the cause, the request not queued.
    EXPECT_EQ(h.all()[0].kind, outcome::connection_error) << h.all()[0].text;
    EXPECT_NE(h.all()[0].text.find("OOM"), std::string::npos) << h.all()[0].text;
    for (int i = 0; i < fillers; ++i)
        raw.run({"DEL", "filler:" + std::to_string(i)});
    h.add(timed_call(c, "after-oom", 0, 1s));
    EXPECT_EQ(h.all()[1].kind, outcome::result) << h.all()[1].text;
    check_history(h, svc, {.at_least_once = false});
    svc.expect_alive({"s1"});
    svc.stop_gracefully();
    expect_no_leaked_keys(redis);
}

TEST(Faults, ClientOutputBufferLimitSmallerThanAResponse) {
    redis_server redis({.extra_args = {"--client-output-buffer-limit", "normal", "128kb", "0", "0"}});
    service svc(redis, "faults:cobl");
    svc.start("s1", most);
    client c(redis.url(), svc.queue(), {.timeout = 2s});
    // A 600 kB result: Redis drops the client connection that would receive it.
    const auto t0 = steady::now();
    call_record big{.token = "big", .started = t0, .timeout = 2s};
    try {
        (void)c.call_json("big", {600 * 1024}, nlohmann::json::object(), {2s});
        big.kind = outcome::result;
    } catch (...) {
        classify(std::current_exception(), big);
    }
    big.ended = steady::now();
    // Redis closed the connection the reply travelled on: the caller learns it at once, not at
    // its deadline, and must treat it as "outcome unknown" (the server did run the call).
    EXPECT_EQ(big.kind, outcome::connection_error) << big.text;
    EXPECT_LT(big.ended - big.started, big.timeout) << big.text;
    EXPECT_LE(big.ended - big.started, big.timeout + end_slack) << big.text;
    // Small calls still work, on the same client and server.
    EXPECT_EQ(c.call<std::string>("work", "small", 0), "small");
    svc.expect_alive({"s1"});
    svc.stop_gracefully();
    expect_no_leaked_keys(redis);
}

TEST(Faults, StartupWarnsWhenRedisMayEvictRequests) {
    redis_server redis({.extra_args = {"--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru"}});
    service svc(redis, "faults:evict");
    svc.start("s1", most);
    EXPECT_TRUE(wait_until(
        [&] {
            return svc.process("s1").output().find("maxmemory-policy is allkeys-lru") != std::string::npos;
        },
        5s))
        << svc.process("s1").output();
    svc.stop_gracefully();
}

} // namespace
} // namespace redisrpc::test
