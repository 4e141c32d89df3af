#include <redisrpc/server.hpp>

#include <redisrpc/cluster.hpp>

#include "protocol/body.hpp"
#include "protocol/factory.hpp"
#include "redis/connection.hpp"
#include "redis/pop_lanes.hpp"
#include "server/delivery.hpp"
#include "server/execute.hpp"
#include "server/method_stats.hpp"
#include "server/reply_writer.hpp"
#include "server/signals.hpp"
#include "server/startup_checks.hpp"
#include "server/worker_pool.hpp"
#include "util/backoff.hpp"
#include "util/log.hpp"
#include "util/random.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <functional>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

namespace redisrpc {

using namespace detail;

namespace {

constexpr auto heartbeat_period = std::chrono::seconds(2);
constexpr const char* heartbeat_ttl = "4";

// Redis takes fractional blocking timeouts in seconds.
std::string seconds_text(std::chrono::milliseconds ms) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ms.count()) / 1000.0);
    return buf;
}

} // namespace

struct server::impl {
    struct endpoint {
        dialect kind;
        std::string name;
        std::unique_ptr<server_codec> codec;
        std::string heartbeat_key;
    };

    impl(connection_options c, server_options o, dispatcher& m)
        : conn_opts(std::move(c)), opts(std::move(o)), methods(m) {
        if (opts.batch == 0) opts.batch = 1;
        if (opts.workers == 0) opts.workers = 1;
        if (opts.poll_interval < std::chrono::milliseconds(10)) opts.poll_interval = std::chrono::milliseconds(10);
        // The loop refreshes heartbeats between pops, so it must wake more often than they expire.
        opts.poll_interval = std::min<std::chrono::milliseconds>(opts.poll_interval, std::chrono::seconds(1));
    }

    connection_options conn_opts;
    server_options opts;
    dispatcher& methods;
    std::vector<endpoint> endpoints;
    std::unordered_map<std::string, std::size_t> queue_owner; // queue key -> endpoint index

    std::atomic<bool> stop_requested{false};
    std::atomic<bool> is_running{false};
    std::mutex wait_mutex;
    std::condition_variable wait_cv; // interrupts backoff waits on stop()

    call_counters counters;
    std::atomic<std::uint64_t> requests{0}, rejected{0}, dropped{0}, reconnects{0};
    std::atomic<std::int64_t> in_flight{0}; // taken from Redis, reply not yet confirmed by Redis
    // Replaced at each run() (the bound names are known only then); stats() may read it meanwhile.
    mutable std::mutex stats_mutex;
    std::shared_ptr<method_stats> per_method = std::make_shared<method_stats>(std::vector<std::string>{});
    std::string server_id;

    std::shared_ptr<method_stats> current_method_stats() const {
        std::lock_guard lock(stats_mutex);
        return per_method;
    }
    server_stats snapshot() const;
    json stats_json() const;
    call_outcome run_call(const call_request& call, method_stats& stats);

    void add_endpoint(dialect d, std::string name) {
        if (name.empty()) throw usage_error("server: the queue (or prefix) name must not be empty");
        // ---- cluster: a sharded service is served on all its sub-queues (docs/cluster.md) ----
        if (opts.shards > 1) {
            if (d == dialect::codility) throw usage_error("server: shards > 1 needs the classic or JSON-RPC dialect");
            for (auto& sub : shard_queues(name, opts.shards)) endpoints.push_back({d, sub, make_server_codec(d, sub, opts), {}});
            return;
        }
        // ---- end cluster ----
        endpoints.push_back({d, name, make_server_codec(d, name, opts), {}});
    }

    void wait_interruptible(std::chrono::milliseconds ms) {
        std::unique_lock lock(wait_mutex);
        wait_cv.wait_for(lock, ms, [this] { return stop_requested.load(); });
    }

    std::vector<outgoing_reply> encode_safely(const endpoint& ep, const decoded_job& job,
                                              std::vector<call_outcome>& outcomes) {
        try {
            return ep.codec->encode(job, outcomes);
        } catch (const std::exception& e) {
            // E.g. a handler returned a string that is not valid UTF-8: tell the caller instead.
            log(log_level::error, "cannot encode reply on ", ep.name, ": ", e.what());
            for (auto& o : outcomes)
                o = call_outcome::failure(error_code::internal_error,
                                          std::string("result could not be encoded: ") + e.what());
            try {
                return ep.codec->encode(job, outcomes);
            } catch (const std::exception&) {
                dropped.fetch_add(1, std::memory_order_relaxed);
                return {};
            }
        }
    }

