#pragma once
// Asynchronous calls over a fixed set of three connections per client, whatever the number of
// calls in flight:
//  - a sender thread coalesces queued requests into one RPUSH per queue per write (pipelining);
//  - a receiver thread pops replies in batches (BLMPOP ... COUNT n) from the client's single
//    reply list and matches them to calls by the request id our servers echo;
//  - a timer thread ends calls at their deadline and withdraws requests no server took yet.
// Only usable with peers that echo ids (our own servers); original peers get per-call lists.

#include "protocol/codec.hpp"
#include "redis/connection.hpp"

#include <redisrpc/client.hpp>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace redisrpc::detail {

class async_engine {
public:
    using completion = std::function<void(call_result)>;

    async_engine(connection_options options, const client_codec& codec, std::string reply_key,
                 std::size_t max_in_flight);
    /// Fails every call still pending with an error, then stops the threads.
    ~async_engine();
    async_engine(const async_engine&) = delete;
    async_engine& operator=(const async_engine&) = delete;

    /// Queues a request (whose reply goes to reply_key() and carries `id`). Blocks while
    /// max_in_flight calls are pending (back-pressure), at most until the deadline.
    void submit(outgoing_request request, std::string id, clock::time_point deadline, completion done);

    [[nodiscard]] const std::string& reply_key() const noexcept { return reply_key_; }

private:
    struct pending_call {
        outgoing_request request;
        completion done;
        bool sent = false;
    };
    using timer_entry = std::pair<clock::time_point, std::string>;

    void sender_loop();
    void receiver_loop();
    void timer_loop();
    void finish(completion& done, call_result result) noexcept;
    std::optional<completion> take(const std::string& id, std::unique_lock<std::mutex>& lock);

    connection_options options_;
    const client_codec& codec_;
    const std::string reply_key_;
    const std::size_t max_in_flight_;

    std::mutex mutex_;
    std::condition_variable outbox_ready_, capacity_, timers_changed_, stopping_cv_;
    std::unordered_map<std::string, pending_call> pending_;
    std::vector<std::string> outbox_;
    std::priority_queue<timer_entry, std::vector<timer_entry>, std::greater<>> timers_;
    bool stopping_ = false;

    std::thread sender_, receiver_, timer_;
};

} // namespace redisrpc::detail
