// A running server fed malformed and malicious messages through Redis: each gets an error reply
// when a reply list can be read and is allowed, otherwise it is dropped; the server stays up
// and keeps answering normal calls.

#include "support/helpers.hpp"
#include "support/redis_server.hpp"

#include <redisrpc/redisrpc.hpp>

#include <gtest/gtest.h>

#include <fstream>

using namespace std::chrono_literals;
using redisrpc::test::raw_redis;
using redisrpc::test::running_server;
using redisrpc::test::shared_redis;
using redisrpc::test::unique_queue;
using redisrpc::test::wait_until;

namespace {

struct hostile_case {
    const char* what;
    std::string bytes;      // the message; "$R" is replaced by the case's reply list
    bool answered;          // an error reply is expected on the reply list
    std::string expect;     // substring of the exception text (when answered)
};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
        s.replace(pos, from.size(), to);
    return s;
}

std::vector<hostile_case> cases() {
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    std::string nested_args = R"({"function_call":{"name":"add","args":[)" + std::string(50, '[') +
                              std::string(50, ']') + R"(]},"response_queue":"$R"})";
    std::string many_args = R"({"function_call":{"name":"add","args":[)";
    for (int i = 0; i < 10000; ++i) many_args += (i ? ",1" : "1");
    many_args += R"(]},"response_queue":"$R"})";
    return {
        {"empty message", "", false, ""},
        {"not JSON at all", "hello world", false, ""},
        {"truncated JSON", R"({"function_call":{"name":"add")", false, ""},
        {"top-level array", "[1,2,3]", false, ""},
        {"top-level string", R"("add")", false, ""},
        {"top-level null", "null", false, ""},
        {"empty object", "{}", false, ""},
        {"python pickle", std::string("\x80\x04\x95\x1e\x00\x00\x00\x00\x00\x00\x00}\x94", 14), false, ""},
        {"truncated msgpack", std::string("\x82\xa1", 2), false, ""},
        {"100000-deep nesting", deep, false, ""},
        {"2 MiB message", R"({"function_call":{"name":"add","args":[")" + std::string(2 << 20, 'x') +
                              R"("]},"response_queue":"$R"})", false, ""},
        {"invalid UTF-8", "{\"function_call\":{\"name\":\"add\",\"args\":[\"\xff\"]},\"response_queue\":\"$R\"}", false, ""},
        {"duplicate keys", R"({"function_call":{"name":"add","name":"sub"},"response_queue":"$R"})", false, ""},
        {"missing response_queue", R"({"function_call":{"name":"add","args":[1]}})", false, ""},
        {"numeric response_queue", R"({"function_call":{"name":"add","args":[1]},"response_queue":42})", false, ""},
        {"reply list outside the namespace", R"({"function_call":{"name":"add","args":[1]},"response_queue":"victim"})",
         false, ""},
        {"reply list is the request queue", R"({"function_call":{"name":"add","args":[1]},"response_queue":"$Q"})", false,
         ""},
        {"function_call not an object", R"({"function_call":5,"response_queue":"$R"})", true, "function_call"},
        {"missing function_call", R"({"response_queue":"$R"})", true, "function_call"},
        {"name not a string", R"({"function_call":{"name":5},"response_queue":"$R"})", true, "name"},
        {"empty name", R"({"function_call":{"name":""},"response_queue":"$R"})", true, "name"},
        {"name with NUL", R"({"function_call":{"name":"add\u0000evil","args":[1]},"response_queue":"$R"})", true, ""},
        {"args not a list", R"({"function_call":{"name":"add","args":"1"},"response_queue":"$R"})", true, "args"},
        {"kwargs not an object", R"({"function_call":{"name":"add","kwargs":[1]},"response_queue":"$R"})", true, "kwargs"},
        {"unknown method", R"({"function_call":{"name":"system","args":["rm -rf /"]},"response_queue":"$R"})", true,
         "system"},
        {"python dunder", R"({"function_call":{"name":"__class__"},"response_queue":"$R"})", true, "__class__"},
        {"case-folded name", R"({"function_call":{"name":"ADD","args":[1]},"response_queue":"$R"})", true, "ADD"},
        {"wrong argument type", R"({"function_call":{"name":"add","args":["5"]},"response_queue":"$R"})", true,
         "add: argument 1: expected number, got string"},
        {"too many arguments", many_args, true, "add: expected 1 argument"},
        {"deep but allowed nesting in args", nested_args, true, "add: argument 1"},
        {"unknown keyword", R"({"function_call":{"name":"add","kwargs":{"evil":1}},"response_queue":"$R"})", true,
         "add"},
        {"deadline in the past", R"({"function_call":{"name":"add","args":[1]},"response_queue":"$R","deadline_ms":1})",
         true, "deadline"},
        {"deadline of the wrong type", R"({"function_call":{"name":"add","args":[1]},"response_queue":"$R","deadline_ms":"soon"})",
         true, "deadline_ms"},
        {"number beyond int64 for a double param", R"({"function_call":{"name":"add","args":[1e400]},"response_queue":"$R"})",
         false, ""},
        {"handler throws", R"({"function_call":{"name":"boom"},"response_queue":"$R"})", true, "std::runtime_error: boom"},
        {"JSON with a UTF-8 byte-order mark", "\xef\xbb\xbf{\"function_call\":{\"name\":\"add\"},\"response_queue\":\"$R\"}",
         false, ""},
        {"raw NUL after a valid object", std::string(R"({"function_call":{"name":"add","args":[1]},"response_queue":"$R"})") +
                                             std::string(1, '\0') + "garbage",
         false, ""},
        {"NaN literal", R"({"function_call":{"name":"add","args":[NaN]},"response_queue":"$R"})", false, ""},
        {"trailing comma", R"({"function_call":{"name":"add","args":[1,]},"response_queue":"$R"})", false, ""},
        {"unterminated string", R"({"function_call":{"name":"add)", false, ""},
        {"lone surrogate escape", R"({"function_call":{"name":"\ud800"},"response_queue":"$R"})", false, ""},
        {"reply list in another service's namespace",
         R"({"function_call":{"name":"add","args":[1]},"response_queue":"other:rpc:x"})", false, ""},
        {"name with path traversal", R"({"function_call":{"name":"../add"},"response_queue":"$R"})", true, "../add"},
        {"name with a prefix of a bound name", R"({"function_call":{"name":"ad"},"response_queue":"$R"})", true, "ad"},
        {"name with trailing space", R"({"function_call":{"name":"add "},"response_queue":"$R"})", true, "add "},
        {"object where a number is expected", R"({"function_call":{"name":"add","args":[{"$gt":1}]},"response_queue":"$R"})",
         true, "add: argument 1: expected number, got object"},
        {"boolean where a number is expected", R"({"function_call":{"name":"add","args":[true]},"response_queue":"$R"})",
         true, "add: argument 1: expected number, got boolean"},
        {"id of the wrong type", R"({"function_call":{"name":"add","args":[1]},"response_queue":"$R","id":{"x":1}})", true,
         "id"},
    };
}

