// redisrpc_bench: redisrpc against the raw Redis floor, measured in the same run through the same
// Redis, printed as one table. See bench/README in BENCHMARKS.md and `redisrpc_bench --help`.
//
// The bench re-executes itself with --role for the other process of every measurement:
//   floor-seq-server, floor-batch-server  the floor's server side (bench/floor.cpp)
//   rpc-server                            a redisrpc::server serving add(x) = x + 1

#include "common.hpp"
#include "floor.hpp"
#include "rpc.hpp"

#include "redis/connection.hpp"

#include <redisrpc/client.hpp>
#include <redisrpc/log.hpp>
#include <redisrpc/version.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace bench {
namespace {

constexpr const char* usage = R"(usage: redisrpc_bench [options]

Measures redisrpc against the raw Redis floor (two processes, same Redis, same connection code)
and prints a table. Stops by itself; only loopback TCP or unix sockets make sense.

  --url URL            redis://127.0.0.1:PORT or unix:///path.sock (default: $REDIS_URL or
                       redis://127.0.0.1:6379)
  --duration T         measured time per row (default 3s; units ms or s)
  --warmup T           unmeasured time before each row (default 500ms)
  --repeat N           full cycles; each row reports its median cycle by calls/s (default 1)
  --k LIST             calls in flight for the throughput rows (default 1,8,64,256; none: only
                       the sequential rows)
  --batch N            server BLMPOP COUNT, floor and redisrpc alike (default 64)
  --workers N          redisrpc server workers (default 1)
  --rss-calls N        calls of the long run that checks the server's RSS (default 1000000; 0 skips)
  --rss-window K       calls in flight during that run (default 64)
  --rss-max-time T     the long run stops there at the latest (default 300s)
  --timeout T          redisrpc client call timeout (default: the library's, 10s)
  --encoding E         json (default, what every peer speaks) or msgpack (redisrpc peers only)
  --no-floor, --no-rpc skip those rows

Fixed-count mode (for profilers, e.g. valgrind --tool=callgrind on either side):
  --calls N --mode rpc-seq|rpc-callbacks|rpc-chained|floor-seq|floor-batched [--k K]
          [--queue Q --external-server]
                       runs N calls and prints rate and CPU time per call of each process;
                       with --external-server no peer is started: serve Q yourself with
                       `redisrpc_bench --role rpc-server --url URL --queue Q` (or the
                       floor-seq-server / floor-batch-server roles for the floor modes)
)";

// ---------------------------------------------------------------------------------------------
// command line

std::chrono::milliseconds parse_time(const std::string& text) {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    const std::string unit = text.substr(used);
    if (unit == "ms") return std::chrono::milliseconds(static_cast<long long>(v));
    if (unit.empty() || unit == "s") return std::chrono::milliseconds(static_cast<long long>(v * 1000));
    throw std::invalid_argument("bad time '" + text + "' (use e.g. 500ms or 3s)");
}

std::vector<std::size_t> parse_list(const std::string& text) {
    std::vector<std::size_t> out;
    if (text == "none") return out; // sequential rows only
    std::istringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        const auto v = std::stoul(item);
        if (v == 0) throw std::invalid_argument("K must be at least 1");
        out.push_back(v);
    }
    return out;
}

struct command_line {
    settings s;
    std::string role;
    std::string queue;
    std::uint64_t calls = 0;
    std::string mode = "rpc-seq";
    std::size_t k = 64;
    bool external_server = false;
};

