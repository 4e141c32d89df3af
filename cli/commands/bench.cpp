// redisrpc bench <queue>: many calls with K in flight; a progress bar, then latency percentiles.

#include "args.hpp"
#include "common.hpp"

#include <redisrpc/client.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace redisrpc::cli {

namespace {

using steady = std::chrono::steady_clock;

constexpr const char* bench_help =
    R"(Runs --calls calls (or as many as fit in --duration; with both, whichever ends
first), keeping --inflight calls outstanding at a time (async calls; our servers echo request
ids, so all calls share one reply list). By default it calls echo("ping"), which 'redisrpc serve'
provides; --method and arguments (as for 'call') choose another call. Options go before the
arguments: from the first argument on, every word is an argument.

While it runs, a progress line is drawn on stderr when stderr is a terminal. The summary goes
to stdout (a JSON object with --json): calls, errors, elapsed time, calls/s and latency p50,
p90, p99 and max. Exit code 0 when every call succeeded, else the code of the first error.)";

constexpr auto progress_period = std::chrono::milliseconds(100);
constexpr int bar_width = 30;

struct bench_settings {
    std::string queue;
    std::string method = "echo";
    std::vector<std::string> words;
    std::uint64_t calls = 1000;
    std::size_t inflight = 16;
    std::string duration_text;
};

/// Shared between the issuing thread and the client threads running the callbacks.
struct bench_state {
    std::mutex m;
    std::condition_variable cv;
    std::size_t in_flight = 0;
    std::uint64_t started = 0;
    std::uint64_t done = 0;
    std::uint64_t errors = 0;
    std::vector<double> latencies_ms; // of successful calls
    std::exception_ptr first_error;
};

/// Nearest-rank percentile of sorted values; 0 when there are none.
double percentile(const std::vector<double>& sorted, double p) {
    if (sorted.empty())
        return 0;
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

void draw_progress(double fraction, std::uint64_t done, std::uint64_t errors, double rate) {
    fraction = std::clamp(fraction, 0.0, 1.0);
    const int filled = static_cast<int>(fraction * bar_width);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(bar_width - filled), '.');
    std::fprintf(stderr, "\r[%s] %3d%%  %llu calls  %llu errors  %.0f calls/s ", bar.c_str(),
                 static_cast<int>(fraction * 100), static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(errors), rate);
    std::fflush(stderr);
}

void clear_progress() {
    std::fprintf(stderr, "\r%*s\r", bar_width + 60, "");
    std::fflush(stderr);
}

