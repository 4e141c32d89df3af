// Cold paths of the JSON conversions in include/redisrpc/convert.hpp: error texts.

#include <redisrpc/convert.hpp>

#include <string>

namespace redisrpc {

const char* json_type_name(const nlohmann::json& j) noexcept {
    switch (j.type()) {
    case nlohmann::json::value_t::null:
        return "null";
    case nlohmann::json::value_t::boolean:
        return "boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
        return "number";
    case nlohmann::json::value_t::string:
        return "string";
    case nlohmann::json::value_t::array:
        return "array";
    case nlohmann::json::value_t::object:
        return "object";
    case nlohmann::json::value_t::binary:
        return "binary";
    case nlohmann::json::value_t::discarded:
        return "discarded";
    }
    return "unknown";
}

namespace detail {

namespace {

// Only ever called on numbers, whose text is short and always valid UTF-8.
std::string number_text(const nlohmann::json& j) {
    return j.dump();
}

} // namespace

// printable() is defined in src/protocol/body.cpp (one escaping rule for errors and logs).

void throw_expected(const char* what, const nlohmann::json& j) {
    throw argument_error(std::string("expected ") + what + ", got " + json_type_name(j));
}

void throw_expected_value(const char* what, const nlohmann::json& j) {
    throw argument_error(std::string("expected ") + what + ", got " + number_text(j));
}

void throw_out_of_range(const nlohmann::json& j, bool is_signed, int bits) {
    throw argument_error(number_text(j) + " is out of range for " + (is_signed ? "int" : "uint") +
                         std::to_string(bits));
}

void throw_out_of_range(const nlohmann::json& j, const char* type_name) {
    throw argument_error(number_text(j) + " is out of range for " + type_name);
}

void throw_wrong_size(std::size_t expected, std::size_t got) {
    throw argument_error("expected array of " + std::to_string(expected) +
                         (expected == 1 ? " element, got " : " elements, got ") + std::to_string(got));
}

void throw_in_element(std::size_t index, const argument_error& inner) {
    throw argument_error("element " + std::to_string(index) + ": " + inner.what());
}

void throw_in_key(const std::string& key, const argument_error& inner) {
    throw argument_error("key '" + printable(key) + "': " + inner.what());
}

void throw_from_nlohmann(const nlohmann::json::exception& e) {
    std::string_view text = e.what();
    // "[json.exception.type_error.302] type must be number, but is string"
    if (text.starts_with("[json.exception.")) {
        if (auto close = text.find("] "); close != std::string_view::npos)
            text.remove_prefix(close + 2);
    }
    throw argument_error(std::string(text));
}

} // namespace detail
} // namespace redisrpc
