// The `redisrpc` command-line tool as a real process: arguments, output, exit codes, and the
// serve / bench / notify / servers / stats subcommands against a private redis-server.
// Needs the redisrpc_cli target built (integration_tests depends on it).

#include "support/helpers.hpp"
#include "support/process.hpp"
#include "support/redis_server.hpp"

#include <redisrpc/client.hpp>
#include <redisrpc/server.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <csignal>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using redisrpc::test::child_process;
using redisrpc::test::running_server;
using redisrpc::test::shared_redis;
using redisrpc::test::unique_queue;
using redisrpc::test::wait_until;

namespace {

const std::string cli_binary = REDISRPC_BINARY_DIR "/cli/redisrpc";

struct cli_result {
    int exit_code = -1;
    std::string out; // stdout
    std::string err; // stderr
};

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Runs `redisrpc args...` to completion, with stdout and stderr in separate files (so both are
/// complete once the process has exited).
cli_result run_cli(const std::vector<std::string>& args) {
    redisrpc::test::temp_dir dir("redisrpc-cli-");
    const auto out_path = dir.path() / "out";
    const auto err_path = dir.path() / "err";
    std::vector<std::string> argv{"/bin/sh", "-c", "exec \"$0\" \"$@\" >\"$CLI_OUT\" 2>\"$CLI_ERR\"",
                                  cli_binary};
    argv.insert(argv.end(), args.begin(), args.end());
    child_process p(argv, {{"CLI_OUT", out_path.string()}, {"CLI_ERR", err_path.string()}});
    const auto code = p.wait_for(60s);
    cli_result r;
    r.out = read_file(out_path);
    r.err = read_file(err_path);
    if (!code) {
        ADD_FAILURE() << "redisrpc " << ::testing::PrintToString(args) << " did not exit; stderr: " << r.err;
        return r;
    }
    r.exit_code = *code;
    return r;
}

/// An in-process server with a few methods, serving `queue` until destroyed.
class cli_fixture : public ::testing::Test {
protected:
    void SetUp() override {
        if (!std::filesystem::exists(cli_binary))
            GTEST_SKIP() << cli_binary << " is not built (target redisrpc_cli)";
        url_ = shared_redis().url();
        queue_ = unique_queue("cli");
    }

    /// Starts the in-process server in `dialect`.
    void start_server(redisrpc::dialect d = redisrpc::dialect::classic) {
        redisrpc::server_options o;
        o.dialect = d;
        o.handle_signals = false;
        o.server_id = "cli-test-server";
        server_ = std::make_unique<redisrpc::server>(url_, queue_, o);
        server_->bind("add", [](double a, double b) { return a + b; }, {"a", "b"});
        server_->bind("greet", [](const std::string& who) { return "hello " + who; }, {"who"});
        server_->bind("echo", [](nlohmann::json v) { return v; }, {"value"});
        server_->bind("fail", [](const std::string& msg) -> int { throw std::runtime_error(msg); }, {"msg"});
        server_->bind("bump", [this] { return ++bumps_; });
        running_ = std::make_unique<running_server>(*server_);
    }

    /// The global options every invocation gets, then `args`.
    std::vector<std::string> with_url(std::vector<std::string> args) const {
        args.insert(args.begin(), {"--url", url_, "--timeout", "10s"});
        return args;
    }

    void TearDown() override {
        running_.reset();
        server_.reset();
    }

    std::string url_;
    std::string queue_;
    std::atomic<int> bumps_{0};
    std::unique_ptr<redisrpc::server> server_;
    std::unique_ptr<running_server> running_;
};

using CliCall = cli_fixture;

TEST_F(CliCall, PositionalArgumentsAreJson) {
    start_server();
    const auto r = run_cli(with_url({"call", queue_, "add", "1", "2.5"}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "3.5\n");
}

TEST_F(CliCall, KeywordArguments) {
    start_server();
    const auto r = run_cli(with_url({"call", queue_, "add", "b=2", "a=40"}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "42.0\n");
}

TEST_F(CliCall, ABareWordIsAString) {
    start_server();
    auto r = run_cli(with_url({"call", queue_, "greet", "world"}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "\"hello world\"\n");
    r = run_cli(with_url({"call", queue_, "greet", "who=\"42\""}));
    EXPECT_EQ(r.out, "\"hello 42\"\n") << r.err;
    r = run_cli(with_url({"call", "--raw", queue_, "greet", "who=you"}));
    EXPECT_EQ(r.out, "hello you\n") << r.err;
}

TEST_F(CliCall, StructuredValuesAndNegativeNumbers) {
    start_server();
    auto r = run_cli(with_url({"call", queue_, "echo", R"({"a":[1,2,null],"b":"x"})"}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out), nlohmann::json::parse(R"({"a":[1,2,null],"b":"x"})"));
    r = run_cli(with_url({"call", queue_, "add", "-5", "3"}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "-2.0\n");
    // Words after the method are arguments even when they look like options or commands.
    r = run_cli(with_url({"call", queue_, "echo", "\"--json\""}));
    EXPECT_EQ(r.out, "\"--json\"\n") << r.err;
    r = run_cli(with_url({"call", queue_, "add", "1", "--json"}));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("argument 2: expected number, got string"), std::string::npos) << r.err;
    r = run_cli(with_url({"call", queue_, "echo", "stats"}));
    EXPECT_EQ(r.out, "\"stats\"\n") << r.err;
    r = run_cli(with_url({"call", queue_, "echo", "[1,\"two\"]"}));
    EXPECT_EQ(r.out, "[1,\"two\"]\n") << r.err;
}

TEST_F(CliCall, JsonOutputOnSuccess) {
    start_server();
    const auto r = run_cli(with_url({"--json", "call", queue_, "add", "1", "2"}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("ok"), true);
    EXPECT_EQ(j.at("result"), 3.0);
    EXPECT_EQ(j.at("code"), "ok");
    EXPECT_FALSE(j.contains("error"));
}

TEST_F(CliCall, RemoteErrorExitsWith1) {
    start_server();
    const auto r = run_cli(with_url({"call", queue_, "fail", "boom"}));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("boom"), std::string::npos) << r.err;
}

TEST_F(CliCall, JsonOutputOnRemoteError) {
    start_server();
    auto r = run_cli(with_url({"call", "--json", queue_, "fail", "boom"})); // global option after the command
    EXPECT_EQ(r.exit_code, 1);
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("ok"), false);
    EXPECT_EQ(j.at("error"), "std::runtime_error: boom");
    EXPECT_EQ(j.at("code"), "handler_error");
    EXPECT_EQ(j.at("exit_code"), 1);
    EXPECT_FALSE(j.contains("result"));

    r = run_cli(with_url({"--json", "call", queue_, "no_such_method"}));
    EXPECT_EQ(r.exit_code, 1);
    j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("code"), "method_not_found");

    r = run_cli(with_url({"--json", "call", queue_, "add", "1", "x"}));
    EXPECT_EQ(r.exit_code, 1);
    j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("code"), "invalid_params");
    EXPECT_NE(j.at("error").get<std::string>().find("argument 2"), std::string::npos) << r.out;
}

TEST_F(CliCall, TimeoutExitsWith3) {
    // No server: the request is withdrawn at the deadline.
    const auto r = run_cli({"--url", url_, "--timeout", "200ms", "--json", "call", queue_, "add", "1", "2"});
    EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("code"), "timeout");
    EXPECT_EQ(j.at("outcome_unknown"), false);
    EXPECT_EQ(shared_redis().keys(queue_).size(), 0U);
}

TEST_F(CliCall, ConnectionErrorExitsWith4) {
    const auto r =
        run_cli({"--url", "redis://127.0.0.1:1", "--timeout", "2s", "call", queue_, "add", "1", "2"});
    EXPECT_EQ(r.exit_code, 4) << r.out << r.err;
    EXPECT_NE(r.err.find("127.0.0.1:1"), std::string::npos) << r.err;
}

TEST_F(CliCall, ProtocolErrorExitsWith5) {
    // Play the server by hand and answer with something that is not a classic reply.
    redisrpc::test::raw_redis raw(url_);
    redisrpc::test::temp_dir dir("redisrpc-cli-");
    child_process cli({"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>\"$CLI_ERR\"", cli_binary, "--url", url_,
                       "--timeout", "10s", "call", queue_, "add", "1", "2"},
                      {{"CLI_ERR", (dir.path() / "err").string()}});
    const auto request = raw.blpop(queue_, 10);
    ASSERT_TRUE(request.has_value());
    const auto reply_list = nlohmann::json::parse(*request).at("response_queue").get<std::string>();
    raw.run({"RPUSH", reply_list, "this is not a reply"});
    const auto code = cli.wait_for(30s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 5) << read_file(dir.path() / "err");
}

TEST_F(CliCall, UsageErrorsExitWith2) {
    EXPECT_EQ(run_cli({"call"}).exit_code, 2);
    EXPECT_EQ(run_cli({"call", queue_}).exit_code, 2); // no method
    EXPECT_EQ(run_cli({"frobnicate"}).exit_code, 2);   // no such command
    EXPECT_EQ(run_cli({}).exit_code, 2);               // a command is required
    EXPECT_EQ(run_cli({"--timeout", "soon", "call", queue_, "x"}).exit_code, 2);
    EXPECT_EQ(run_cli({"--dialect", "soap", "call", queue_, "x"}).exit_code, 2);
    EXPECT_EQ(run_cli({"--url", "http://x", "call", queue_, "x"}).exit_code, 2); // bad URL
    const auto r = run_cli({"--url", url_, "call", queue_, "add", "a=1", "a=2"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("given twice"), std::string::npos) << r.err;
}

TEST_F(CliCall, HelpOfEveryCommandExits0) {
    const auto top = run_cli({"--help"});
    EXPECT_EQ(top.exit_code, 0);
    for (const char* text : {"Exit codes", "3  timeout", "4  connection error", "5  protocol error"})
        EXPECT_NE(top.out.find(text), std::string::npos) << text;
    for (const char* cmd : {"call", "notify", "serve", "bench", "servers", "stats"}) {
        const auto r = run_cli({cmd, "--help"});
        EXPECT_EQ(r.exit_code, 0) << cmd;
        EXPECT_NE(r.out.find("Usage"), std::string::npos) << cmd << ": " << r.out;
    }
    EXPECT_NE(run_cli({"call", "--help"}).out.find("not valid JSON is taken as a string"), std::string::npos);
}

using CliNotify = cli_fixture;

TEST_F(CliNotify, ClassicRunsTheCallAndReturnsAtOnce) {
    start_server();
    const auto r = run_cli(with_url({"notify", queue_, "bump"}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(wait_until([this] { return bumps_.load() == 1; }, 10s));
}

TEST_F(CliNotify, JsonRpcSendsANotification) {
    start_server(redisrpc::dialect::jsonrpc);
    const auto r = run_cli(with_url({"--dialect", "jsonrpc", "notify", queue_, "bump"}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(wait_until([this] { return bumps_.load() == 1; }, 10s));
    // A notification is never answered: the only keys left are the queue's own.
    redisrpc::client_options o;
    o.dialect = redisrpc::dialect::jsonrpc;
    redisrpc::client c{url_, queue_, o};
    EXPECT_EQ(c.call<int>("bump"), 2); // the server is still healthy
    for (const auto& key : shared_redis().keys(queue_ + ":rpc:notify:*"))
        ADD_FAILURE() << "reply left: " << key;
}

TEST_F(CliNotify, WithoutRedisExitsWith4) {
    const auto r = run_cli({"--url", "redis://127.0.0.1:1", "notify", queue_, "bump"});
    EXPECT_EQ(r.exit_code, 4) << r.err;
}

using CliServeBench = cli_fixture;

TEST_F(CliServeBench, ServeAnswersAndStopsOnSigterm) {
    child_process serve({cli_binary, "--url", url_, "serve", queue_, "--workers", "2"});
    auto r = run_cli(with_url({"call", queue_, "add", "a=1", "b=2"}));
    EXPECT_EQ(r.exit_code, 0) << r.err << serve.output();
    EXPECT_EQ(r.out, "3.0\n");
    r = run_cli(with_url({"call", queue_, "echo", "[1,\"two\"]"}));
    EXPECT_EQ(r.out, "[1,\"two\"]\n") << r.err;
    r = run_cli(with_url({"call", queue_, "counter"}));
    EXPECT_EQ(r.out, "1\n") << r.err;
    r = run_cli(with_url({"call", queue_, "sleep", "1"}));
    EXPECT_EQ(r.out, "1\n") << r.err;
    r = run_cli(with_url({"call", queue_, "fail", "msg=nope"}));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("std::runtime_error: nope"), std::string::npos) << r.err;

    serve.signal(SIGTERM);
    const auto code = serve.wait_for(10s);
    ASSERT_TRUE(code.has_value()) << serve.output();
    EXPECT_EQ(*code, 0) << serve.output();
}

TEST_F(CliServeBench, BenchAgainstServe) {
    child_process serve({cli_binary, "--url", url_, "serve", queue_, "--workers", "2", "--quiet"});
    auto r = run_cli(with_url({"--json", "bench", queue_, "--calls", "200", "--inflight", "8"}));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err << serve.output();
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j.at("ok"), true);
    EXPECT_EQ(j.at("calls"), 200);
    EXPECT_EQ(j.at("errors"), 0);
    EXPECT_GT(j.at("calls_per_s").get<double>(), 0);
    const auto& lat = j.at("latency_ms");
    EXPECT_LE(lat.at("p50").get<double>(), lat.at("p90").get<double>());
    EXPECT_LE(lat.at("p90").get<double>(), lat.at("p99").get<double>());
    EXPECT_LE(lat.at("p99").get<double>(), lat.at("max").get<double>());

    // The table, and a method with arguments.
    r = run_cli(with_url({"bench", queue_, "-n", "20", "-k", "2", "--method", "add", "1", "2"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const char* row :
         {"calls        20", "errors       0", "calls/s", "latency p50", "latency p90", "latency p99"})
        EXPECT_NE(r.out.find(row), std::string::npos) << row << " in\n" << r.out;
    EXPECT_EQ(r.err.find('\r'), std::string::npos) << "no progress bar when stderr is not a terminal";

    // Failing calls are counted and give the exit code of the first error.
    r = run_cli(with_url({"bench", queue_, "-n", "10", "--method", "fail", "x"}));
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.out.find("errors       10"), std::string::npos) << r.out;

    // --duration alone runs until the time is up.
    r = run_cli(with_url({"--json", "bench", queue_, "--duration", "200ms", "-k", "4"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    j = nlohmann::json::parse(r.out);
    EXPECT_GE(j.at("elapsed_s").get<double>(), 0.2);
    EXPECT_GT(j.at("calls").get<int>(), 0);
}

using CliInspect = cli_fixture;

TEST_F(CliInspect, ServersListsHeartbeatsAndStatsShowsDepth) {
    start_server();
    const std::string heartbeat = queue_ + ":server:cli-test-server:alive";
    ASSERT_TRUE(wait_until([&] { return !shared_redis().keys(heartbeat).empty(); }, 10s))
        << "the server writes no heartbeat key " << heartbeat;
    auto r = run_cli(with_url({"servers", queue_}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("cli-test-server", 0), 0U) << r.out;
    r = run_cli(with_url({"--json", "servers", queue_}));
    const auto servers = nlohmann::json::parse(r.out);
    ASSERT_EQ(servers.size(), 1U) << r.out;
    EXPECT_EQ(servers[0].at("id"), "cli-test-server");
    EXPECT_EQ(servers[0].at("key"), heartbeat);

    r = run_cli(with_url({"--json", "stats", queue_}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const auto stats = nlohmann::json::parse(r.out);
    EXPECT_EQ(stats.at("queues").at(0).at("key"), queue_);
    EXPECT_EQ(stats.at("queues").at(0).at("length"), 0);
    EXPECT_EQ(stats.at("servers").size(), 1U);
    EXPECT_TRUE(stats.contains("stats"));
}

TEST_F(CliInspect, StatsCountsProcessingAndDeadLetterLists) {
    // The lists an at-least-once server keeps (src/server/delivery.hpp), written by hand: one
    // registered server holding two requests, one unregistered list (ignored), three dead letters.
    redisrpc::test::raw_redis raw(url_);
    raw.run({"ZADD", queue_ + ":consumers", "1", "s1"});
    raw.run({"RPUSH", queue_ + ":processing:s1", "{}", "{}"});
    raw.run({"RPUSH", queue_ + ":processing:unregistered", "{}"});
    raw.run({"RPUSH", queue_ + ":dead", "a", "b", "c"});
    auto r = run_cli({"--url", url_, "--timeout", "100ms", "--json", "stats", queue_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto stats = nlohmann::json::parse(r.out);
    EXPECT_EQ(stats.at("queues").at(0).at("in_processing"), 2) << r.out;
    EXPECT_EQ(stats.at("queues").at(0).at("dead_letters"), 3) << r.out;
    r = run_cli({"--url", url_, "--timeout", "100ms", "stats", queue_});
    EXPECT_NE(r.out.find("in processing     2"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("dead letters      3"), std::string::npos) << r.out;
    raw.run({"DEL", queue_ + ":consumers", queue_ + ":processing:s1", queue_ + ":processing:unregistered",
             queue_ + ":dead"});
}

TEST_F(CliServeBench, ServeAtLeastOnceRegistersAndAnswers) {
    child_process serve({cli_binary, "--url", url_, "serve", queue_, "--at-least-once", "--server-id", "alo1"});
    auto r = run_cli(with_url({"call", queue_, "add", "a=2", "b=3"}));
    EXPECT_EQ(r.exit_code, 0) << r.err << serve.output();
    EXPECT_EQ(r.out, "5.0\n");
    // The server took the request through its processing list: it is registered as a consumer,
    // and the list is empty again once the reply was pushed.
    redisrpc::test::raw_redis raw(url_);
    EXPECT_EQ(raw.run({"ZSCORE", queue_ + ":consumers", "alo1"}).is_nil(), false);
    r = run_cli(with_url({"--json", "stats", queue_}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out).at("queues").at(0).at("in_processing"), 0) << r.out;
    EXPECT_NE(serve.output().find("at-least-once"), std::string::npos) << serve.output();
    serve.signal(SIGTERM);
    const auto code = serve.wait_for(10s);
    ASSERT_TRUE(code.has_value()) << serve.output();
    EXPECT_EQ(*code, 0) << serve.output();
}

TEST_F(CliInspect, WithoutServers) {
    // Three requests wait; nobody serves them.
    redisrpc::test::raw_redis raw(url_);
    for (int i = 0; i < 3; ++i)
        raw.run({"RPUSH", queue_, "{}"});
    auto r = run_cli(with_url({"servers", queue_}));
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, "");
    EXPECT_NE(r.err.find("no live servers"), std::string::npos) << r.err;
    r = run_cli({"--url", url_, "--timeout", "100ms", "stats", queue_});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("pending requests  3"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("not available"), std::string::npos) << r.out;
    raw.run({"DEL", queue_});
}

} // namespace
