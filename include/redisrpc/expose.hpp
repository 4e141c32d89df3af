#pragma once
/// @file
/// REDISRPC_EXPOSE: bind several member functions of one object at once, each under its own name.
///
/// ```
/// calculator calc;
/// REDISRPC_EXPOSE(srv, calc, clr, add, sub, mul, div, val);
/// // is the same as
/// srv.bind("clr", &calculator::clr, &calc);
/// srv.bind("add", &calculator::add, &calc);  // ... and so on
/// ```
///
/// - `target` is anything with the member-function overload of `bind` (redisrpc::dispatcher,
///   redisrpc::server); it is named once per method, so pass a plain variable.
/// - `object` is an lvalue (not a pointer) that must outlive `target`.
/// - Up to 32 member functions per use; use it more than once for more.
/// - Overloaded member functions cannot be exposed this way (the name alone does not say which
///   one): bind them one by one with an explicit cast,
///   `srv.bind("add", static_cast<double (calculator::*)(double)>(&calculator::add), &calc);`.
/// - Keyword arguments need parameter names, which only the single `bind` call can take.

#include <type_traits>

// clang-format off
/// Binds each listed member function of `object` on `target` under the member's own name.
#define REDISRPC_EXPOSE(target, object, ...)                                                           \
    do {                                                                                               \
        REDISRPC_DETAIL_EXPOSE_CAT(REDISRPC_DETAIL_EXPOSE_, REDISRPC_DETAIL_COUNT(__VA_ARGS__))        \
        (target, object, __VA_ARGS__)                                                                  \
    } while (false)

#define REDISRPC_DETAIL_EXPOSE_CAT(a, b) REDISRPC_DETAIL_EXPOSE_CAT_I(a, b)
#define REDISRPC_DETAIL_EXPOSE_CAT_I(a, b) a##b

// The number of arguments (1 to 32).
#define REDISRPC_DETAIL_COUNT(...) REDISRPC_DETAIL_COUNT_I(__VA_ARGS__, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, )
#define REDISRPC_DETAIL_COUNT_I(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, _17, _18, _19, _20, _21, _22, _23, _24, _25, _26, _27, _28, _29, _30, _31, _32, n, ...) n

#define REDISRPC_DETAIL_EXPOSE_ONE(target, object, method)                                              \
    (target).bind(#method, &std::remove_cvref_t<decltype(object)>::method, &(object));
#define REDISRPC_DETAIL_EXPOSE_1(t, o, m) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m)
#define REDISRPC_DETAIL_EXPOSE_2(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_1(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_3(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_2(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_4(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_3(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_5(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_4(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_6(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_5(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_7(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_6(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_8(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_7(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_9(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_8(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_10(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_9(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_11(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_10(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_12(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_11(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_13(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_12(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_14(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_13(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_15(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_14(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_16(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_15(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_17(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_16(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_18(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_17(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_19(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_18(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_20(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_19(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_21(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_20(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_22(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_21(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_23(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_22(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_24(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_23(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_25(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_24(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_26(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_25(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_27(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_26(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_28(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_27(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_29(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_28(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_30(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_29(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_31(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_30(t, o, __VA_ARGS__)
#define REDISRPC_DETAIL_EXPOSE_32(t, o, m, ...) REDISRPC_DETAIL_EXPOSE_ONE(t, o, m) REDISRPC_DETAIL_EXPOSE_31(t, o, __VA_ARGS__)
// clang-format on
