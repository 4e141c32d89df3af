#include "client/async_engine.hpp"

#include "client/round_trip.hpp"
#include "util/backoff.hpp"
#include "util/log.hpp"

#include <map>

namespace redisrpc::detail {
namespace {

constexpr auto receiver_poll = std::chrono::milliseconds(200);
constexpr const char* receiver_poll_text = "0.2";
constexpr const char* receiver_batch = "512";
constexpr std::size_t max_values_per_push = 1024;

std::exception_ptr error_from(const call_outcome& outcome) {
    return std::make_exception_ptr(remote_error(outcome.message, outcome.code, outcome.data));
}

} // namespace

async_engine::async_engine(connection_options options, const client_codec& codec, std::string reply_key,
                           std::size_t max_in_flight)
    : options_(std::move(options)), codec_(codec), reply_key_(std::move(reply_key)),
      max_in_flight_(max_in_flight == 0 ? 1 : max_in_flight) {
    sender_ = std::thread([this] { sender_loop(); });
    receiver_ = std::thread([this] { receiver_loop(); });
    timer_ = std::thread([this] { timer_loop(); });
}

async_engine::~async_engine() {
    std::unordered_map<std::string, pending_call> left;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        left.swap(pending_);
    }
    outbox_ready_.notify_all();
    capacity_.notify_all();
    timers_changed_.notify_all();
    stopping_cv_.notify_all();
    sender_.join();
    receiver_.join();
    timer_.join();
    for (auto& [id, call] : left)
        finish(call.done, {nullptr, std::make_exception_ptr(error("client closed before the call ended"))});
}

void async_engine::finish(completion& done, call_result result) noexcept {
    try {
        done(std::move(result));
    } catch (const std::exception& e) {
        log(log_level::error, "an async call's callback threw: ", e.what());
    } catch (...) {
        log(log_level::error, "an async call's callback threw");
    }
}

std::optional<async_engine::completion> async_engine::take(const std::string& id, std::unique_lock<std::mutex>&) {
    const auto it = pending_.find(id);
    if (it == pending_.end()) return std::nullopt;
    auto done = std::move(it->second.done);
    pending_.erase(it);
    capacity_.notify_one();
    return done;
}

void async_engine::submit(outgoing_request request, std::string id, clock::time_point deadline, completion done) {
    std::unique_lock lock(mutex_);
    if (!capacity_.wait_until(lock, deadline, [this] { return stopping_ || pending_.size() < max_in_flight_; })) {
        lock.unlock();
        finish(done, {nullptr, std::make_exception_ptr(timeout_error(
                                   "call timed out waiting for a free slot (request not sent)", false))});
        return;
    }
    if (stopping_) {
        lock.unlock();
        finish(done, {nullptr, std::make_exception_ptr(error("client is closing"))});
        return;
    }
    const bool earliest = timers_.empty() || deadline < timers_.top().first;
    timers_.emplace(deadline, id);
    outbox_.push_back(id);
    pending_.emplace(std::move(id), pending_call{std::move(request), std::move(done), false});
    lock.unlock();
    outbox_ready_.notify_one();
    if (earliest) timers_changed_.notify_one();
}

void async_engine::sender_loop() {
    std::unique_ptr<connection> conn;
    backoff retry;
    std::vector<std::string> batch;
    command_buffer cmds;
    while (true) {
        // Take everything queued so far: requests that piled up during the last write go out together.
        std::map<std::string, std::vector<std::string>> by_queue; // queue -> payloads, in order
        std::vector<std::string> ids;
        {
            std::unique_lock lock(mutex_);
            outbox_ready_.wait(lock, [this] { return stopping_ || !outbox_.empty(); });
            if (stopping_) return;
            batch.swap(outbox_);
            for (auto& id : batch) {
                auto it = pending_.find(id);
                if (it == pending_.end()) continue; // timed out before it was sent
                it->second.sent = true;
                by_queue[it->second.request.queue].push_back(it->second.request.payload);
                ids.push_back(std::move(id));
            }
            batch.clear();
        }
        if (ids.empty()) continue;
        cmds.clear();
        std::vector<std::string_view> argv;
        for (const auto& [queue, payloads] : by_queue) {
            for (std::size_t i = 0; i < payloads.size(); i += max_values_per_push) {
                argv.assign({"RPUSH", queue});
                for (std::size_t j = i; j < std::min(payloads.size(), i + max_values_per_push); ++j)
                    argv.push_back(payloads[j]);
                cmds.add(std::span<const std::string_view>(argv));
            }
        }
        std::string failure;
        try {
            if (!conn) conn = std::make_unique<connection>(options_);
            const auto results = conn->pipeline(cmds, clock::now() + options_.command_timeout);
            for (const auto& r : results)
                if (r.is_error()) failure = "redis refused the request: " + r.str;
            retry.reset();
        } catch (const error& e) {
            failure = e.what();
            conn.reset();
        }
        if (failure.empty()) continue;
        // Whether the requests got in is unknown: end those calls now with the connection error.
        log(log_level::warning, "sending requests failed: ", failure);
        for (const auto& id : ids) {
            std::unique_lock lock(mutex_);
            auto done = take(id, lock);
            lock.unlock();
            if (done) finish(*done, {nullptr, std::make_exception_ptr(connection_error(failure))});
        }
        std::unique_lock lock(mutex_);
        stopping_cv_.wait_for(lock, retry.next(), [this] { return stopping_; });
    }
}

