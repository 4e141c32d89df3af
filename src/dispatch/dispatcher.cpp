// The non-template half of the dispatcher: binding checks and matching arguments to parameters.

#include <redisrpc/dispatcher.hpp>

#include <algorithm>
#include <array>
#include <memory>
#include <string>

namespace redisrpc {

namespace {

using json = nlohmann::json;

std::string arguments_text(std::size_t n) {
    return std::to_string(n) + (n == 1 ? " argument" : " arguments");
}

[[noreturn]] void throw_arity(const std::string& name, std::size_t required, std::size_t arity,
                              std::size_t got) {
    std::string expected =
        required == arity ? arguments_text(arity) : std::to_string(required) + " to " + arguments_text(arity);
    throw argument_error(name + ": expected " + expected + ", got " + std::to_string(got));
}

std::size_t find_name(const std::vector<std::string>& names, std::string_view key) noexcept {
    auto it = std::find(names.begin(), names.end(), key);
    return static_cast<std::size_t>(it - names.begin());
}

} // namespace

unknown_method_error::unknown_method_error(std::string_view method)
    : error("unknown method '" + detail::printable(method) + "'"), method_(method) {}

namespace detail {

void throw_argument_error(std::string_view name, std::size_t index, const argument_error& inner) {
    throw argument_error(std::string(name) + ": argument " + std::to_string(index + 1) + ": " + inner.what());
}

} // namespace detail

void dispatcher::throw_null(const std::string& name, const char* what) {
    throw usage_error("bind: " + detail::printable(name) + ": null " + what);
}

void dispatcher::add(std::string name, std::unique_ptr<detail::handler_base> handler,
                     std::span<const detail::param_info> params, std::vector<std::string> param_names) {
    if (name.empty())
        throw usage_error("bind: method name must not be empty");
    if (methods_.contains(name))
        throw usage_error("bind: '" + detail::printable(name) + "' is already bound");
    if (!param_names.empty()) {
        if (param_names.size() != params.size())
            throw usage_error("bind: " + detail::printable(name) + ": " + std::to_string(param_names.size()) +
                              " parameter names for " + std::to_string(params.size()) + " parameters");
        for (std::size_t i = 0; i < param_names.size(); ++i) {
            if (param_names[i].empty())
                throw usage_error("bind: " + detail::printable(name) + ": parameter name " +
                                  std::to_string(i + 1) + " is empty");
            if (find_name(param_names, param_names[i]) != i)
                throw usage_error("bind: " + detail::printable(name) + ": parameter name '" +
                                  detail::printable(param_names[i]) + "' is used twice");
        }
    }
    entry e;
    e.handler = std::move(handler);
    e.params.assign(params.begin(), params.end());
    e.param_names = std::move(param_names);
    e.required = params.size();
    while (e.required > 0 && params[e.required - 1].optional)
        --e.required;
    methods_.emplace(std::move(name), std::move(e));
}

json dispatcher::invoke(std::string_view name, const json& args) const {
    static const json no_kwargs = json::object();
    return invoke(name, args, no_kwargs);
}

json dispatcher::invoke(std::string_view name, const json& args, const json& kwargs) const {
    const auto it = methods_.find(name);
    if (it == methods_.end())
        throw unknown_method_error(name);
    const std::string& method = it->first;
    const entry& e = it->second;
    const std::size_t arity = e.params.size();

    if (!args.is_array())
        throw argument_error(method + ": positional arguments must be an array, got " + json_type_name(args));
    const auto& positional = args.get_ref<const json::array_t&>();
    std::size_t n = positional.size();

    const json::object_t* keywords = nullptr;
    if (kwargs.is_object()) {
        if (!kwargs.empty())
            keywords = &kwargs.get_ref<const json::object_t&>();
    } else if (!kwargs.is_null()) {
        throw argument_error(method + ": keyword arguments must be an object, got " + json_type_name(kwargs));
    }

    // Ruby: `calc.div(1, b: 2)` arrives as args [1, {"b": 2}].
    if (keywords == nullptr && !e.param_names.empty() && n > 0 && positional.back().is_object()) {
        const auto& last = positional.back().get_ref<const json::object_t&>();
        const bool positional_impossible = n > arity || n < e.required || !e.params[n - 1].accepts_object;
        const bool keys_are_names = std::all_of(last.begin(), last.end(), [&](const auto& kv) {
            return find_name(e.param_names, kv.first) < arity;
        });
        if (positional_impossible && keys_are_names) {
            keywords = &last;
            --n;
        }
    }

    if (keywords != nullptr && e.param_names.empty())
        throw argument_error(method + ": keyword arguments need parameter names (bind with names)");
    if (n > arity)
        throw_arity(method, e.required, arity, n);

    std::array<const json*, 8> small{};
    std::unique_ptr<const json*[]> large;
    const json** slots = small.data();
    if (arity > small.size()) {
        large = std::make_unique<const json*[]>(arity);
        slots = large.get();
    }
    for (std::size_t i = 0; i < n; ++i)
        slots[i] = &positional[i];

    if (keywords != nullptr) {
        for (const auto& [key, value] : *keywords) {
            const std::size_t index = find_name(e.param_names, key);
            if (index >= arity)
                throw argument_error(method + ": unknown keyword argument '" + detail::printable(key) + "'");
            if (index < n)
                throw argument_error(method + ": argument " + std::to_string(index + 1) + " ('" + key +
                                     "') given both positionally and by keyword");
            slots[index] = &value;
        }
    }

    for (std::size_t i = 0; i < arity; ++i) {
        if (slots[i] != nullptr || e.params[i].optional)
            continue;
        if (keywords == nullptr)
            throw_arity(method, e.required, arity, n);
        throw argument_error(method + ": missing argument " + std::to_string(i + 1) + " ('" +
                             e.param_names[i] + "')");
    }
    return e.handler->call(method, slots);
}

bool dispatcher::contains(std::string_view name) const noexcept {
    return methods_.find(name) != methods_.end();
}

std::vector<std::string> dispatcher::names() const {
    std::vector<std::string> out;
    out.reserve(methods_.size());
    for (const auto& [name, e] : methods_)
        out.push_back(name);
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace redisrpc
