#pragma once
// Shared pieces of the benchmark: settings, measurement windows and latency statistics, the peer
// process (the bench binary re-executed in a --role), /proc readers.

#include <redisrpc/options.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <utility>
#include <optional>
#include <string>
#include <vector>

namespace bench {

using clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

/// Everything the command line can set. The same settings reach the peer processes.
struct settings {
    std::string url;                                    ///< redis://127.0.0.1:port or unix:///path
    std::chrono::milliseconds warmup = 500ms;           ///< per measurement, not counted
    std::chrono::milliseconds duration = 3000ms;        ///< per measurement, counted
    int repeat = 1;                                     ///< full cycles; the median cycle is reported
    std::vector<std::size_t> windows{1, 8, 64, 256};    ///< K: calls in flight
    std::size_t batch = 64;                             ///< server BLMPOP COUNT (floor and redisrpc)
    std::size_t workers = 1;                            ///< redisrpc server_options.workers
    std::uint64_t rss_calls = 1'000'000;                ///< calls of the RSS run (0: skip it)
    std::size_t rss_window = 64;                        ///< K of the RSS run
    std::chrono::seconds rss_max_time = 300s;           ///< the RSS run stops here at the latest
    std::optional<std::chrono::milliseconds> timeout;  ///< client_options.timeout (library default if unset)
    bool msgpack = false;                              ///< client_options.encoding = msgpack
    bool run_floor = true, run_rpc = true;
};

/// One row of the table.
struct result {
    std::string name;   ///< e.g. "floor batched"
    std::size_t k = 1;  ///< calls in flight
    std::uint64_t calls = 0;     ///< completed inside the window
    double seconds = 0;          ///< length of the window
    double p50_us = 0, p99_us = 0;
    std::uint64_t errors = 0;
    std::uint64_t total = 0;     ///< completed in the whole run, warm-up and drain included
    /// CPU time per call (whole run / total) of this process, the peer and redis-server; < 0: unknown.
    double cpu_client_us = -1, cpu_server_us = -1, cpu_redis_us = -1;
    /// Redis commands executed per call (INFO commandstats over the whole run), and by command.
    double redis_commands = -1;
    /// CPU (in cores) used during the row by every other process on the machine: disturbance.
    double others_cores = -1;
    std::string redis_mix; ///< e.g. "rpush 1.00, blpop 1.00"

    [[nodiscard]] double rate() const { return seconds > 0 ? static_cast<double>(calls) / seconds : 0; }
};

/// The measurement window of one run: a warm-up, then `duration` during which completions are
/// counted and their latencies kept. Completions are attributed by the time they complete.
class window {
public:
    window(const settings& s, std::size_t expected_rate_hint = 200'000);
    [[nodiscard]] bool sending(clock::time_point now) const noexcept { return now < end_; }
    /// Records one completion (latency = done - started) if `done` lies inside the window.
    void record(clock::time_point started, clock::time_point done) noexcept;
    void error() noexcept {
        ++errors_;
        ++total_;
    }
    [[nodiscard]] clock::time_point end() const noexcept { return end_; }
    [[nodiscard]] result finish(std::string name, std::size_t k);

private:
    clock::time_point begin_, end_;
    std::vector<std::int64_t> samples_ns_;
    std::uint64_t errors_ = 0;
    std::uint64_t total_ = 0;
};

/// The bench binary started again in a --role, as the other process of a measurement.
/// Waits (bounded) until the peer reports that it is ready. The destructor stops it (SIGTERM,
/// then SIGKILL after a grace period) and reaps it.
class peer {
public:
    peer(const std::string& role, const settings& s, const std::string& queue);
    ~peer();
    peer(const peer&) = delete;
    peer& operator=(const peer&) = delete;
    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    /// Stops the peer; returns its exit status text ("exit 0", "signal 9").
    std::string stop();

private:
    pid_t pid_ = -1;
};

/// Resolves the path peers are started from (call once in main, before any thread starts).
/// Resolved eagerly because under valgrind /proc/self/exe names the tool, not the bench.
void init_self_exe();

/// Kills every live peer (SIGKILL); used by the watchdog before it aborts the bench.
void kill_all_peers() noexcept;

/// The peer side: sets up the process (dies with its parent, stops on SIGTERM) and reports
/// readiness on the descriptor the parent passed. `stop_requested()` turns true on SIGTERM/SIGINT
/// or when the parent is gone.
void peer_init();
void set_ready_fd(int fd);
void peer_ready();
[[nodiscard]] bool stop_requested() noexcept;

/// VmRSS of a process in KiB (0 when unreadable).
[[nodiscard]] long rss_kib(pid_t pid);
/// CPU time (user + system, all threads) a process has used so far, in seconds; < 0 if unknown.
[[nodiscard]] double cpu_seconds(pid_t pid);
/// The same split into user and system time (seconds); {-1, -1} if unknown.
[[nodiscard]] std::pair<double, double> cpu_user_system(pid_t pid);
/// Per-thread CPU seconds and context switches (voluntary + involuntary) of a process, by
/// thread id in ascending order (creation order, barring pid wrap-around).
struct thread_usage {
    pid_t tid = 0;
    double cpu = 0;
    unsigned long long switches = 0;
};
[[nodiscard]] std::vector<thread_usage> threads_of(pid_t pid);
/// Busy CPU seconds of the whole machine (all CPUs, /proc/stat: everything but idle and iowait).
[[nodiscard]] double machine_busy_seconds();
/// "/proc/loadavg" first figure.
[[nodiscard]] double load_average();
[[nodiscard]] std::string cpu_model();

/// A random token of [a-zA-Z0-9].
[[nodiscard]] std::string token(std::size_t n);

/// Median of the values; the element itself for odd sizes, the lower middle otherwise.
template <class T, class Key>
const T& median_by(const std::vector<T>& v, Key key);

} // namespace bench

#include <algorithm>

template <class T, class Key>
const T& bench::median_by(const std::vector<T>& v, Key key) {
    std::vector<const T*> p;
    for (const auto& x : v) p.push_back(&x);
    std::sort(p.begin(), p.end(), [&](const T* a, const T* b) { return key(*a) < key(*b); });
    return *p[(p.size() - 1) / 2];
}