void async_engine::receiver_loop() {
    std::unique_ptr<connection> conn;
    backoff retry;
    bool use_blmpop = true;
    while (true) {
        {
            std::lock_guard lock(mutex_);
            if (stopping_) return;
        }
        std::vector<reply> items;
        try {
            if (!conn) conn = std::make_unique<connection>(options_);
            const auto deadline = clock::now() + receiver_poll + options_.command_timeout;
            reply r = use_blmpop ? conn->execute({"BLMPOP", receiver_poll_text, "1", reply_key_, "LEFT", "COUNT",
                                                  receiver_batch},
                                                 deadline)
                                 : conn->execute({"BLPOP", reply_key_, receiver_poll_text}, deadline);
            if (r.is_error()) {
                if (use_blmpop && r.str.find("unknown command") != std::string::npos) {
                    use_blmpop = false;
                    continue;
                }
                throw connection_error("popping replies failed: " + r.str);
            }
            retry.reset();
            if (r.is_nil() || !r.is_array() || r.elements.size() != 2) continue;
            if (r.elements[1].is_array()) {
                items = std::move(r.elements[1].elements);
            } else {
                items.push_back(std::move(r.elements[1]));
            }
        } catch (const error& e) {
            log(log_level::warning, "receiving replies failed: ", e.what());
            conn.reset();
            std::unique_lock lock(mutex_);
            stopping_cv_.wait_for(lock, retry.next(), [this] { return stopping_; });
            continue;
        }
        for (const auto& item : items) {
            decoded_response response;
            try {
                response = codec_.decode(item.str);
            } catch (const std::exception& e) {
                log(log_level::warning, "dropping an unreadable reply on ", reply_key_, ": ", e.what());
                continue;
            }
            if (!response.id.is_string()) {
                log(log_level::warning, "dropping a reply without a request id on ", reply_key_);
                continue;
            }
            std::unique_lock lock(mutex_);
            auto done = take(response.id.get_ref<const std::string&>(), lock);
            lock.unlock();
            if (!done) continue; // a late reply to a call that already timed out (or a duplicate)
            if (response.outcome.ok) {
                finish(*done, {std::move(response.outcome.value), nullptr});
            } else {
                finish(*done, {nullptr, error_from(response.outcome)});
            }
        }
    }
}

void async_engine::timer_loop() {
    std::unique_ptr<connection> control; // for withdrawing timed-out requests
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (timers_.empty()) {
            timers_changed_.wait(lock);
            continue;
        }
        const auto when = timers_.top().first; // a copy: the heap changes while we wait
        if (clock::now() < when) {
            timers_changed_.wait_until(lock, when);
            continue;
        }
        // ---- failover: every call due now is withdrawn in one pipeline, so a Redis that
        // answers slowly (a master pausing writes while it hands over) delays them all by one
        // bounded wait instead of one wait each ----
        struct expired_call {
            outgoing_request request;
            completion done;
            bool sent;
        };
        std::vector<expired_call> due;
        // Every call of the batch ends by its own deadline plus this margin, answered or not.
        const auto withdraw_deadline = timers_.top().first + std::chrono::milliseconds(200);
        while (!timers_.empty() && timers_.top().first <= clock::now()) {
            const std::string id = timers_.top().second;
            timers_.pop();
            auto it = pending_.find(id);
            if (it == pending_.end()) continue; // already answered
            const bool sent = it->second.sent;
            outgoing_request request = std::move(it->second.request);
            auto done = take(id, lock);
            due.push_back({std::move(request), std::move(*done), sent});
        }
        lock.unlock();
        command_buffer withdraws;
        for (const auto& call : due)
            if (call.sent) withdraws.add({"LREM", call.request.queue, "1", call.request.payload});
        std::vector<reply> removed;
        if (!withdraws.empty()) {
            try {
                if (!control) control = std::make_unique<connection>(options_);
                removed = control->pipeline(withdraws, withdraw_deadline);
                if (control->broken()) control.reset();
            } catch (const error& e) {
                log(log_level::warning, "could not withdraw timed-out requests: ", e.what());
                control.reset();
            }
        }
        std::size_t next_reply = 0;
        for (auto& call : due) {
            bool withdrawn = !call.sent;
            if (call.sent) {
                const reply* r = next_reply < removed.size() ? &removed[next_reply] : nullptr;
                ++next_reply;
                withdrawn = r != nullptr && r->is_integer() && r->integer == 1;
            }
            finish(call.done, {nullptr, std::make_exception_ptr(timeout_error(
                                            withdrawn ? "call timed out; no server took the request"
                                                      : "call timed out; a server took the request, its outcome is unknown",
                                            !withdrawn))});
        }
        // ---- end failover ----
        lock.lock();
    }
}

} // namespace redisrpc::detail
