// The call sequence of the original examples: clr, add 5, sub 3, mul 4, div 2 -> val() == 4.
#include "options.hpp"

#include <redisrpc/redisrpc.hpp>

#include <iostream>

int main(int argc, char** argv) {
    CLI::App app{"redisrpc calculator client"};
    example_options o;
    double timeout_s = 5;
    add_example_options(app, o);
    app.add_option("--timeout", timeout_s, "seconds to wait for each reply")->capture_default_str();
    CLI11_PARSE(app, argc, argv);

    try {
        redisrpc::client calc{o.url, o.queue,
                              {.dialect = o.dialect,
                               .timeout = std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000))}};
        auto step = [&](const char* name, auto... args) {
            const double result = calc.call<double>(name, args...);
            std::cout << name;
            ((std::cout << ' ' << args), ...);
            std::cout << " -> " << result << std::endl;
            return result;
        };
        step("clr");
        step("add", 5);
        step("sub", 3);
        step("mul", 4);
        step("div", 2);
        const double v = step("val");
        if (v != 4) {
            std::cerr << "unexpected result: val() == " << v << ", expected 4\n";
            return 1;
        }
        std::cout << "ok: val() == 4" << std::endl;
    } catch (const redisrpc::error& e) {
        std::cerr << "client: " << e.what() << '\n';
        return 1;
    }
}
