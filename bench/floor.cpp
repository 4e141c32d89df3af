#include "floor.hpp"

#include "redis/command.hpp"
#include "redis/connection.hpp"

#include <redisrpc/error.hpp>

#include <algorithm>
#include <chrono>
#include <deque>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace bench {

namespace detail = redisrpc::detail;

namespace {

constexpr auto io_margin = 5s;        // socket deadline beyond a blocking pop's own timeout
constexpr const char* client_pop_timeout = "2"; // a missing reply for 2 s means the peer is gone
constexpr const char* server_pop_timeout = "0.1";

// Same size as redisrpc's classic reply {"return_value":6.0,"id":"<16 symbols>"}.
std::string floor_reply() { return R"({"return_value":6.0,"id":")" + token(16) + R"("})"; }

// The reply list named in a request: the text between "response_queue":" and the next quote.
std::string_view reply_key_of(std::string_view request) {
    static constexpr std::string_view marker = R"("response_queue":")";
    const auto at = request.find(marker);
    if (at == std::string_view::npos) return {};
    const auto begin = at + marker.size();
    const auto end = request.find('"', begin);
    if (end == std::string_view::npos) return {};
    return request.substr(begin, end - begin);
}

const detail::reply& checked_pop(const std::vector<detail::reply>& results) {
    for (const auto& r : results)
        if (r.is_error()) throw std::runtime_error("redis: " + r.str);
    const auto& popped = results.back();
    if (popped.is_nil()) throw std::runtime_error("no reply within 2 s: the floor server is not answering");
    if (!popped.is_array() || popped.elements.size() != 2) throw std::runtime_error("unexpected pop reply");
    return popped;
}

} // namespace

std::string floor_request(const std::string& reply_key) {
    const auto deadline_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch() + 10s)
                                 .count();
    return R"({"function_call":{"name":"add","args":[5.0]},"response_queue":")" + reply_key + R"(","id":")" +
           token(16) + R"(","deadline_ms":)" + std::to_string(deadline_ms) + "}";
}

// ---------------------------------------------------------------------------------------------
// clients

result floor_sequential(const settings& s, const std::string& queue) {
    const auto options = redisrpc::parse_url(s.url);
    detail::connection conn(options);
    const std::string reply_key = queue + ":rpc:" + token(20);
    const std::string request = floor_request(reply_key);
    detail::command_buffer cmds;
    cmds.add({"RPUSH", queue, request});
    cmds.add({"BLPOP", reply_key, client_pop_timeout});

    window w(s);
    for (auto now = clock::now(); w.sending(now); now = clock::now()) {
        const auto results = conn.pipeline(cmds, now + io_margin);
        checked_pop(results);
        w.record(now, clock::now());
    }
    return w.finish("floor sequential (RPUSH+BLPOP)", 1);
}

result floor_batched(const settings& s, const std::string& queue, std::size_t k) {
    const auto options = redisrpc::parse_url(s.url);
    detail::connection conn(options);
    const std::string reply_key = queue + ":rpc:" + token(20);
    const std::string request = floor_request(reply_key);
    const std::string count = std::to_string(k);
    detail::command_buffer cmds;
    std::vector<std::string_view> argv;
    std::deque<clock::time_point> sent; // one server worker answers in order: FIFO matches replies

    window w(s);
    std::size_t to_send = k;
    while (true) {
        const auto now = clock::now();
        if (!w.sending(now)) to_send = 0; // drain what is in flight, so the next run starts clean
        cmds.clear();
        if (to_send > 0) {
            argv.assign({"RPUSH", queue});
            argv.insert(argv.end(), to_send, request);
            cmds.add(std::span<const std::string_view>(argv));
            sent.insert(sent.end(), to_send, now);
        }
        if (sent.empty()) break;
        cmds.add({"BLMPOP", client_pop_timeout, "1", reply_key, "LEFT", "COUNT", count});
        const auto results = conn.pipeline(cmds, now + io_margin);
        const auto& popped = checked_pop(results);
        const auto done = clock::now();
        const std::size_t n = popped.elements[1].elements.size();
        if (n > sent.size()) throw std::runtime_error("more replies than requests");
        for (std::size_t i = 0; i < n; ++i) {
            w.record(sent.front(), done);
            sent.pop_front();
        }
        to_send = n;
    }
    return w.finish("floor batched (BLMPOP)", k);
}