    /// One popped message -> the replies it needs. Never throws.
    std::vector<outgoing_reply> process(const endpoint& ep, std::string_view key, std::string_view bytes,
                                        method_stats* stats) {
        requests.fetch_add(1, std::memory_order_relaxed);
        if (opts.debug_messages) log(log_level::debug, "received on ", key, ": ", printable(bytes, 4096));
        decoded_job job = ep.codec->decode(key, bytes);
        std::vector<call_outcome> outcomes;
        if (job.rejected || (job.calls.empty() && !job.problem.empty())) {
            rejected.fetch_add(1, std::memory_order_relaxed);
            const bool answerable = job.rejected.has_value() && !job.reply_key.empty();
            log(log_level::warning, "rejected message on ", key, ": ", job.problem,
                answerable ? " (error sent)" : " (dropped: no reply address)");
            if (!answerable) {
                dropped.fetch_add(1, std::memory_order_relaxed);
                return {};
            }
            outcomes.push_back(*job.rejected);
        } else {
            // E.g. a JSON-RPC message without reply address, or a batch with invalid entries.
            if (!job.problem.empty()) log(log_level::warning, "message on ", key, ": ", job.problem);
            outcomes.reserve(job.calls.size());
            for (const auto& call : job.calls) outcomes.push_back(run_call(call, *stats));
        }
        auto replies = encode_safely(ep, job, outcomes);
        if (opts.debug_messages)
            for (const auto& r : replies)
                log(log_level::debug, "reply to ", r.key, ": ", printable(r.payload, 4096));
        return replies;
    }

    std::unique_ptr<connection> connect() {
        auto c = std::make_unique<connection>(conn_opts);
        return c;
    }

    void run();

    // ---- cluster: one pop lane per hash slot (docs/cluster.md) ----
    struct lane_context {
        std::function<bool()> stopping;
        std::shared_ptr<method_stats> stats;
        worker_pool* pool = nullptr;
        std::mutex* serialize = nullptr; // held while processing when several lanes run
        bool heartbeats = true;          // only one lane writes the heartbeat keys
    };
    void serve_lane(const std::vector<std::string>& keys, std::unique_ptr<connection> conn, const lane_context& lane);
    // ---- end cluster ----
};

server::server(std::string_view url, std::string queue, server_options options)
    : server(parse_url(url.empty() ? std::string_view(default_url()) : url), std::move(queue), std::move(options)) {}

server::server(connection_options connection, std::string queue, server_options options)
    : impl_(std::make_unique<impl>(std::move(connection), std::move(options), methods_)) {
    impl_->add_endpoint(impl_->opts.dialect, std::move(queue));
}

server::~server() = default;

server& server::listen(dialect d, std::string queue_or_prefix) {
    if (running()) throw usage_error("server::listen: add endpoints before run()");
    impl_->add_endpoint(d, std::move(queue_or_prefix));
    return *this;
}

void server::run() { impl_->run(); }

void server::stop() noexcept {
    impl_->stop_requested.store(true);
    impl_->wait_cv.notify_all();
}

bool server::running() const noexcept { return impl_->is_running.load(); }

const server_options& server::options() const noexcept { return impl_->opts; }

server_stats server::stats() const { return impl_->snapshot(); }

nlohmann::json server::stats_json() const { return impl_->stats_json(); }

call_outcome server::impl::run_call(const call_request& call, method_stats& stats) {
    // Built in, unless the user bound a method of that name themselves.
    if (opts.builtin_stats && call.method == "rpc.stats" && !methods.contains(call.method)) {
        counters.calls.fetch_add(1, std::memory_order_relaxed);
        return call_outcome::success(stats_json());
    }
    return execute_call(methods, call, counters, stats);
}