int run_bench(const bench_settings& s, const global_options& global) {
    auto a = parse_call_arguments(s.words);
    if (s.method == "echo" && a.args.empty() && a.kwargs.empty())
        a.args.push_back("ping");
    const std::optional<std::chrono::milliseconds> duration =
        s.duration_text.empty() ? std::nullopt : parse_duration(s.duration_text);
    // With only --duration, the number of calls is not limited.
    const bool limit_calls = !duration || s.calls > 0;
    const std::uint64_t call_limit = s.calls;

    client_options o = make_client_options(global);
    o.connections = std::max<std::size_t>(o.connections, std::min<std::size_t>(s.inflight, 8));
    client c{global.url, s.queue, o};
    const bool tty = isatty(STDERR_FILENO) == 1;

    auto state = std::make_shared<bench_state>();
    if (limit_calls)
        state->latencies_ms.reserve(
            static_cast<std::size_t>(std::min<std::uint64_t>(call_limit, 10'000'000)));
    const auto start = steady::now();
    // time_point::max() means "no time limit" (an optional here trips g++ 12's -Wmaybe-uninitialized).
    const bool timed = duration.has_value();
    const steady::time_point end = timed ? start + *duration : steady::time_point::max();
    auto next_draw = start + progress_period;

    std::unique_lock lock(state->m);
    for (;;) {
        const auto now = steady::now();
        const bool stop_issuing = (limit_calls && state->started >= call_limit) || (timed && now >= end);
        if (stop_issuing && state->in_flight == 0)
            break;
        if (!stop_issuing && state->in_flight < s.inflight) {
            ++state->started;
            ++state->in_flight;
            lock.unlock();
            const auto sent = steady::now();
            c.async_call_json(s.method, a.args, a.kwargs, [state, sent](call_result r) {
                const double ms = std::chrono::duration<double, std::milli>(steady::now() - sent).count();
                const std::lock_guard g(state->m);
                --state->in_flight;
                ++state->done;
                if (r.ok()) {
                    state->latencies_ms.push_back(ms);
                } else {
                    ++state->errors;
                    if (!state->first_error)
                        state->first_error = r.error;
                }
                state->cv.notify_one();
            });
            lock.lock();
            continue;
        }
        if (tty && now >= next_draw) {
            const double elapsed = std::chrono::duration<double>(now - start).count();
            double fraction = 0;
            if (limit_calls && call_limit > 0)
                fraction = static_cast<double>(state->done) / static_cast<double>(call_limit);
            if (timed)
                fraction = std::max(fraction, elapsed / std::chrono::duration<double>(end - start).count());
            draw_progress(fraction, state->done, state->errors,
                          elapsed > 0 ? static_cast<double>(state->done) / elapsed : 0);
            next_draw = now + progress_period;
        }
        // Wake on a completion, for the next progress line, or when the duration ends.
        auto wake = next_draw;
        if (timed && !stop_issuing)
            wake = std::min(wake, end);
        state->cv.wait_until(lock, wake);
    }
    const double elapsed = std::chrono::duration<double>(steady::now() - start).count();
    lock.unlock();
    if (tty)
        clear_progress();

    auto& lat = state->latencies_ms;
    std::sort(lat.begin(), lat.end());
    const double rate = elapsed > 0 ? static_cast<double>(state->done) / elapsed : 0;
    const double p50 = percentile(lat, 50);
    const double p90 = percentile(lat, 90);
    const double p99 = percentile(lat, 99);
    const double max = lat.empty() ? 0 : lat.back();

    std::optional<failure> first;
    if (state->first_error)
        first = classify(state->first_error);
    if (global.json) {
        nlohmann::ordered_json out = {
            {"ok", state->errors == 0},
            {"calls", state->done},
            {"errors", state->errors},
            {"inflight", s.inflight},
            {"elapsed_s", elapsed},
            {"calls_per_s", rate},
            {"latency_ms", nlohmann::ordered_json{{"p50", p50}, {"p90", p90}, {"p99", p99}, {"max", max}}}};
        if (first)
            out["first_error"] = {{"error", first->message}, {"code", first->code}};
        std::cout << to_text(out) << std::endl;
    } else {
        char buf[256];
        std::snprintf(buf, sizeof buf,
                      "calls        %llu\n"
                      "errors       %llu\n"
                      "in flight    %zu\n"
                      "elapsed      %.3f s\n"
                      "calls/s      %.1f\n"
                      "latency p50  %.3f ms\n"
                      "latency p90  %.3f ms\n"
                      "latency p99  %.3f ms\n"
                      "latency max  %.3f ms\n",
                      static_cast<unsigned long long>(state->done),
                      static_cast<unsigned long long>(state->errors), s.inflight, elapsed, rate, p50, p90,
                      p99, max);
        std::cout << buf << std::flush;
        if (first)
            std::cerr << "(error) first error: " << first->message << std::endl;
    }
    return first ? first->exit : static_cast<int>(exit_ok);
}

} // namespace

void register_bench(CLI::App& app, const global_options& global, command_runner& selected) {
    auto s = std::make_shared<bench_settings>();
    CLI::App* sub =
        app.add_subcommand("bench", "bench <queue> [options] [args...]: measure calls/s and latency");
    sub->footer(bench_help);
    add_queue_argument(*sub, s->queue);
    auto* calls = sub->add_option("-n,--calls", s->calls, "number of calls (0 with --duration: no limit)")
                      ->capture_default_str();
    sub->add_option("-k,--inflight", s->inflight, "calls outstanding at a time")
        ->check(CLI::Range(std::size_t{1}, std::size_t{65536}))
        ->capture_default_str();
    auto* duration = sub->add_option("-D,--duration", s->duration_text, "run for this long, e.g. 10s")
                         ->check(duration_validator());
    sub->add_option("-m,--method", s->method, "method to call")->capture_default_str();
    // Everything after the last positional (queue, method) is an argument, taken verbatim: CLI11
    // would split a JSON array such as [1,2] into elements, and read -x or --json as options.
    sub->prefix_command();
    sub->callback([s, sub, &global, &selected, calls, duration] {
        // --duration alone: as many calls as fit.
        if (duration->count() > 0 && calls->count() == 0)
            s->calls = 0;
        s->words = sub->remaining();
        selected = [s, &global] { return run_bench(*s, global); };
    });
}

} // namespace redisrpc::cli
