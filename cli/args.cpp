#include "args.hpp"

#include <redisrpc/error.hpp>
#include <redisrpc/options.hpp>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace redisrpc::cli {

nlohmann::json parse_value(std::string_view word) {
    // Allow neither comments nor a second value: the word is a JSON text or it is a string.
    nlohmann::json j = nlohmann::json::parse(word.begin(), word.end(), nullptr, false);
    if (j.is_discarded())
        return nlohmann::json(std::string(word));
    return j;
}

bool is_keyword(std::string_view word) {
    const auto eq = word.find('=');
    if (eq == std::string_view::npos || eq == 0)
        return false;
    const auto first = static_cast<unsigned char>(word[0]);
    if (std::isalpha(first) == 0 && first != '_')
        return false;
    for (std::size_t i = 1; i < eq; ++i) {
        const auto c = static_cast<unsigned char>(word[i]);
        if (std::isalnum(c) == 0 && c != '_')
            return false;
    }
    return true;
}

call_arguments parse_call_arguments(std::span<const std::string> words) {
    call_arguments out;
    for (const auto& w : words) {
        if (!is_keyword(w)) {
            out.args.push_back(parse_value(w));
            continue;
        }
        const auto eq = w.find('=');
        std::string name = w.substr(0, eq);
        if (out.kwargs.contains(name))
            throw usage_error("keyword argument '" + name + "' given twice");
        out.kwargs[name] = parse_value(std::string_view(w).substr(eq + 1));
    }
    return out;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
    // One grammar for durations everywhere: the library's (as in URLs: 500ms, 2s, 1m, 250us).
    try {
        return redisrpc::parse_duration(text);
    } catch (const redisrpc::usage_error&) {
        return std::nullopt;
    }
}

std::string format_duration(std::chrono::milliseconds d) {
    const auto ms = d.count();
    if (ms < 1000 || ms % 100 != 0)
        return std::to_string(ms) + "ms";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", static_cast<double>(ms) / 1000.0);
    return std::string(buf) + "s";
}

} // namespace redisrpc::cli