json server::impl::stats_json() const {
    const server_stats s = snapshot();
    json methods_json = json::object();
    for (const auto& [name, m] : s.methods) {
        methods_json[name] = {{"calls", m.calls},
                              {"errors", m.errors},
                              {"expired", m.expired},
                              {"latency_ms", {{"p50", m.p50_ms}, {"p90", m.p90_ms}, {"p99", m.p99_ms}}}};
    }
    return {{"server_id", s.server_id}, {"requests", s.requests},   {"calls", s.calls},
            {"errors", s.errors},       {"rejected", s.rejected},   {"dropped", s.dropped},
            {"expired", s.expired},     {"reconnects", s.reconnects}, {"in_flight", s.in_flight},
            {"methods", std::move(methods_json)}};
}

server_stats server::impl::snapshot() const {
    const auto& i = *this;
    server_stats s;
    s.requests = i.requests.load();
    s.calls = i.counters.calls.load();
    s.errors = i.counters.errors.load();
    s.expired = i.counters.expired.load();
    s.rejected = i.rejected.load();
    s.dropped = i.dropped.load();
    s.reconnects = i.reconnects.load();
    s.in_flight = i.in_flight.load();
    s.methods = current_method_stats()->snapshot();
    {
        std::lock_guard lock(stats_mutex);
        s.server_id = server_id;
    }
    return s;
}

void server::impl::run() {
    if (is_running.exchange(true)) throw usage_error("server::run: already running");
    struct running_guard {
        impl& self;
        ~running_guard() {
            self.stop_requested.store(false); // the server can be run again
            self.is_running.store(false);
        }
    } guard{*this};

    // Queues depend on the bound names (codility has one queue per function), so they are
    // computed now, after every bind().
    const auto names = methods.names();
    std::vector<std::string> keys;
    queue_owner.clear();
    {
        std::lock_guard lock(stats_mutex);
        server_id = opts.server_id.empty() ? random_token(12) : opts.server_id;
        per_method = std::make_shared<method_stats>(names);
    }
    const std::shared_ptr<method_stats> stats = current_method_stats();
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
        for (auto& q : endpoints[i].codec->queues(names)) {
            if (queue_owner.emplace(q, i).second) keys.push_back(q);
        }
        endpoints[i].heartbeat_key = endpoints[i].codec->heartbeat_key(opts.server_kind, server_id);
    }
    if (keys.empty()) throw usage_error("server::run: nothing to serve (bind methods first)");

    stop_signals signals(opts.handle_signals);
    auto stopping = [&] { return stop_requested.load() || signals.fired(); };

    std::unique_ptr<connection> conn = connect(); // unreachable at start: throw to the caller
    if (opts.clear_queue_on_start) {
        command_buffer del;
        for (const auto& k : keys) del.add({"DEL", k});
        conn->pipeline(del, clock::now() + conn_opts.command_timeout);
    }
    // --- reliability: eviction warning; at-least-once delivery (src/server/delivery.*) ---
    warn_if_keys_may_be_evicted(*conn, clock::now() + conn_opts.command_timeout);
    if (opts.delivery == delivery::at_least_once && conn_opts.mode == connection_options::topology::cluster) {
        // LMOVE names the queue and the processing list: on a cluster they must share a slot.
        for (const auto& k : keys) {
            if (key_slot(k) != key_slot(reliable_delivery::processing_key(k, server_id)))
                throw usage_error("at-least-once delivery on Redis Cluster needs queue names with a hash tag "
                                  "(e.g. {" + k + "}): " + k);
        }
    }
    // --- end reliability ---
    log(log_level::info, "serving ", std::to_string(names.size()), " methods on ", keys.front(),
        keys.size() > 1 ? " and " + std::to_string(keys.size() - 1) + " more lists" : std::string(), " at ",
        conn_opts.address());

    std::optional<worker_pool> pool;
    if (opts.workers > 1) pool.emplace(opts.workers - 1);

    // ---- cluster: keys of different hash slots cannot share one BLMPOP; every slot gets its
    // own lane (thread + connection), and handlers still run one batch at a time ----
    const auto lanes = pop_lanes(conn_opts, keys);
    lane_context context{stopping, stats, pool ? &*pool : nullptr, nullptr, true};
    if (lanes.size() == 1) {
        serve_lane(keys, std::move(conn), context);
    } else {
        std::mutex serialize;
        context.serialize = &serialize;
        std::vector<std::unique_ptr<connection>> lane_conns; // opened first: a failure throws to the caller
        for (std::size_t i = 1; i < lanes.size(); ++i) lane_conns.push_back(connect());
        std::vector<std::thread> others;
        for (std::size_t i = 1; i < lanes.size(); ++i) {
            lane_context other = context;
            other.heartbeats = false;
            others.emplace_back([this, &lanes, i, other, lane_conn = std::move(lane_conns[i - 1])]() mutable {
                try {
                    serve_lane(lanes[i], std::move(lane_conn), other);
                } catch (const std::exception& e) {
                    log(log_level::error, "serving ", lanes[i].front(), " failed: ", e.what());
                    stop_requested.store(true);
                }
            });
        }
        std::exception_ptr failure;
        try {
            serve_lane(lanes[0], std::move(conn), context);
        } catch (...) {
            failure = std::current_exception();
            stop_requested.store(true); // the other lanes end too
        }
        for (auto& t : others) t.join();
        if (failure) std::rethrow_exception(failure);
    }
    log(log_level::info, "server stopped");
}