void floor_calls_sequential(const settings& s, const std::string& queue, std::uint64_t n) {
    detail::connection conn(redisrpc::parse_url(s.url));
    const std::string reply_key = queue + ":rpc:" + token(20);
    const std::string request = floor_request(reply_key);
    detail::command_buffer cmds;
    cmds.add({"RPUSH", queue, request});
    cmds.add({"BLPOP", reply_key, client_pop_timeout});
    for (std::uint64_t i = 0; i < n; ++i) checked_pop(conn.pipeline(cmds, clock::now() + io_margin));
}

void floor_calls_batched(const settings& s, const std::string& queue, std::uint64_t n, std::size_t k) {
    detail::connection conn(redisrpc::parse_url(s.url));
    const std::string reply_key = queue + ":rpc:" + token(20);
    const std::string request = floor_request(reply_key);
    const std::string count = std::to_string(k);
    detail::command_buffer cmds;
    std::vector<std::string_view> argv;
    std::uint64_t sent = 0, done = 0;
    std::size_t to_send = static_cast<std::size_t>(std::min<std::uint64_t>(k, n));
    while (done < n) {
        cmds.clear();
        if (to_send > 0) {
            argv.assign({"RPUSH", queue});
            argv.insert(argv.end(), to_send, request);
            cmds.add(std::span<const std::string_view>(argv));
            sent += to_send;
        }
        cmds.add({"BLMPOP", client_pop_timeout, "1", reply_key, "LEFT", "COUNT", count});
        const auto results = conn.pipeline(cmds, clock::now() + io_margin);
        const std::size_t got = checked_pop(results).elements[1].elements.size();
        done += got;
        to_send = static_cast<std::size_t>(std::min<std::uint64_t>(got, n - sent));
    }
}

// ---------------------------------------------------------------------------------------------
// servers

int floor_server_sequential(const settings& s, const std::string& queue) {
    detail::connection conn(redisrpc::parse_url(s.url));
    peer_ready();
    const std::string reply = floor_reply();
    detail::command_buffer cmds;
    std::string reply_key;
    while (true) {
        const bool stop = stop_requested();
        cmds.clear();
        if (!reply_key.empty()) cmds.add({"RPUSH", reply_key, reply});
        if (!stop) cmds.add({"BLPOP", queue, server_pop_timeout});
        if (cmds.empty()) break;
        const auto results = conn.pipeline(cmds, clock::now() + io_margin);
        reply_key.clear();
        if (stop) break;
        const auto& popped = results.back();
        if (popped.is_error()) throw std::runtime_error("redis: " + popped.str);
        if (popped.is_array() && popped.elements.size() == 2) reply_key = reply_key_of(popped.elements[1].str);
    }
    return 0;
}

int floor_server_batched(const settings& s, const std::string& queue) {
    detail::connection conn(redisrpc::parse_url(s.url));
    peer_ready();
    const std::string reply = floor_reply();
    const std::string count = std::to_string(s.batch);
    detail::command_buffer cmds;
    std::vector<std::string> reply_keys; // one per answered request, in order
    std::vector<std::string_view> argv;
    while (true) {
        const bool stop = stop_requested();
        cmds.clear();
        // One RPUSH of many values per run of requests that share a reply list.
        for (std::size_t i = 0; i < reply_keys.size();) {
            std::size_t j = i;
            while (j < reply_keys.size() && reply_keys[j] == reply_keys[i]) ++j;
            argv.assign({"RPUSH", reply_keys[i]});
            argv.insert(argv.end(), j - i, reply);
            cmds.add(std::span<const std::string_view>(argv));
            i = j;
        }
        if (!stop) cmds.add({"BLMPOP", server_pop_timeout, "1", queue, "LEFT", "COUNT", count});
        if (cmds.empty()) break;
        const auto results = conn.pipeline(cmds, clock::now() + io_margin);
        reply_keys.clear();
        if (stop) break;
        const auto& popped = results.back();
        if (popped.is_error()) throw std::runtime_error("redis: " + popped.str);
        if (!popped.is_array() || popped.elements.size() != 2) continue;
        for (const auto& item : popped.elements[1].elements) {
            const auto key = reply_key_of(item.str);
            if (!key.empty()) reply_keys.emplace_back(key);
        }
    }
    return 0;
}

} // namespace bench
