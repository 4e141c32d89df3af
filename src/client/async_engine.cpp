#include "client/async_engine.hpp"

#include "client/round_trip.hpp"
#include "util/backoff.hpp"
#include "util/log.hpp"
#include "util/random.hpp"

#include <algorithm>
#include <span>

namespace redisrpc::detail {
namespace {

constexpr auto receiver_poll = std::chrono::milliseconds(200);
constexpr const char* receiver_poll_text = "0.2";
constexpr const char* receiver_batch = "512";
constexpr std::size_t max_values_per_push = 1024;
constexpr std::size_t id_prefix_length = 6;
constexpr std::size_t id_hex_digits = 10; // 16^10 ≈ 1.1e12 calls per client before ids repeat
// Stale heap entries tolerated beyond the live ones before the heap is rebuilt.
constexpr std::size_t timer_slack = 64;

std::exception_ptr error_from(const call_outcome& outcome) {
    return std::make_exception_ptr(remote_error(outcome.message, outcome.code, outcome.data));
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

} // namespace

async_engine::async_engine(connection_options options, const client_codec& codec, std::string reply_key,
                           std::size_t max_in_flight)
    : options_(std::move(options)), codec_(codec), reply_key_(std::move(reply_key)),
      max_in_flight_(max_in_flight == 0 ? 1 : max_in_flight), id_prefix_(random_token(id_prefix_length)) {
    sender_ = std::thread([this] { sender_loop(); });
    receiver_ = std::thread([this] { receiver_loop(); });
    timer_ = std::thread([this] { timer_loop(); });
}

async_engine::~async_engine() {
    std::unordered_map<call_key, pending_call> left;
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
    for (auto& [key, call] : left)
        finish(call.done, {nullptr, std::make_exception_ptr(error("client closed before the call ended"))});
}

std::pair<async_engine::call_key, std::string> async_engine::next_id() {
    static constexpr char hex[] = "0123456789abcdef";
    const call_key key = next_key_.fetch_add(1, std::memory_order_relaxed);
    std::string id;
    id.reserve(id_prefix_length + id_hex_digits);
    id = id_prefix_;
    for (std::size_t i = id_hex_digits; i-- > 0;)
        id.push_back(hex[(key >> (4 * i)) & 0xFU]);
    return {key, std::move(id)};
}

std::optional<async_engine::call_key> async_engine::key_of(const json& id) const noexcept {
    const auto* text = id.get_ptr<const json::string_t*>();
    if (text == nullptr || text->size() != id_prefix_length + id_hex_digits || !text->starts_with(id_prefix_))
        return std::nullopt;
    call_key key = 0;
    for (std::size_t i = id_prefix_length; i < text->size(); ++i) {
        const int digit = hex_value((*text)[i]);
        if (digit < 0)
            return std::nullopt;
        key = key << 4 | static_cast<call_key>(digit);
    }
    return key;
}

std::size_t async_engine::timer_entries() {
    std::lock_guard lock(mutex_);
    return timers_.size();
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

std::optional<async_engine::completion> async_engine::take(call_key key) {
    const auto it = pending_.find(key);
    if (it == pending_.end())
        return std::nullopt;
    auto done = std::move(it->second.done);
    pending_.erase(it);
    if (capacity_waiters_ > 0)
        capacity_.notify_one();
    return done;
}

void async_engine::push_timer(clock::time_point when, call_key key) {
    if (timers_.size() >= 2 * pending_.size() + timer_slack) {
        // Most entries belong to calls that have ended: keep one per pending call.
        timers_.clear();
        for (const auto& [k, call] : pending_)
            timers_.emplace_back(call.deadline, k);
        std::make_heap(timers_.begin(), timers_.end(), std::greater<>{});
    }
    timers_.emplace_back(when, key);
    std::push_heap(timers_.begin(), timers_.end(), std::greater<>{});
}

void async_engine::submit(outgoing_request request, call_key key, clock::time_point deadline,
                          completion done) {
    std::unique_lock lock(mutex_);
    // Callbacks run on the receiver thread, which is what frees slots: waiting there would stall
    // every call, so a callback's call is admitted even beyond the limit.
    if (!stopping_ && pending_.size() >= max_in_flight_ && std::this_thread::get_id() != receiver_id_) {
        ++capacity_waiters_;
        const bool got = capacity_.wait_until(
            lock, deadline, [this] { return stopping_ || pending_.size() < max_in_flight_; });
        --capacity_waiters_;
        if (!got) {
            lock.unlock();
            finish(done, {nullptr, std::make_exception_ptr(timeout_error(
                                       "call timed out waiting for a free slot (request not sent)", false))});
            return;
        }
    }
    if (stopping_) {
        lock.unlock();
        finish(done, {nullptr, std::make_exception_ptr(error("client is closing"))});
        return;
    }
    push_timer(deadline, key);
    const bool earliest = timers_.front().second == key;
    // The sender takes the whole outbox when it wakes: only the first request needs to wake it.
    // A callback's call is sent by the receiver before its next pop.
    const bool wake_sender = outbox_.empty() && std::this_thread::get_id() != receiver_id_;
    outbox_.push_back(key);
    pending_.emplace(key, pending_call{std::move(request), std::move(done), deadline, false});
    lock.unlock();
    if (wake_sender)
        outbox_ready_.notify_one();
    if (earliest)
        timers_changed_.notify_one();
}

std::size_t async_engine::take_outbox(command_buffer& cmds, std::vector<call_key>& sent) {
    auto& argv = push_argv_;
    argv.clear();
    std::size_t pushes = 0;
    auto flush = [&] {
        if (argv.size() > 2) {
            cmds.add(std::span<const std::string_view>(argv));
            ++pushes;
        }
        argv.clear();
    };
    // The payloads are copied into the RESP buffer while the lock keeps the pending entries alive.
    for (const call_key key : outbox_) {
        const auto it = pending_.find(key);
        if (it == pending_.end())
            continue; // timed out before it was sent
        it->second.sent = true;
        const auto& request = it->second.request;
        if (argv.empty() || argv[1] != request.queue || argv.size() - 2 >= max_values_per_push) {
            flush();
            argv.push_back("RPUSH");
            argv.push_back(request.queue);
        }
        argv.push_back(request.payload);
        sent.push_back(key);
    }
    flush();
    outbox_.clear();
    return pushes;
}

void async_engine::fail_sent(const std::vector<call_key>& sent, const std::string& failure) {
    log(log_level::warning, "sending requests failed: ", failure);
    std::vector<completion> failed;
    {
        std::lock_guard lock(mutex_);
        for (const call_key key : sent)
            if (auto done = take(key))
                failed.push_back(std::move(*done));
    }
    for (auto& done : failed)
        finish(done, {nullptr, std::make_exception_ptr(connection_error(failure))});
}

void async_engine::sender_loop() {
    std::unique_ptr<connection> conn;
    backoff retry;
    std::vector<call_key> sent;
    command_buffer cmds;
    while (true) {
        cmds.clear();
        sent.clear();
        {
            // Take everything queued so far: requests that piled up during the last write go out
            // together.
            std::unique_lock lock(mutex_);
            outbox_ready_.wait(lock, [this] { return stopping_ || (!outbox_.empty() && !sending_); });
            if (stopping_)
                return;
            sending_ = true;
            take_outbox(cmds, sent);
            if (sent.empty()) {
                sending_ = false;
                continue;
            }
        }
        std::string failure;
        try {
            if (!conn)
                conn = std::make_unique<connection>(options_);
            const auto results = conn->pipeline(cmds, clock::now() + options_.command_timeout);
            for (const auto& r : results)
                if (r.is_error())
                    failure = "redis refused the request: " + r.str;
            retry.reset();
        } catch (const error& e) {
            failure = e.what();
            conn.reset();
        }
        {
            std::lock_guard lock(mutex_);
            sending_ = false;
        }
        if (failure.empty())
            continue;
        fail_sent(sent, failure);
        std::unique_lock lock(mutex_);
        stopping_cv_.wait_for(lock, retry.next(), [this] { return stopping_; });
    }
}

void async_engine::receiver_loop() {
    std::unique_ptr<connection> conn;
    backoff retry;
    bool use_blmpop = true;
    std::vector<reply> items;
    std::vector<std::pair<call_key, call_result>> decoded;
    std::vector<std::pair<completion, call_result>> ready;
    std::vector<call_key> sent;
    command_buffer cmds;
    {
        std::lock_guard lock(mutex_);
        receiver_id_ = std::this_thread::get_id();
    }
    while (true) {
        cmds.clear();
        sent.clear();
        std::size_t pushes = 0;
        {
            // Requests our callbacks submitted (and any others queued while the sender is idle)
            // go out ahead of the pop, in the same write.
            std::lock_guard lock(mutex_);
            if (stopping_)
                return;
            if (!outbox_.empty() && !sending_) {
                sending_ = true;
                pushes = take_outbox(cmds, sent);
                if (sent.empty())
                    sending_ = false;
            }
        }
        bool holding_send_role = !sent.empty();
        // Gives the sending role back (once Redis has acknowledged the pushes, or they failed)
        // and hands over to the sender whatever was queued meanwhile. Runs at most once per pass.
        auto end_sending = [&](const std::string& failure) {
            if (!holding_send_role)
                return;
            holding_send_role = false;
            bool more = false;
            {
                std::lock_guard lock(mutex_);
                sending_ = false;
                more = !outbox_.empty();
            }
            if (more)
                outbox_ready_.notify_one();
            if (!failure.empty())
                fail_sent(sent, failure);
            sent.clear();
        };
        items.clear();
        try {
            if (!conn)
                conn = std::make_unique<connection>(options_);
            const auto deadline = clock::now() + receiver_poll + options_.command_timeout;
            if (use_blmpop) {
                cmds.add({"BLMPOP", receiver_poll_text, "1", reply_key_, "LEFT", "COUNT", receiver_batch});
            } else {
                cmds.add({"BLPOP", reply_key_, receiver_poll_text});
            }
            try {
                conn->write(cmds, clock::now() + options_.command_timeout);
                std::string refused;
                for (std::size_t i = 0; i < pushes; ++i) {
                    const reply pushed = conn->read(clock::now() + options_.command_timeout);
                    if (pushed.is_error())
                        refused = "redis refused the request: " + pushed.str;
                }
                end_sending(refused);
            } catch (const error& e) {
                end_sending(e.what());
                throw;
            }
            reply r = conn->read(deadline);
            if (r.is_error()) {
                if (use_blmpop && r.str.find("unknown command") != std::string::npos) {
                    use_blmpop = false;
                    continue;
                }
                throw connection_error("popping replies failed: " + r.str);
            }
            retry.reset();
            if (r.is_nil() || !r.is_array() || r.elements.size() != 2)
                continue;
            if (r.elements[1].is_array()) {
                items = std::move(r.elements[1].elements);
            } else {
                items.push_back(std::move(r.elements[1]));
            }
        } catch (const error& e) {
            log(log_level::warning, "receiving replies failed: ", e.what());
            end_sending(e.what());
            conn.reset();
            std::unique_lock lock(mutex_);
            stopping_cv_.wait_for(lock, retry.next(), [this] { return stopping_; });
            continue;
        }
        // Decode the whole batch first, then match it under one lock, then run the callbacks
        // (which may submit new calls, so never with the lock held).
        for (const auto& item : items) {
            decoded_response response;
            try {
                response = codec_.decode(item.str);
            } catch (const std::exception& e) {
                log(log_level::warning, "dropping an unreadable reply on ", reply_key_, ": ", e.what());
                continue;
            }
            const auto key = key_of(response.id);
            if (!key) {
                log(log_level::warning, "dropping a reply without a request id of this client on ",
                    reply_key_);
                continue;
            }
            if (response.outcome.ok) {
                decoded.emplace_back(*key, call_result{std::move(response.outcome.value), nullptr});
            } else {
                decoded.emplace_back(*key, call_result{nullptr, error_from(response.outcome)});
            }
        }
        {
            std::lock_guard lock(mutex_);
            for (auto& [key, result] : decoded) {
                // Absent: a late reply to a call that already timed out (or a duplicate).
                if (auto done = take(key))
                    ready.emplace_back(std::move(*done), std::move(result));
            }
        }
        decoded.clear();
        for (auto& [done, result] : ready)
            finish(done, std::move(result));
        ready.clear();
    }
}

void async_engine::timer_loop() {
    std::unique_ptr<connection> control; // for withdrawing timed-out requests
    // --- reliability: a frozen Redis must not delay the timeouts of the calls queued behind ---
    // Opening the control connection and each withdrawal are bounded by withdraw_budget; after a
    // failure no withdrawal is tried for a while (those calls end as "outcome unknown").
    connection_options control_options = options_;
    control_options.connect_timeout = std::min(control_options.connect_timeout, withdraw_budget);
    control_options.command_timeout = std::min(control_options.command_timeout, withdraw_budget);
    clock::time_point no_withdraw_until{};
    // --- end reliability ---
    std::unique_lock lock(mutex_);
    while (!stopping_) {
        if (timers_.empty()) {
            timers_changed_.wait(lock);
            continue;
        }
        const auto when = timers_.front().first; // a copy: the heap changes while we wait
        if (clock::now() < when) {
            timers_changed_.wait_until(lock, when);
            continue;
        }
        // Every call due now is withdrawn in one pipeline, so a Redis that answers slowly (a
        // master pausing writes during a failover) delays them all by one bounded wait, not one each.
        struct expired_call {
            outgoing_request request;
            completion done;
            bool sent;
        };
        std::vector<expired_call> due;
        while (!timers_.empty() && timers_.front().first <= clock::now()) {
            const call_key key = timers_.front().second;
            std::pop_heap(timers_.begin(), timers_.end(), std::greater<>{});
            timers_.pop_back();
            auto it = pending_.find(key);
            if (it == pending_.end())
                continue; // already answered
            const bool sent = it->second.sent;
            outgoing_request request = std::move(it->second.request);
            auto done = take(key);
            due.push_back({std::move(request), std::move(*done), sent});
        }
        lock.unlock();
        command_buffer withdraws;
        if (clock::now() >= no_withdraw_until) {
            for (const auto& call : due)
                if (call.sent)
                    withdraws.add({"LREM", call.request.queue, "1", call.request.payload});
        }
        std::vector<reply> removed;
        if (!withdraws.empty()) {
            try {
                if (!control)
                    control = std::make_unique<connection>(control_options);
                removed = control->pipeline(withdraws, clock::now() + withdraw_budget);
                if (control->broken())
                    control.reset();
            } catch (const error& e) {
                log(log_level::warning, "could not withdraw timed-out requests: ", e.what());
                control.reset();
            }
            if (!control)
                no_withdraw_until = clock::now() + std::chrono::seconds(1); // reliability
        }
        std::size_t next_reply = 0;
        for (auto& call : due) {
            bool withdrawn = !call.sent;
            if (call.sent && !withdraws.empty()) {
                const reply* r = next_reply < removed.size() ? &removed[next_reply] : nullptr;
                ++next_reply;
                withdrawn = r != nullptr && r->is_integer() && r->integer == 1;
            }
            finish(call.done,
                   {nullptr, std::make_exception_ptr(timeout_error(
                                 withdrawn ? "call timed out; no server took the request"
                                           : "call timed out; a server took the request, its outcome is unknown",
                                 !withdrawn))});
        }
        lock.lock();
    }
}

} // namespace redisrpc::detail