command_line parse(int argc, char** argv) {
    command_line c;
    const char* env = std::getenv("REDIS_URL");
    c.s.url = env && *env ? env : "redis://127.0.0.1:6379";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
            return argv[++i];
        };
        if (a == "--help" || a == "-h") {
            std::fputs(usage, stdout);
            std::exit(0);
        } else if (a == "--url") c.s.url = value();
        else if (a == "--duration") c.s.duration = parse_time(value());
        else if (a == "--warmup") c.s.warmup = parse_time(value());
        else if (a == "--repeat") c.s.repeat = std::max(1, std::stoi(value()));
        else if (a == "--k") c.s.windows = parse_list(value());
        else if (a == "--batch") c.s.batch = std::max<std::size_t>(1, std::stoul(value()));
        else if (a == "--workers") c.s.workers = std::max<std::size_t>(1, std::stoul(value()));
        else if (a == "--rss-calls") c.s.rss_calls = std::stoull(value());
        else if (a == "--rss-window") c.s.rss_window = std::max<std::size_t>(1, std::stoul(value()));
        else if (a == "--rss-max-time")
            c.s.rss_max_time = std::chrono::duration_cast<std::chrono::seconds>(parse_time(value()));
        else if (a == "--timeout") c.s.timeout = parse_time(value());
        else if (a == "--encoding") {
            const auto e = value();
            if (e != "json" && e != "msgpack") throw std::invalid_argument("--encoding is json or msgpack");
            c.s.msgpack = e == "msgpack";
        }
        else if (a == "--no-floor") c.s.run_floor = false;
        else if (a == "--no-rpc") c.s.run_rpc = false;
        else if (a == "--role") c.role = value();
        else if (a == "--queue") c.queue = value();
        else if (a == "--ready-fd") set_ready_fd(std::stoi(value()));
        else if (a == "--calls") c.calls = std::stoull(value());
        else if (a == "--mode") c.mode = value();
        else if (a == "--external-server") c.external_server = true;
        else throw std::invalid_argument("unknown option " + a + " (see --help)");
        if (a == "--k" && c.s.windows.size() == 1) c.k = c.s.windows.front();
    }
    if (c.s.duration <= std::chrono::milliseconds(0)) throw std::invalid_argument("--duration must be positive");
    return c;
}

redisrpc::client_options client_options(const settings& s) {
    redisrpc::client_options o;
    if (s.timeout) o.timeout = *s.timeout;
    if (s.msgpack) o.encoding = redisrpc::encoding::msgpack;
    return o;
}

// ---------------------------------------------------------------------------------------------
// the redis-server we talk to

struct redis_info {
    std::string version = "?";
    pid_t pid = -1; // only when it runs on this machine
};

redis_info ask_redis(const settings& s) {
    redis_info info;
    redisrpc::detail::connection c(redisrpc::parse_url(s.url));
    const auto r = c.execute({"INFO", "server"}, clock::now() + 5s);
    std::istringstream in(r.str);
    std::string line;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.rfind("redis_version:", 0) == 0) info.version = line.substr(14);
        if (line.rfind("process_id:", 0) == 0) info.pid = static_cast<pid_t>(std::stol(line.substr(11)));
    }
    std::ifstream comm("/proc/" + std::to_string(info.pid) + "/comm");
    std::string name;
    comm >> name;
    if (name.find("redis") == std::string::npos) info.pid = -1;
    return info;
}

/// Keys left under a prefix (SCAN), with their TTLs: what the library leaves behind in Redis.
std::string leftover_keys(const settings& s, const std::string& prefix) {
    redisrpc::detail::connection c(redisrpc::parse_url(s.url));
    std::string cursor = "0";
    std::size_t keys = 0, without_ttl = 0;
    const std::string pattern = prefix + "*";
    do {
        const auto r = c.execute({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}, clock::now() + 5s);
        if (!r.is_array() || r.elements.size() != 2) break;
        cursor = r.elements[0].str;
        for (const auto& k : r.elements[1].elements) {
            ++keys;
            const auto ttl = c.execute({"TTL", k.str}, clock::now() + 5s);
            if (ttl.integer == -1) ++without_ttl;
        }
    } while (cursor != "0");
    return std::to_string(keys) + " keys left under " + prefix + "* (" + std::to_string(without_ttl) +
           " without TTL)";
}

// ---------------------------------------------------------------------------------------------
// running rows

struct cpu_sample {
    double client = -1, server = -1, redis = -1, machine = -1;
    clock::time_point when;
};

cpu_sample cpu_now(pid_t server, pid_t redis) {
    return {cpu_seconds(::getpid()), server > 0 ? cpu_seconds(server) : -1.0, redis > 0 ? cpu_seconds(redis) : -1.0,
            machine_busy_seconds(), clock::now()};
}

