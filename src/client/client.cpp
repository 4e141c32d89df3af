#include <redisrpc/client.hpp>

#include "client/async_engine.hpp"
#include "client/connection_pool.hpp"
#include "client/liveness.hpp"
#include "client/round_trip.hpp"
#include "client/task_runner.hpp"
#include "protocol/factory.hpp"
#include "util/clock.hpp"
#include "util/random.hpp"

#include <redisrpc/admin.hpp>
#include <redisrpc/cluster.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>

namespace redisrpc {

using namespace detail;

namespace {

// ≥ 16 characters are required; 20 of 62 symbols give ~119 bits, beyond guessing.
constexpr std::size_t reply_suffix_length = 20;
constexpr std::size_t request_id_length = 16;
constexpr std::size_t max_in_flight = 65536;

json unwrap(decoded_response&& response) {
    if (!response.outcome.ok)
        throw remote_error(response.outcome.message, response.outcome.code, std::move(response.outcome.data));
    return std::move(response.outcome.value);
}

} // namespace

struct client::impl {
    // One service queue, or (client_options::shards > 1) one of its sub-queues: the codec that
    // names it, the reply lists that share its hash slot, and its async engine.
    struct shard {
        std::unique_ptr<client_codec> codec;
        std::string reply_prefix;
        std::unique_ptr<async_engine> engine;
    };

    impl(connection_options c, std::string q, client_options o)
        : queue(std::move(q)), opts(std::move(o)), pool(std::move(c), opts.connections),
          shared_replies(opts.ids_echoed && opts.dialect != dialect::codility) {
        if (queue.empty()) throw usage_error("client: the queue (or prefix) name must not be empty");
        // ---- cluster: sharded services (docs/cluster.md) ----
        if (opts.shards > 1 && opts.dialect == dialect::codility)
            throw usage_error("client: shards > 1 needs the classic or JSON-RPC dialect");
        if (opts.shards > 1 && !opts.reply_prefix.empty())
            throw usage_error("client: reply_prefix cannot be combined with shards > 1");
        for (auto& name : shard_queues(queue, std::max<std::size_t>(1, opts.shards))) {
            shard s{make_client_codec(opts.dialect, name, opts),
                    opts.reply_prefix.empty() ? name + ":rpc:" : opts.reply_prefix, nullptr};
            shards.push_back(std::move(s));
        }
        // ---- end cluster ----
        // The liveness check SCANs one node for `<queue>`'s heartbeat keys: a cluster spreads them
        // over its masters and sharded services name them after their sub-queues.
        if (opts.fail_fast_without_server &&
            (opts.shards > 1 || pool.options().mode == connection_options::topology::cluster))
            throw usage_error("client: fail_fast_without_server needs a single Redis or Sentinel, without shards");
        if (opts.fail_fast_without_server) // reliability: see client/liveness.hpp
            liveness = std::make_unique<liveness_check>(pool.options(), admin::heartbeat_pattern(queue, opts.dialect),
                                                        opts.live_check_interval);
    }

    std::string queue;
    client_options opts;
    connection_pool pool;
    bool shared_replies;
    std::unique_ptr<liveness_check> liveness; // only with fail_fast_without_server
    std::vector<shard> shards;
    std::atomic<std::size_t> turn{0};

    std::once_flag async_once;
    std::unique_ptr<task_runner> runner;

    /// The shard of the next call, in turn.
    shard& pick() noexcept {
        if (shards.size() == 1) return shards.front();
        return shards[turn.fetch_add(1, std::memory_order_relaxed) % shards.size()];
    }

    void start_async() {
        std::call_once(async_once, [this] {
            if (shared_replies) {
                for (auto& s : shards)
                    s.engine = std::make_unique<async_engine>(
                        pool.options(), *s.codec, s.reply_prefix + random_token(reply_suffix_length), max_in_flight);
            } else {
                runner = std::make_unique<task_runner>(opts.connections, 4096);
            }
        });
    }

