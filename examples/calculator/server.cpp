// Serves a Calculator object on a Redis list until Ctrl-C / SIGTERM.
#include "calculator.hpp"
#include "options.hpp"

#include <redisrpc/redisrpc.hpp>

#include <iostream>

int main(int argc, char** argv) {
    CLI::App app{"redisrpc calculator server"};
    example_options o;
    add_example_options(app, o);
    CLI11_PARSE(app, argc, argv);

    try {
        Calculator calc;
        redisrpc::server srv{o.url, o.queue, {.dialect = o.dialect}};
        REDISRPC_EXPOSE(srv, calc, clr, add, sub, mul, div, val);
        std::cout << "calculator server on '" << o.queue << "' (Ctrl-C to stop)" << std::endl;
        srv.run();
    } catch (const redisrpc::error& e) {
        std::cerr << "server: " << e.what() << '\n';
        return 1;
    }
}