/// Cores' worth of CPU that processes other than client, server and redis used in between.
double others_cores(const cpu_sample& a, const cpu_sample& b) {
    const double wall = std::chrono::duration<double>(b.when - a.when).count();
    if (wall <= 0 || a.server < 0 || a.redis < 0) return -1;
    const double ours = (b.client - a.client) + (b.server - a.server) + (b.redis - a.redis);
    return std::max(0.0, (b.machine - a.machine - ours) / wall);
}

/// INFO commandstats: calls per command (lower case), without the bench's own probes.
std::map<std::string, double> command_calls(redisrpc::detail::connection& c) {
    std::map<std::string, double> out;
    const auto r = c.execute({"INFO", "commandstats"}, clock::now() + 5s);
    std::istringstream in(r.str);
    std::string line;
    while (std::getline(in, line)) {
        // cmdstat_rpush:calls=5,usec=20,usec_per_call=4.00,rejected_calls=0,failed_calls=0
        if (line.rfind("cmdstat_", 0) != 0) continue;
        const auto colon = line.find(':');
        const auto calls = line.find("calls=", colon);
        if (colon == std::string::npos || calls == std::string::npos) continue;
        const std::string name = line.substr(8, colon - 8);
        if (name == "info" || name == "client|id" || name == "client" || name == "scan" || name == "ttl") continue;
        out[name] = std::stod(line.substr(calls + 6));
    }
    return out;
}

/// What is watched around every row: CPU time of the three processes, Redis command counts.
struct probe {
    pid_t server = -1, redis = -1;
    redisrpc::detail::connection* stats = nullptr;
};