    /// `id`: the request id to send when ids are echoed (empty: a random one).
    call_request make_request(std::string_view method, json&& args, json&& kwargs,
                              std::chrono::milliseconds timeout, std::string id = {}) const {
        if (method.empty()) throw usage_error("call: the method name must not be empty");
        if (!args.is_array()) throw usage_error("call: positional arguments must be a JSON array");
        if (kwargs.is_null()) kwargs = json::object();
        if (!kwargs.is_object()) throw usage_error("call: keyword arguments must be a JSON object");
        call_request req;
        req.method = std::string(method);
        req.args = std::move(args);
        req.kwargs = std::move(kwargs);
        if (opts.ids_echoed) {
            // Extension fields our servers use; left out for original peers so that the bytes stay
            // exactly what they expect.
            req.id = id.empty() ? random_token(request_id_length) : std::move(id);
            req.deadline_ms = unix_now_ms() + timeout.count();
        }
        // Codility names the result list after the call id, so every call needs one, even
        // towards original peers; they expect a uuid4.
        if (opts.dialect == dialect::codility) req.id = random_uuid4();
        return req;
    }

    json sync_call(const call_request& req, clock::time_point deadline) {
        shard& s = pick();
        const auto out = s.codec->encode(req, s.reply_prefix + random_token(reply_suffix_length), opts.encoding);
        auto lease = pool.acquire(deadline);
        return unwrap(round_trip(*lease, out, deadline, *s.codec));
    }
};

client::client(std::string_view url, std::string queue, client_options options)
    : client(parse_url(url.empty() ? std::string_view(default_url()) : url), std::move(queue), std::move(options)) {}

client::client(connection_options connection, std::string queue, client_options options)
    : impl_(std::make_unique<impl>(std::move(connection), std::move(queue), std::move(options))) {}

client::~client() = default;
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;

const std::string& client::queue() const noexcept { return impl_->queue; }
const client_options& client::options() const noexcept { return impl_->opts; }

nlohmann::json client::call_json(std::string_view method, nlohmann::json args, nlohmann::json kwargs,
                                 call_options options) {
    auto& i = *impl_;
    const auto timeout = options.timeout.value_or(i.opts.timeout);
    const auto deadline = clock::now() + timeout;
    const call_request req = i.make_request(method, std::move(args), std::move(kwargs), timeout);
    if (i.liveness) i.liveness->require_live_server(deadline); // reliability: fail fast

    // Fast path: an idle connection does push + blocking pop itself, with no thread hand-off.
    if (auto lease = i.pool.try_acquire(deadline)) {
        auto& s = i.pick();
        const auto out = s.codec->encode(req, s.reply_prefix + random_token(reply_suffix_length), i.opts.encoding);
        return unwrap(round_trip(**lease, out, deadline, *s.codec));
    }
    if (!i.shared_replies) return i.sync_call(req, deadline);

    // Every pooled connection is busy: join the pipelined async path instead of queueing.
    std::promise<json> promise;
    auto future = promise.get_future();
    async_call_json(method, req.args, req.kwargs, [&promise](call_result r) {
        if (r.error) {
            promise.set_exception(r.error);
        } else {
            promise.set_value(std::move(r.value));
        }
    }, options);
    return future.get();
}

void client::async_call_json(std::string_view method, nlohmann::json args, nlohmann::json kwargs,
                             std::function<void(call_result)> callback, call_options options) {
    auto& i = *impl_;
    const auto timeout = options.timeout.value_or(i.opts.timeout);
    const auto deadline = clock::now() + timeout;
    call_request req;
    impl::shard* s = nullptr; // with shared reply lists: the shard (and engine) of this call
    std::optional<std::pair<async_engine::call_key, std::string>> engine_id;
    try {
        i.start_async();
        if (i.shared_replies) {
            s = &i.pick();
            engine_id = s->engine->next_id();
        }
        req = i.make_request(method, std::move(args), std::move(kwargs), timeout,
                             engine_id ? std::move(engine_id->second) : std::string());
        if (i.liveness)
            i.liveness->require_live_server(deadline); // reliability: fail fast
    } catch (...) {
        callback({nullptr, std::current_exception()});
        return;
    }
    if (s != nullptr) {
        outgoing_request out;
        try {
            out = s->codec->encode(req, s->engine->reply_key(), i.opts.encoding);
        } catch (...) {
            callback({nullptr, std::current_exception()});
            return;
        }
        s->engine->submit(std::move(out), engine_id->first, deadline, std::move(callback));
        return;
    }
    i.runner->submit([&i, req = std::move(req), deadline, callback = std::move(callback)]() mutable {
        call_result result;
        try {
            result.value = i.sync_call(req, deadline);
        } catch (...) {
            result.error = std::current_exception();
        }
        try {
            callback(std::move(result));
        } catch (...) {
        }
    });
}

} // namespace redisrpc
