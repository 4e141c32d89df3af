// redisrpc serve <queue>: a small built-in test service, for trying clients and benchmarks.

#include "common.hpp"

#include <redisrpc/server.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace redisrpc::cli {

namespace {

constexpr const char* serve_help = R"(Methods of the test service:
  echo(value)      returns value unchanged (any JSON)
  add(a, b)        returns a + b (numbers)
  sleep(ms)        sleeps ms milliseconds (0..600000) on a worker, then returns ms
  fail(msg)        throws std::runtime_error(msg): the caller gets 'std::runtime_error: <msg>'
  counter()        increments a counter shared by all workers and returns the new value
Parameter names are as shown, so keyword arguments work: redisrpc call q add a=1 b=2.

Stops cleanly on SIGINT (Ctrl-C) or SIGTERM after answering the requests it already took.)";

constexpr std::int64_t max_sleep_ms = 600'000;

/// The object `serve` exposes. Thread-safe, since --workers may run calls in parallel.
class test_service {
public:
    static nlohmann::json echo(nlohmann::json value) { return value; }
    static double add(double a, double b) { return a + b; }
    static std::int64_t sleep(std::int64_t ms) {
        if (ms < 0 || ms > max_sleep_ms)
            throw std::out_of_range("sleep: ms must be within 0..600000");
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        return ms;
    }
    [[noreturn]] static void fail(const std::string& msg) { throw std::runtime_error(msg); }
    std::int64_t counter() { return ++counter_; }

private:
    std::atomic<std::int64_t> counter_{0};
};

struct serve_settings {
    std::string queue;
    std::size_t workers = 1;
    std::string server_id;
    bool at_least_once = false;
    std::uint32_t max_deliveries = 3;
    bool quiet = false;
};

} // namespace

void register_serve(CLI::App& app, const global_options& global, command_runner& selected) {
    auto s = std::make_shared<serve_settings>();
    CLI::App* sub =
        app.add_subcommand("serve", "serve a built-in test object (echo, add, sleep, fail, counter)");
    sub->footer(serve_help);
    add_queue_argument(*sub, s->queue);
    sub->add_option("-w,--workers", s->workers, "threads running calls")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1024}))
        ->capture_default_str();
    sub->add_option("--server-id", s->server_id, "id in the heartbeat key (default: random)");
    sub->add_flag("--at-least-once", s->at_least_once,
                  "take requests through a processing list; the work of a dead server is re-delivered "
                  "(docs/guarantees.md)");
    sub->add_option("--max-deliveries", s->max_deliveries,
                    "with --at-least-once: deliveries before a request goes to <queue>:dead")
        ->check(CLI::Range(std::uint32_t{1}, std::uint32_t{1000}))
        ->capture_default_str();
    sub->add_flag("-q,--quiet", s->quiet, "no start-up line on stderr");
    sub->callback([s, &global, &selected] {
        selected = [s, &global] {
            server_options o;
            o.dialect = global.wire;
            o.workers = s->workers;
            o.server_id = s->server_id;
            o.shards = global.shards;
            o.delivery = s->at_least_once ? delivery::at_least_once : delivery::at_most_once;
            o.max_deliveries = s->max_deliveries;
            test_service service;
            server srv{global.url, s->queue, o};
            srv.bind("echo", &test_service::echo, {"value"});
            srv.bind("add", &test_service::add, {"a", "b"});
            srv.bind("sleep", &test_service::sleep, {"ms"});
            srv.bind("fail", &test_service::fail, {"msg"});
            srv.bind("counter", &test_service::counter, &service);
            if (!s->quiet) {
                std::cerr << "serving '" << s->queue << "' (" << dialect_name(global.wire) << ", "
                          << s->workers << (s->workers == 1 ? " worker" : " workers")
                          << (s->at_least_once ? ", at-least-once" : "")
                          << "): echo add sleep fail counter; Ctrl-C to stop" << std::endl;
            }
            srv.run();
            if (!s->quiet)
                std::cerr << "stopped" << std::endl;
            return static_cast<int>(exit_ok);
        };
    });
}

} // namespace redisrpc::cli
