// Readable descriptions of exceptions for error responses: "<demangled type>: <what()>".

#include <redisrpc/dispatcher.hpp>

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <typeinfo>

namespace redisrpc {

namespace {

void erase_all(std::string& s, std::string_view part) {
    for (auto pos = s.find(part); pos != std::string::npos; pos = s.find(part, pos))
        s.erase(pos, part.size());
}

std::string demangle(const char* mangled) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> text(abi::__cxa_demangle(mangled, nullptr, nullptr, &status),
                                                std::free);
    std::string name = status == 0 && text ? std::string(text.get()) : std::string(mangled);
    // libstdc++'s inline ABI namespace is noise to the reader: std::__cxx11::foo → std::foo.
    erase_all(name, "__cxx11::");
    erase_all(name, "[abi:cxx11]");
    // nlohmann's versioned inline namespace: nlohmann::json_abi_v3_11_2::detail::type_error →
    // nlohmann::detail::type_error.
    for (auto pos = name.find("json_abi_v"); pos != std::string::npos; pos = name.find("json_abi_v", pos)) {
        const auto end = name.find("::", pos);
        if (end == std::string::npos)
            break;
        name.erase(pos, end + 2 - pos);
    }
    return name;
}

} // namespace

std::string describe_exception(const std::exception& e) {
    return demangle(typeid(e).name()) + ": " + e.what();
}

std::string describe_current_exception() {
    const std::exception_ptr current = std::current_exception();
    if (!current)
        return "no exception";
    try {
        std::rethrow_exception(current);
    } catch (const std::exception& e) {
        return describe_exception(e);
    } catch (...) {
        const std::type_info* type = abi::__cxa_current_exception_type();
        return "unknown exception of type " + (type != nullptr ? demangle(type->name()) : std::string("?"));
    }
}

} // namespace redisrpc