TEST(HostileInput, ServerSurvivesEveryMessageAndAnswersWhereItMay) {
    const std::string url = shared_redis().url();
    const std::string queue = unique_queue();
    double total = 0;
    redisrpc::server srv{url, queue};
    srv.bind("add", [&](double n) { return total += n; });
    srv.bind("boom", []() -> int { throw std::runtime_error("boom"); });
    running_server running{srv};
    raw_redis raw{url};

    const auto all = cases();
    for (std::size_t i = 0; i < all.size(); ++i) {
        const auto& c = all[i];
        SCOPED_TRACE(c.what);
        const std::string reply = queue + ":rpc:case" + std::to_string(i);
        const std::string msg = replace_all(replace_all(c.bytes, "$R", reply), "$Q", queue);
        const auto before = srv.stats().requests;
        raw.run({"RPUSH", queue, msg});
        ASSERT_TRUE(wait_until([&] { return srv.stats().requests > before; }, 10s)) << "server did not take it";
        if (c.answered) {
            const auto got = raw.blpop(reply, 5);
            ASSERT_TRUE(got.has_value()) << "no error reply";
            const auto j = nlohmann::json::parse(*got);
            ASSERT_TRUE(j.contains("exception")) << *got;
            EXPECT_NE(j["exception"].get<std::string>().find(c.expect), std::string::npos) << *got;
        } else {
            // Give the server the chance to (wrongly) answer: a normal call round trip flushes
            // its pipeline, then nothing may exist.
            redisrpc::client probe{url, queue, {.timeout = 5s}};
            EXPECT_EQ(probe.call<double>("add", 0), total);
            EXPECT_FALSE(raw.exists(reply));
            EXPECT_FALSE(raw.exists("victim"));
            EXPECT_FALSE(raw.exists("other:rpc:x"));
        }
    }
    EXPECT_EQ(total, 0.0) << "no hostile message may have executed add";
    // Still alive and correct.
    redisrpc::client c{url, queue, {.timeout = 5s}};
    EXPECT_EQ(c.call<double>("add", 2), 2.0);
    EXPECT_GE(srv.stats().rejected, 10u);
    EXPECT_GE(all.size(), 40u) << "the issue asks for at least 40 distinct hostile messages";
    running.stop();
    EXPECT_EQ(raw.llen(queue), 0);
    EXPECT_TRUE(shared_redis().keys(queue + ":rpc:*").empty());
}

} // namespace

namespace {

long rss_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
}

TEST(HostileInput, AFloodOfBadMessagesDoesNotGrowTheServer) {
    const std::string url = shared_redis().url();
    const std::string queue = unique_queue();
    redisrpc::server srv{url, queue};
    srv.bind("add", [](double n) { return n; });
    running_server running{srv};
    raw_redis raw{url};
    const auto flood = [&](int rounds) {
        for (int r = 0; r < rounds; ++r) {
            for (const auto& c : cases()) {
                const std::string reply = queue + ":rpc:flood";
                raw.run({"RPUSH", queue, replace_all(replace_all(c.bytes, "$R", reply), "$Q", queue)});
            }
            ASSERT_TRUE(wait_until([&] { return raw.llen(queue) == 0; }, 30s));
            raw.run({"DEL", queue + ":rpc:flood"});
        }
    };
    flood(3); // warm-up: allocator pools and buffers reach their working size
    const long before = rss_kib();
    flood(20);
    const long after = rss_kib();
    ASSERT_GT(before, 0);
    // ~1000 hostile messages (several of them megabytes) later, the process has not kept them.
    // Under AddressSanitizer freed memory sits in its quarantine (256 MiB by default) and still
    // counts as resident, so the bound there is the quarantine plus the same margin; leaks in
    // that build are LeakSanitizer's to find.
#if defined(__SANITIZE_ADDRESS__)
    constexpr long allowed_kib = (256 + 32) * 1024;
#else
    constexpr long allowed_kib = 32 * 1024;
#endif
    EXPECT_LT(after - before, allowed_kib) << "RSS grew from " << before << " to " << after << " KiB";
    redisrpc::client c{url, queue, {.timeout = 5s}};
    EXPECT_EQ(c.call<double>("add", 2), 2.0);
}

} // namespace
