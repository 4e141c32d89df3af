#include "server/reply_writer.hpp"

#include <algorithm>
#include <charconv>

namespace redisrpc::detail {

std::size_t reply_writer::append(command_buffer& out, std::span<const outgoing_reply> replies) {
    if (replies.empty())
        return 0;
    // Group by key; sorting (key, index) pairs keeps the replies to one list in call order.
    by_key_.clear();
    for (std::size_t i = 0; i < replies.size(); ++i)
        by_key_.emplace_back(replies[i].key, i);
    std::sort(by_key_.begin(), by_key_.end());
    std::size_t produced = 0;
    for (std::size_t first = 0; first < by_key_.size();) {
        const std::string_view key = by_key_[first].first;
        argv_.clear();
        argv_.push_back("RPUSH");
        argv_.push_back(key);
        auto ttl = replies[by_key_[first].second].ttl;
        bool transactional = false;
        std::size_t next = first;
        for (; next < by_key_.size() && by_key_[next].first == key; ++next) {
            const auto& r = replies[by_key_[next].second];
            argv_.push_back(r.payload);
            ttl = std::max(ttl, r.ttl);
            transactional = transactional || r.transactional;
        }
        first = next;
        char digits[24];
        const auto [end, ec] =
            std::to_chars(digits, digits + sizeof digits, std::max<long long>(1, ttl.count()));
        (void)ec; // 24 bytes hold any 64-bit number
        const std::string_view ttl_text(digits, static_cast<std::size_t>(end - digits));
        if (transactional)
            out.add({"MULTI"});
        out.add(std::span<const std::string_view>(argv_));
        out.add({"EXPIRE", key, ttl_text});
        if (transactional)
            out.add({"EXEC"});
        produced += transactional ? 4 : 2;
    }
    return produced;
}

std::size_t append_replies(command_buffer& out, std::span<const outgoing_reply> replies) {
    reply_writer writer;
    return writer.append(out, replies);
}

std::string check_reply_results(std::span<const reply> results) {
    for (const auto& r : results) {
        if (r.is_error())
            return r.str;
        if (r.is_array()) {
            for (const auto& e : r.elements)
                if (e.is_error())
                    return e.str;
        }
        if (r.is_nil())
            return "transaction aborted";
    }
    return {};
}

} // namespace redisrpc::detail