result measured(const std::function<result()>& run, const probe& p) {
    const auto before = cpu_now(p.server, p.redis);
    const auto commands_before = command_calls(*p.stats);
    result r = run();
    const auto after = cpu_now(p.server, p.redis);
    const auto commands_after = command_calls(*p.stats);
    if (r.total > 0) {
        const double n = static_cast<double>(r.total);
        auto per_call = [n](double a, double b) { return a >= 0 && b >= 0 ? (b - a) * 1e6 / n : -1.0; };
        r.cpu_client_us = per_call(before.client, after.client);
        r.cpu_server_us = per_call(before.server, after.server);
        r.cpu_redis_us = per_call(before.redis, after.redis);
        r.others_cores = others_cores(before, after);
        r.redis_commands = 0;
        for (const auto& [name, calls] : commands_after) {
            const auto it = commands_before.find(name);
            const double per = (calls - (it == commands_before.end() ? 0.0 : it->second)) / n;
            if (per < 0.005) continue;
            r.redis_commands += per;
            char buf[64];
            std::snprintf(buf, sizeof buf, "%s%s %.2f", r.redis_mix.empty() ? "" : ", ", name.c_str(), per);
            r.redis_mix += buf;
        }
    }
    std::fprintf(stderr, "  %-40s K=%-4zu %10.0f calls/s  p50 %7.1f us  p99 %7.1f us  others %.2f cores  redis: %s%s\n",
                 r.name.c_str(), r.k, r.rate(), r.p50_us, r.p99_us, r.others_cores, r.redis_mix.c_str(),
                 r.errors ? ("  errors " + std::to_string(r.errors)).c_str() : "");
    return r;
}

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string thousands(double v) {
    const std::string digits = std::to_string(static_cast<long long>(v + 0.5));
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string cpu_text(double us) { return us < 0 ? "?" : fixed(us, 1); }


struct row_key {
    int order;
    std::string name;
    std::size_t k;
    auto operator<=>(const row_key&) const = default;
};

int run_table(const settings& s) {
    redisrpc::set_log_level(redisrpc::log_level::warning);
    const auto redis = ask_redis(s);
    const std::string run_id = "redisrpc_bench:" + token(8);
    const std::string q_floor_seq = run_id + ":floor-seq", q_floor_batch = run_id + ":floor-batch",
                      q_rpc = run_id + ":calc";

    const std::string transport = s.url.rfind("unix:", 0) == 0 ? "unix socket" : "TCP loopback";
    const double load = load_average();
    std::printf("redisrpc_bench — redisrpc %s vs the raw Redis floor\n\n", REDISRPC_VERSION_STRING);
    std::printf("- transport: %s (%s), redis %s\n", transport.c_str(), s.url.c_str(), redis.version.c_str());
    std::printf("- machine: %ld CPUs, %s; load average at start %.2f\n", ::sysconf(_SC_NPROCESSORS_ONLN),
                cpu_model().c_str(), load);
    std::printf("- each row: %lld ms warm-up + %lld ms measured, median of %d cycle(s); server workers=%zu, "
                "BLMPOP COUNT %zu\n",
                static_cast<long long>(s.warmup.count()), static_cast<long long>(s.duration.count()), s.repeat,
                s.workers, s.batch);
    std::printf("- payload: add(5) -> 6.0, redisrpc encoding %s; floor request %zu B (same shape as redisrpc's "
                "JSON), floor reply %zu B\n\n",
                s.msgpack ? "msgpack" : "json",
                floor_request(q_rpc + ":rpc:" + token(20)).size(),
                std::string(R"({"return_value":6.0,"id":"0123456789abcdef"})").size());
    std::fflush(stdout);

    std::optional<peer> floor_seq_peer, floor_batch_peer, rpc_peer;
    if (s.run_floor) {
        floor_seq_peer.emplace("floor-seq-server", s, q_floor_seq);
        floor_batch_peer.emplace("floor-batch-server", s, q_floor_batch);
    }
    long rss_start = 0;
    const long client_rss_start = rss_kib(::getpid());
    std::optional<redisrpc::client> cli;
    if (s.run_rpc) {
        rpc_peer.emplace("rpc-server", s, q_rpc);
        rss_start = rss_kib(rpc_peer->pid());
        cli.emplace(s.url, q_rpc, client_options(s));
    }

    redisrpc::detail::connection stats(redisrpc::parse_url(s.url));
    const probe floor_seq_probe{floor_seq_peer ? floor_seq_peer->pid() : -1, redis.pid, &stats};
    const probe floor_batch_probe{floor_batch_peer ? floor_batch_peer->pid() : -1, redis.pid, &stats};
    const probe rpc_probe{rpc_peer ? rpc_peer->pid() : -1, redis.pid, &stats};
    std::map<row_key, std::vector<result>> rows;
    for (int cycle = 1; cycle <= s.repeat; ++cycle) {
        std::fprintf(stderr, "cycle %d/%d (load %.2f)\n", cycle, s.repeat, load_average());
        // Floor and redisrpc rows alternate, so that a disturbance hits both sides of a ratio.
        if (s.run_floor)
            rows[{0, "floor", 1}].push_back(
                measured([&] { return floor_sequential(s, q_floor_seq); }, floor_seq_probe));
        if (s.run_rpc)
            rows[{1, "rpc", 1}].push_back(
                measured([&] { return rpc_sequential(s, *cli); }, rpc_probe));
        for (const auto k : s.windows) {
            if (s.run_floor)
                rows[{2, "floor", k}].push_back(
                    measured([&] { return floor_batched(s, q_floor_batch, k); }, floor_batch_probe));
            if (s.run_rpc) {
                rows[{3, "futures", k}].push_back(
                    measured([&] { return rpc_futures(s, *cli, k); }, rpc_probe));
                rows[{4, "callbacks", k}].push_back(
                    measured([&] { return rpc_callbacks(s, *cli, k); }, rpc_probe));
                rows[{5, "chained", k}].push_back(
                    measured([&] { return rpc_chained(s, *cli, k); }, rpc_probe));
            }
        }
    }
    const long rss_after_rows = s.run_rpc ? rss_kib(rpc_peer->pid()) : 0;

    // The long run: the server's RSS must stay flat.
    std::vector<std::pair<std::uint64_t, long>> rss_samples;
    std::uint64_t rss_failed = 0;
    double rss_seconds = 0;
    if (s.run_rpc && s.rss_calls > 0) {
        std::fprintf(stderr, "long run: %llu calls, K=%zu\n", static_cast<unsigned long long>(s.rss_calls), s.rss_window);
        rss_samples.emplace_back(0, rss_kib(rpc_peer->pid()));
        const auto t0 = clock::now();
        rss_failed = rpc_fixed_calls(*cli, s.rss_calls, s.rss_window, s.rss_max_time, [&](std::uint64_t done) {
            rss_samples.emplace_back(done, rss_kib(rpc_peer->pid()));
            std::fprintf(stderr, "  %10llu calls  server RSS %ld KiB  client RSS %ld KiB\n",
                         static_cast<unsigned long long>(done), rss_samples.back().second, rss_kib(::getpid()));
        });
        rss_seconds = std::chrono::duration<double>(clock::now() - t0).count();
    }
    const long client_rss = rss_kib(::getpid());
    cli.reset();
    std::string stops;
    for (auto* p : {&floor_seq_peer, &floor_batch_peer, &rpc_peer})
        if (*p) stops += " " + (*p)->stop();

    // ---- the table ----
    // Every figure is the median over the cycles; a ratio is the median of the per-cycle ratios
    // (floor and redisrpc rows of one cycle run back to back, so they saw the same machine).
    struct summary {
        std::string name, mix;
        std::size_t k = 1;
        double rate = 0, p50 = 0, p99 = 0, cpu_client = -1, cpu_server = -1, cpu_redis = -1, commands = -1,
               others = -1;
        std::uint64_t errors = 0;
    };
    auto median = [](std::vector<double> v) {
        if (v.empty()) return -1.0;
        std::sort(v.begin(), v.end());
        return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
    };
    auto field = [&](const std::vector<result>& runs, auto get) {
        std::vector<double> v;
        for (const auto& r : runs) v.push_back(get(r));
        return median(v);
    };
    auto summarize = [&](const row_key& key) -> std::optional<summary> {
        const auto it = rows.find(key);
        if (it == rows.end() || it->second.empty()) return std::nullopt;
        const auto& runs = it->second;
        summary m;
        m.name = runs.front().name;
        m.k = runs.front().k;
        m.rate = field(runs, [](const result& r) { return r.rate(); });
        m.p50 = field(runs, [](const result& r) { return r.p50_us; });
        m.p99 = field(runs, [](const result& r) { return r.p99_us; });
        m.cpu_client = field(runs, [](const result& r) { return r.cpu_client_us; });
        m.cpu_server = field(runs, [](const result& r) { return r.cpu_server_us; });
        m.cpu_redis = field(runs, [](const result& r) { return r.cpu_redis_us; });
        m.commands = field(runs, [](const result& r) { return r.redis_commands; });
        m.others = field(runs, [](const result& r) { return r.others_cores; });
        for (const auto& r : runs) m.errors += r.errors;
        m.mix = median_by(runs, [](const result& r) { return r.rate(); }).redis_mix;
        return m;
    };
    struct ratio {
        double median = -1, low = -1, high = -1;
    };
    auto ratio_of = [&](const row_key& num, const row_key& den, bool by_rate) {
        ratio out;
        const auto a = rows.find(num), b = rows.find(den);
        if (a == rows.end() || b == rows.end()) return out;
        std::vector<double> v;
        for (std::size_t i = 0; i < std::min(a->second.size(), b->second.size()); ++i) {
            const double x = by_rate ? a->second[i].rate() : a->second[i].p50_us;
            const double y = by_rate ? b->second[i].rate() : b->second[i].p50_us;
            if (x > 0 && y > 0) v.push_back(x / y);
        }
        if (v.empty()) return out;
        out.median = median(v);
        out.low = *std::min_element(v.begin(), v.end());
        out.high = *std::max_element(v.begin(), v.end());
        return out;
    };
    auto ratio_cell = [](const ratio& r) {
        if (r.median < 0) return std::string("—");
        std::string t = fixed(r.median, 2);
        if (r.high > r.low) t += " (" + fixed(r.low, 2) + "–" + fixed(r.high, 2) + ")";
        return t;
    };

    std::printf("| measurement | K | calls/s | p50 µs | p99 µs | calls/s vs floor | p50 vs floor | "
                "CPU µs/call client · server · redis | redis cmds/call | other procs' CPU | errors |\n");
    std::printf("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    std::vector<std::string> mixes;
    auto print_row = [&](const row_key& key, const std::optional<row_key>& floor_key) {
        const auto m = summarize(key);
        if (!m) return;
        const ratio by_rate = floor_key ? ratio_of(key, *floor_key, true) : ratio{};
        const ratio by_p50 = floor_key ? ratio_of(key, *floor_key, false) : ratio{};
        std::printf("| %s | %zu | %s | %s | %s | %s | %s | %s · %s · %s | %s | %s | %llu |\n", m->name.c_str(), m->k,
                    thousands(m->rate).c_str(), fixed(m->p50, 1).c_str(), fixed(m->p99, 1).c_str(),
                    ratio_cell(by_rate).c_str(), ratio_cell(by_p50).c_str(), cpu_text(m->cpu_client).c_str(),
                    cpu_text(m->cpu_server).c_str(), cpu_text(m->cpu_redis).c_str(),
                    m->commands < 0 ? "?" : fixed(m->commands, 2).c_str(),
                    m->others < 0 ? "?" : (fixed(m->others * 100, 0) + "%").c_str(),
                    static_cast<unsigned long long>(m->errors));
        mixes.push_back("- " + m->name + ", K=" + std::to_string(m->k) + ": " + m->mix);
    };
    const row_key floor_seq{0, "floor", 1};
    print_row(floor_seq, std::nullopt);
    print_row({1, "rpc", 1}, floor_seq);
    for (const auto k : s.windows) {
        const row_key floor_k{2, "floor", k};
        print_row(floor_k, std::nullopt);
        print_row({3, "futures", k}, floor_k);
        print_row({4, "callbacks", k}, floor_k);
        print_row({5, "chained", k}, floor_k);
    }
    std::printf("\nFigures are medians over the cycles; ratios are medians of per-cycle ratios (range in "
                "parentheses), each redisrpc row against the floor row run just before it.\n");
    double worst_others = 0;
    for (const auto& [key, runs] : rows)
        for (const auto& r : runs) worst_others = std::max(worst_others, r.others_cores);
    std::printf("Disturbance: other processes used at most %.0f%% of a core during any measured row%s\n",
                worst_others * 100,
                worst_others > 0.2 ? " — BUSY machine, the figures are disturbed; re-run when quiet." : ".");

    std::printf("\nRedis commands per call (INFO commandstats, whole row incl. warm-up):\n");
    for (const auto& m : mixes) std::printf("%s\n", m.c_str());

    // ---- targets ----
    std::printf("\nTargets (issue): sequential p50 ≤ 1.15× floor; K=64 throughput ≥ 0.70× batched floor.\n");
    if (const auto r = ratio_of({1, "rpc", 1}, floor_seq, false); r.median > 0) {
        std::printf("- sequential p50: %s× the floor → %s\n", ratio_cell(r).c_str(),
                    r.median <= 1.15 ? "MET" : "MISSED");
    }
    for (const auto& [order, which] : {std::pair{3, "futures"}, {4, "callbacks"}, {5, "chained"}}) {
        const auto r = ratio_of({order, which, 64}, {2, "floor", 64}, true);
        if (r.median > 0)
            std::printf("- K=64 %s throughput: %s× the batched floor → %s\n", which, ratio_cell(r).c_str(),
                        r.median >= 0.70 ? "MET" : "MISSED");
    }

    // ---- memory ----
    if (s.run_rpc) {
        std::printf("\nServer RSS (VmRSS of the redisrpc::server process): %ld KiB at start, %ld KiB after the rows",
                    rss_start, rss_after_rows);
        if (!rss_samples.empty()) {
            std::printf(", then over %llu more calls (K=%zu, %.1f s, %s calls/s, %llu failed):",
                        static_cast<unsigned long long>(rss_samples.back().first), s.rss_window, rss_seconds,
                        thousands(rss_seconds > 0 ? static_cast<double>(rss_samples.back().first) / rss_seconds : 0)
                            .c_str(),
                        static_cast<unsigned long long>(rss_failed));
            for (const auto& [done, kib] : rss_samples)
                std::printf(" %s→%ld", thousands(static_cast<double>(done)).c_str(), kib);
            std::printf(" KiB");
        }
        std::printf(".\nClient (this process) RSS: %ld KiB at start, %ld KiB at the end.\n", client_rss_start,
                    client_rss);
    }
    std::printf("Redis: %s. Peers:%s.\n", leftover_keys(s, run_id).c_str(), stops.c_str());
    return 0;
}

// ---------------------------------------------------------------------------------------------
// fixed-count mode, for profilers

int run_fixed(const command_line& c) {
    redisrpc::set_log_level(redisrpc::log_level::warning);
    const auto redis = ask_redis(c.s);
    const std::string queue = c.queue.empty() ? "redisrpc_bench:" + token(8) + ":calc" : c.queue;
    const bool floor = c.mode.rfind("floor-", 0) == 0;
    std::optional<peer> server;
    if (!c.external_server)
        server.emplace(c.mode == "floor-seq" ? "floor-seq-server" : floor ? "floor-batch-server" : "rpc-server", c.s,
                       queue);
    const pid_t server_pid = server ? server->pid() : -1;
    redisrpc::client cli(c.s.url, queue, client_options(c.s));
    if (!floor) cli.call<double>("add", 5.0); // connects
    redisrpc::detail::connection stats(redisrpc::parse_url(c.s.url));
    const auto commands_before = command_calls(stats);
    const auto before = cpu_now(server_pid, redis.pid);
    const auto client_split_before = cpu_user_system(::getpid());
    const auto server_split_before = server_pid > 0 ? cpu_user_system(server_pid) : std::pair{-1.0, -1.0};
    const auto redis_split_before = redis.pid > 0 ? cpu_user_system(redis.pid) : std::pair{-1.0, -1.0};
    const auto client_threads_before = threads_of(::getpid());
    const auto server_threads_before = server_pid > 0 ? threads_of(server_pid) : std::vector<thread_usage>{};
    const auto t0 = clock::now();
    std::uint64_t failed = 0;
    if (c.mode == "rpc-seq") {
        for (std::uint64_t i = 0; i < c.calls; ++i) {
            try {
                cli.call<double>("add", 5.0);
            } catch (const redisrpc::error&) {
                ++failed;
            }
        }
    } else if (c.mode == "rpc-callbacks") {
        auto last = std::make_pair(std::uint64_t{0}, clock::now());
        failed = rpc_fixed_calls(cli, c.calls, c.k, 3600s, [&](std::uint64_t done) {
            const auto now = clock::now();
            const double secs = std::chrono::duration<double>(now - last.second).count();
            std::fprintf(stderr, "  %10llu calls  %8.1f s  %s calls/s in this segment\n",
                         static_cast<unsigned long long>(done), std::chrono::duration<double>(now - t0).count(),
                         thousands(secs > 0 ? static_cast<double>(done - last.first) / secs : 0).c_str());
            last = {done, now};
        });
    } else if (c.mode == "rpc-chained") {
        failed = rpc_fixed_chained(cli, c.calls, c.k);
    } else if (c.mode == "floor-seq") {
        floor_calls_sequential(c.s, queue, c.calls);
    } else if (c.mode == "floor-batched") {
        floor_calls_batched(c.s, queue, c.calls, c.k);
    } else {
        throw std::invalid_argument("--mode must be rpc-seq, rpc-callbacks, rpc-chained, floor-seq or floor-batched");
    }
    const double secs = std::chrono::duration<double>(clock::now() - t0).count();
    const auto after = cpu_now(server_pid, redis.pid);
    const double n = static_cast<double>(c.calls);
    auto per = [n](double a, double b) { return a >= 0 && b >= 0 ? cpu_text((b - a) * 1e6 / n) : std::string("?"); };
    std::printf("%s: %llu calls in %.2f s = %s calls/s, %llu failed; CPU µs/call client %s, server %s, redis %s; "
                "other processes used %s%% of a core\n",
                c.mode.c_str(), static_cast<unsigned long long>(c.calls), secs,
                thousands(n / secs).c_str(), static_cast<unsigned long long>(failed),
                per(before.client, after.client).c_str(), per(before.server, after.server).c_str(),
                per(before.redis, after.redis).c_str(),
                others_cores(before, after) < 0 ? "?" : fixed(others_cores(before, after) * 100, 0).c_str());
    auto split = [n](const char* who, std::pair<double, double> a, std::pair<double, double> b) {
        if (a.first < 0 || b.first < 0) return;
        std::printf("%s CPU µs/call: user %.1f, system %.1f\n", who, (b.first - a.first) * 1e6 / n,
                    (b.second - a.second) * 1e6 / n);
    };
    split("client", client_split_before, cpu_user_system(::getpid()));
    if (server_pid > 0) split("server", server_split_before, cpu_user_system(server_pid));
    if (redis.pid > 0) split("redis", redis_split_before, cpu_user_system(redis.pid));
    auto per_thread = [n](const char* who, const std::vector<thread_usage>& a, const std::vector<thread_usage>& b) {
        std::printf("%s threads (CPU µs/call, context switches/call):", who);
        for (const auto& t : b) {
            thread_usage u; // a thread started during the run counts from zero
            for (const auto& x : a)
                if (x.tid == t.tid) u = x;
            std::printf(" [%d] %.2f, %.3f", static_cast<int>(t.tid), (t.cpu - u.cpu) * 1e6 / n,
                        static_cast<double>(t.switches - u.switches) / n);
        }
        std::printf("\n");
    };
    per_thread("client", client_threads_before, threads_of(::getpid()));
    if (server_pid > 0) per_thread("server", server_threads_before, threads_of(server_pid));
    std::printf("redis commands per call:");
    for (const auto& [name, calls] : command_calls(stats)) {
        const auto it = commands_before.find(name);
        const double d = (calls - (it == commands_before.end() ? 0.0 : it->second)) / n;
        if (d >= 0.005) std::printf(" %s %.3f", name.c_str(), d);
    }
    std::printf("\n");
    return failed == 0 ? 0 : 1;
}

int run_role(const command_line& c) {
    peer_init();
    redisrpc::set_log_level(redisrpc::log_level::warning);
    if (c.queue.empty()) throw std::invalid_argument("--role needs --queue");
    if (c.role == "floor-seq-server") return floor_server_sequential(c.s, c.queue);
    if (c.role == "floor-batch-server") return floor_server_batched(c.s, c.queue);
    if (c.role == "rpc-server") return rpc_server(c.s, c.queue);
    throw std::invalid_argument("unknown role " + c.role);
}

/// Bounds the whole bench: past the expected time plus a margin, peers are killed and the bench
/// exits with status 2.
void start_watchdog(std::chrono::seconds limit) {
    std::thread([limit] {
        std::this_thread::sleep_for(limit);
        std::fprintf(stderr, "redisrpc_bench: still running after %lld s; giving up\n",
                     static_cast<long long>(limit.count()));
        kill_all_peers();
        std::_Exit(2);
    }).detach();
}

} // namespace
} // namespace bench

int main(int argc, char** argv) {
    using namespace bench;
    try {
        const auto c = parse(argc, argv);
        if (!c.role.empty()) return run_role(c);
        init_self_exe();
        if (c.calls > 0) {
            start_watchdog(std::chrono::hours(2));
            return run_fixed(c);
        }
        const auto per_row = c.s.warmup + c.s.duration + 3s; // + connect, drain
        const auto rows = (c.s.run_floor ? 1 + c.s.windows.size() : 0) + (c.s.run_rpc ? 1 + 2 * c.s.windows.size() : 0);
        const auto limit = std::chrono::duration_cast<std::chrono::seconds>(
            per_row * static_cast<long long>(rows) * c.s.repeat + c.s.rss_max_time + 60s);
        start_watchdog(limit);
        return run_table(c.s);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "redisrpc_bench: %s\n", e.what());
        kill_all_peers();
        return 1;
    }
}
