// A user of the installed (or embedded) redisrpc: binds and invokes a function, checks the error
// types, and makes the client reach for Redis (which links asio, hiredis and OpenSSL in).
#include <redisrpc/redisrpc.hpp>

#include <chrono>
#include <iostream>
#include <string>

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
    if (!ok) {
        std::cerr << "FAILED: " << what << '\n';
        ++failures;
    }
}

} // namespace

int main() {
    using namespace std::chrono_literals;

    redisrpc::dispatcher d;
    d.bind("add", [](int a, int b) { return a + b; }, {"a", "b"});
    check(d.invoke("add", {2, 3}) == 5, "positional invoke");
    check(d.invoke("add", nlohmann::json::array(), {{"a", 40}, {"b", 2}}) == 42, "keyword invoke");
    try {
        (void)d.invoke("add", {"x", 1});
        check(false, "argument_error expected");
    } catch (const redisrpc::argument_error& e) {
        check(std::string(e.what()).find("argument 1") != std::string::npos, "argument_error text");
    }

    try {
        redisrpc::client c{"http://not-redis", "q"};
        check(false, "usage_error expected for a bad URL");
    } catch (const redisrpc::usage_error&) {
    }

    try {
        redisrpc::client_options o;
        o.timeout = 2s;
        redisrpc::client c{"redis://127.0.0.1:1", "q", o};
        (void)c.call("add", 1, 2);
        check(false, "connection_error expected for a closed port");
    } catch (const redisrpc::connection_error& e) {
        check(std::string(e.what()).find("127.0.0.1:1") != std::string::npos,
              "connection_error names the address");
    } catch (const redisrpc::error& e) {
        check(false, std::string("unexpected error: ") + e.what());
    }

    if (failures != 0)
        return 1;
    std::cout << "consumer ok, redisrpc " << REDISRPC_VERSION_STRING << std::endl;
    return 0;
}
