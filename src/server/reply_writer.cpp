#include "server/reply_writer.hpp"

#include <string_view>
#include <unordered_map>

namespace redisrpc::detail {

std::size_t append_replies(command_buffer& out, std::span<const outgoing_reply> replies) {
    if (replies.empty()) return 0;
    // Group by key, keeping first-seen order so replies to one list stay in call order.
    std::vector<std::string_view> order;
    std::unordered_map<std::string_view, std::vector<const outgoing_reply*>> by_key;
    for (const auto& r : replies) {
        auto [it, inserted] = by_key.try_emplace(r.key);
        if (inserted) order.push_back(r.key);
        it->second.push_back(&r);
    }
    std::size_t produced = 0;
    std::vector<std::string_view> argv;
    for (const auto key : order) {
        const auto& group = by_key[key];
        argv.clear();
        argv.push_back("RPUSH");
        argv.push_back(key);
        auto ttl = group.front()->ttl;
        for (const auto* r : group) {
            argv.push_back(r->payload);
            ttl = std::max(ttl, r->ttl);
        }
        const std::string ttl_text = std::to_string(std::max<long long>(1, ttl.count()));
        out.add({"MULTI"});
        out.add(std::span<const std::string_view>(argv));
        out.add({"EXPIRE", key, ttl_text});
        out.add({"EXEC"});
        produced += 4;
    }
    return produced;
}

std::string check_reply_results(std::span<const reply> results) {
    for (const auto& r : results) {
        if (r.is_error()) return r.str;
        if (r.is_array()) {
            for (const auto& e : r.elements)
                if (e.is_error()) return e.str;
        }
        if (r.is_nil()) return "transaction aborted";
    }
    return {};
}

} // namespace redisrpc::detail
