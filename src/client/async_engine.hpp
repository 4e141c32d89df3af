#pragma once
// Asynchronous calls over a fixed set of three connections per client, whatever the number of
// calls in flight:
//  - a sender thread coalesces queued requests into one RPUSH per queue per write (pipelining);
//  - a receiver thread pops replies in batches (BLMPOP ... COUNT n) from the client's single
//    reply list and matches them to calls by the request id our servers echo. Calls submitted by
//    its callbacks (continuations) it sends itself, pipelined ahead of its next pop, as the
//    floor's client does: no hand-off to the sender on that path;
//  - a timer thread ends calls at their deadline and withdraws requests no server took yet.
// Only usable with peers that echo ids (our own servers); original peers get per-call lists.
//
// Request ids are "<6 random characters><10 hex digits of a per-engine counter>": 16 characters
// like the ids of the synchronous path, but the engine finds a call by an integer key.

#include "protocol/codec.hpp"
#include "redis/connection.hpp"

#include <redisrpc/client.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace redisrpc::detail {

class async_engine {
public:
    using completion = std::function<void(call_result)>;
    using call_key = std::uint64_t;

    async_engine(connection_options options, const client_codec& codec, std::string reply_key,
                 std::size_t max_in_flight);
    /// Fails every call still pending with an error, then stops the threads.
    ~async_engine();
    async_engine(const async_engine&) = delete;
    async_engine& operator=(const async_engine&) = delete;

    /// A fresh key and the request id that carries it on the wire (for call_request::id).
    std::pair<call_key, std::string> next_id();

    /// Queues a request (whose reply goes to reply_key() and carries the id of `key`). Blocks
    /// while max_in_flight calls are pending (back-pressure), at most until the deadline.
    void submit(outgoing_request request, call_key key, clock::time_point deadline, completion done);

    [[nodiscard]] const std::string& reply_key() const noexcept { return reply_key_; }

    /// Entries in the deadline heap (tests: must stay proportional to the calls in flight).
    [[nodiscard]] std::size_t timer_entries();

private:
    struct pending_call {
        outgoing_request request;
        completion done;
        clock::time_point deadline;
        bool sent = false;
    };
    using timer_entry = std::pair<clock::time_point, call_key>;

    /// Moves the queued requests into `cmds` (one RPUSH per run of requests to the same queue),
    /// marks them sent and lists their keys in `sent`. Returns the number of RPUSH commands.
    /// Call with mutex_ held and sending_ set by the caller.
    std::size_t take_outbox(command_buffer& cmds, std::vector<call_key>& sent);
    /// Ends the calls of a failed send with a connection_error (whether they got in is unknown).
    void fail_sent(const std::vector<call_key>& sent, const std::string& failure);
    void sender_loop();
    void receiver_loop();
    void timer_loop();
    void finish(completion& done, call_result result) noexcept;
    /// Removes a pending call and returns its completion (nullopt if it already ended).
    /// Call with mutex_ held.
    std::optional<completion> take(call_key key);
    /// The key an echoed id carries, or nullopt for an id this engine did not make.
    [[nodiscard]] std::optional<call_key> key_of(const json& id) const noexcept;
    void push_timer(clock::time_point when, call_key key);

    connection_options options_;
    const client_codec& codec_;
    const std::string reply_key_;
    const std::size_t max_in_flight_;
    const std::string id_prefix_;
    std::atomic<call_key> next_key_{1};

    std::mutex mutex_;
    std::condition_variable outbox_ready_, capacity_, timers_changed_, stopping_cv_;
    std::unordered_map<call_key, pending_call> pending_;
    std::vector<call_key> outbox_;
    // Min-heap of deadlines. Answered calls leave their entry behind (a heap cannot remove from
    // the middle); push_timer() rebuilds it from pending_ when stale entries outnumber live ones,
    // so its size stays within about twice the calls in flight.
    std::vector<timer_entry> timers_;
    std::size_t capacity_waiters_ = 0;
    bool stopping_ = false;
    // One thread at a time writes requests (the sender, or the receiver ahead of its pop), and
    // releases the role only once Redis has acknowledged them: requests reach Redis in the order
    // they were submitted even though two connections carry them.
    bool sending_ = false;
    std::thread::id receiver_id_; // its submissions need no wake-up of the sender
    std::vector<std::string_view> push_argv_; // take_outbox()'s scratch, reused across batches

    std::thread sender_, receiver_, timer_;
};

} // namespace redisrpc::detail