void server::impl::serve_lane(const std::vector<std::string>& keys, std::unique_ptr<connection> conn,
                              const lane_context& lane) {
    const auto& stopping = lane.stopping;
    const auto& stats = lane.stats;
    worker_pool* pool = lane.pool;
    // ---- end cluster ----

    const std::string pop_timeout = seconds_text(opts.poll_interval);
    const std::string batch_text = std::to_string(opts.batch);
    const std::string key_count = std::to_string(keys.size());
    bool use_blmpop = true; // BLMPOP (Redis >= 7) pops a whole batch in one blocking command
    std::size_t rotation = 0;
    backoff retry;
    std::vector<outgoing_reply> unsent;
    auto next_heartbeat = clock::now();
    bool heartbeat_warned = false;
    command_buffer cmds;
    reply_writer replies_out; // reuses its scratch space from batch to batch
    std::int64_t answering = 0; // requests whose replies (or acknowledgements) wait in `unsent`
    std::vector<std::string_view> pop_argv;
    // ---- cluster: a cluster connection reaches its nodes on first use, so a failure right
    // after (re)connecting also waits before the next attempt ----
    bool fresh = false;
    backoff fresh_retry;
    // ---- end cluster ----
    // --- reliability: at-least-once delivery (src/server/delivery.*), per lane: its queues share
    // the lane's connection (and, on a cluster, its hash slot) ---
    std::optional<reliable_delivery> reliable;
    std::vector<taken_request> unacked; // taken requests whose replies are in `unsent`
    bool recovered = false;             // this lane's leftovers from an earlier run are back
    if (opts.delivery == delivery::at_least_once) {
        reliable.emplace(opts, server_id, keys, [this](const std::string& queue, std::string_view id) {
            const auto owner = queue_owner.find(queue);
            if (owner == queue_owner.end()) return std::string();
            return endpoints[owner->second].codec->heartbeat_key(opts.server_kind, id);
        });
    }
    // --- end reliability ---

    while (true) {
        const bool stop_now = stopping();
        if (!conn) {
            if (stop_now) break;
            try {
                conn = connect();
                retry.reset();
                fresh = true;
                log(log_level::info, "reconnected to ", conn_opts.address());
            } catch (const error& e) {
                const auto wait = retry.next();
                log(log_level::warning, "cannot reach redis (", e.what(), "); retrying in ",
                    std::to_string(wait.count()), " ms");
                wait_interruptible(wait);
            }
            continue;
        }
        if (reliable && !recovered && !stop_now) {
            try {
                reliable->recover_own(*conn, clock::now() + conn_opts.command_timeout);
                recovered = true;
            } catch (const error& e) {
                log(log_level::warning, "recovering the processing lists failed: ", e.what());
                conn.reset();
                wait_interruptible(retry.next());
                continue;
            }
        }

        cmds.clear();
        std::size_t reply_cmds = replies_out.append(cmds, unsent);
        if (reliable)
            reply_cmds += reliable->append_acks(cmds, unacked); // after their replies
        const auto now = clock::now();
        std::size_t heartbeat_cmds = 0;
        const bool beat_now = now >= next_heartbeat && !stop_now;
        const bool reap_now = reliable && beat_now;
        if (beat_now) {
            for (const auto& ep : endpoints) {
                if (!lane.heartbeats || ep.heartbeat_key.empty()) continue; // one lane writes them
                cmds.add({"SET", ep.heartbeat_key, "1", "EX", heartbeat_ttl});
                ++heartbeat_cmds;
            }
            if (reliable) heartbeat_cmds += reliable->append_heartbeat(cmds); // reliability
            next_heartbeat = now + heartbeat_period;
        }
        if (!stop_now && reliable) {
            reliable->append_pop(cmds, rotation, opts.poll_interval);
            rotation = (rotation + 1) % keys.size();
        } else if (!stop_now) {
            // Rotate the key order so that one busy list cannot starve the others.
            pop_argv.clear();
            if (use_blmpop) {
                pop_argv.insert(pop_argv.end(), {"BLMPOP", pop_timeout, key_count});
            } else {
                pop_argv.push_back("BLPOP");
            }
            for (std::size_t i = 0; i < keys.size(); ++i) pop_argv.push_back(keys[(rotation + i) % keys.size()]);
            if (use_blmpop) {
                pop_argv.insert(pop_argv.end(), {"LEFT", "COUNT", batch_text});
            } else {
                pop_argv.push_back(pop_timeout);
            }
            cmds.add(std::span<const std::string_view>(pop_argv));
            rotation = (rotation + 1) % keys.size();
        }
        if (cmds.empty()) break;

        std::vector<reply> results;
        try {
            const auto budget = conn_opts.command_timeout + (stop_now ? std::chrono::milliseconds(0) : opts.poll_interval);
            const auto deadline = now + budget;
            conn->write(cmds, deadline);
            results.reserve(cmds.count());
            for (std::size_t i = 0; i < cmds.count(); ++i) {
                results.push_back(conn->read(deadline));
                // Redis has answered every reply transaction: they are delivered, so they must not
                // be sent again if the connection breaks while the pop is blocked.
                if (i + 1 == reply_cmds) {
                    unsent.clear();
                    unacked.clear();
                }
            }
        } catch (const error& e) {
            log(log_level::warning, "lost connection to ", conn_opts.address(), ": ", e.what());
            conn.reset();
            reconnects.fetch_add(1, std::memory_order_relaxed);
            if (fresh) wait_interruptible(fresh_retry.next());
            continue; // unsent replies are kept and written after reconnecting
        }
        if (fresh) {
            fresh = false;
            fresh_retry.reset();
        }
        if (reply_cmds > 0) {
            const auto problem = check_reply_results(std::span(results).first(reply_cmds));
            if (!problem.empty()) log(log_level::error, "pushing replies failed: ", problem);
        }
        for (std::size_t i = reply_cmds; i < reply_cmds + heartbeat_cmds; ++i) {
            // E.g. an ACL without +set: serving still works, but nobody can see this server.
            if (results[i].is_error() && !heartbeat_warned) {
                log(log_level::warning, "cannot write the heartbeat key: ", results[i].str);
                heartbeat_warned = true;
            }
        }
        unsent.clear();
        unacked.clear();
        in_flight.fetch_sub(std::exchange(answering, 0), std::memory_order_relaxed);
        if (stop_now) break;
        if (reliable) {
            // --- reliability: at-least-once take, run, and (next pipeline) acknowledge ---
            std::vector<taken_request> taken;
            try {
                if (reap_now) reliable->reap(*conn, clock::now() + conn_opts.command_timeout);
                taken = reliable->collect(*conn, std::span(results).subspan(reply_cmds + heartbeat_cmds),
                                          clock::now() + conn_opts.command_timeout);
            } catch (const protocol_error& e) {
                log(log_level::error, "pop failed: ", e.what());
                wait_interruptible(retry.next());
                continue;
            } catch (const error& e) {
                // Taken requests stay in the processing list; recovered at the next start or reaped.
                log(log_level::warning, "lost connection to ", conn_opts.address(), ": ", e.what());
                conn.reset();
                reconnects.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            if (!taken.empty()) retry.reset();
            answering += static_cast<std::int64_t>(taken.size());
            in_flight.fetch_add(static_cast<std::int64_t>(taken.size()), std::memory_order_relaxed);
            std::unique_lock<std::mutex> serialized; // cluster: one lane processes at a time
            if (lane.serialize && !taken.empty()) serialized = std::unique_lock(*lane.serialize);
            std::vector<std::vector<outgoing_reply>> per_item(taken.size());
            auto run_one = [&](std::size_t i) {
                const endpoint& owner_ep = endpoints[queue_owner.at(taken[i].source)];
                per_item[i] = process(owner_ep, taken[i].source, taken[i].payload, stats.get());
            };
            if (pool && taken.size() > 1) {
                pool->run_all(taken.size(), run_one);
            } else {
                for (std::size_t i = 0; i < taken.size(); ++i) run_one(i);
            }
            for (auto& r : per_item) std::move(r.begin(), r.end(), std::back_inserter(unsent));
            std::move(taken.begin(), taken.end(), std::back_inserter(unacked));
            continue;
            // --- end reliability ---
        }

        const reply& popped = results.back();
        if (popped.is_nil()) continue;
        if (popped.is_error()) {
            if (use_blmpop && popped.str.find("unknown command") != std::string::npos) {
                log(log_level::info, "redis has no BLMPOP; popping one request at a time");
                use_blmpop = false;
                continue;
            }
            // E.g. WRONGTYPE when someone overwrote the queue: wait instead of spinning.
            log(log_level::error, "pop failed: ", popped.str);
            wait_interruptible(retry.next());
            continue;
        }
        retry.reset();
        if (!popped.is_array() || popped.elements.size() != 2) {
            log(log_level::error, "unexpected pop reply");
            continue;
        }
        const std::string& key = popped.elements[0].str;
        const auto owner = queue_owner.find(key);
        if (owner == queue_owner.end()) continue;
        const endpoint& ep = endpoints[owner->second];

        // BLMPOP: [key, [v1, v2, ...]]; BLPOP: [key, v].
        std::vector<std::string_view> items;
        if (popped.elements[1].is_array()) {
            for (const auto& e : popped.elements[1].elements) items.push_back(e.str);
        } else {
            items.push_back(popped.elements[1].str);
        }
        answering += static_cast<std::int64_t>(items.size());
        in_flight.fetch_add(static_cast<std::int64_t>(items.size()), std::memory_order_relaxed);
        std::unique_lock<std::mutex> serialized; // cluster: one lane processes at a time
        if (lane.serialize) serialized = std::unique_lock(*lane.serialize);
        if (pool && items.size() > 1) {
            std::vector<std::vector<outgoing_reply>> per_item(items.size());
            pool->run_all(items.size(), [&](std::size_t i) { per_item[i] = process(ep, key, items[i], stats.get()); });
            for (auto& r : per_item) std::move(r.begin(), r.end(), std::back_inserter(unsent));
        } else {
            for (const auto item : items) {
                auto r = process(ep, key, item, stats.get());
                std::move(r.begin(), r.end(), std::back_inserter(unsent));
            }
        }
    }

    if (!unsent.empty() || !unacked.empty()) {
        // Stopped while Redis was away: one last try to deliver what was already computed.
        try {
            auto last = connect();
            cmds.clear();
            replies_out.append(cmds, unsent);
            if (reliable) reliable->append_acks(cmds, unacked);
            last->pipeline(cmds, clock::now() + conn_opts.command_timeout);
        } catch (const error& e) {
            log(log_level::error, "stopping with ", std::to_string(unsent.size()), " undelivered replies: ", e.what());
        }
    }
    in_flight.fetch_sub(answering, std::memory_order_relaxed); // delivered or given up
    if (reliable && conn) reliable->deregister(*conn, clock::now() + conn_opts.command_timeout); // reliability
    for (const auto& ep : endpoints) {
        if (!lane.heartbeats || ep.heartbeat_key.empty() || !conn) continue;
        try {
            conn->execute({"DEL", ep.heartbeat_key}, clock::now() + conn_opts.command_timeout);
        } catch (const error&) {
        }
    }
}

} // namespace redisrpc
