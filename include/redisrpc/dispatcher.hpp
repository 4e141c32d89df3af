#pragma once
/// @file
/// The binding layer: names mapped to type-erased handlers that take JSON arguments and return a
/// JSON result. No network here; the server feeds it decoded calls, tests feed it plain JSON.
///
/// ```
/// redisrpc::dispatcher d;
/// d.bind("add", [](double a, double b) { return a + b; });
/// d.bind("div", &Calculator::div, &calc, {"a", "b"});   // names enable keyword arguments
/// d.invoke("add", {1, 2}, nlohmann::json::object());    // 3.0
/// ```

#include <redisrpc/convert.hpp>
#include <redisrpc/error.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace redisrpc {

/// No method is bound under the requested name (names match byte for byte: no case folding, no
/// prefix matching; a name with an embedded NUL never matches).
class unknown_method_error final : public error {
public:
    /// @param method the name that was asked for (kept verbatim; the message escapes it).
    explicit unknown_method_error(std::string_view method);
    /// The name exactly as requested.
    [[nodiscard]] const std::string& method() const noexcept { return method_; }

private:
    std::string method_;
};

/// "<demangled dynamic type>: <what()>", e.g. `std::domain_error: division by zero`.
/// The server uses it for the text of exception responses.
[[nodiscard]] std::string describe_exception(const std::exception& e);

/// Describes the exception being handled (call it inside a `catch`): as describe_exception() for
/// std::exception, else `unknown exception of type <demangled type>`.
[[nodiscard]] std::string describe_current_exception();

namespace detail {

/// What the dispatcher needs to know about one parameter to match arguments to it.
struct param_info {
    bool optional;       ///< std::optional: may be omitted (becomes std::nullopt)
    bool accepts_object; ///< a JSON object might convert to it (see Ruby trailing keyword hash)
};

/// Reports a failed conversion as "<name>: argument <index + 1>: <inner>".
[[noreturn]] void throw_argument_error(std::string_view name, std::size_t index, const argument_error& inner);

template <class P>
std::remove_cvref_t<P> convert_arg(std::string_view name, std::size_t index, const nlohmann::json* slot) {
    using D = std::remove_cvref_t<P>;
    if constexpr (is_optional_v<D>) {
        if (slot == nullptr)
            return D{};
    }
    try {
        return from_json_checked<D>(*slot);
    } catch (const argument_error& e) {
        throw_argument_error(name, index, e);
    }
}

/// Hands a converted argument to a parameter of declared type P: lvalue for reference
/// parameters, rvalue (moved) for by-value and rvalue-reference parameters.
template <class P, class D>
constexpr decltype(auto) pass_arg(D& value) noexcept {
    if constexpr (std::is_lvalue_reference_v<P>)
        return static_cast<D&>(value);
    else
        return static_cast<D&&>(value);
}

/// Converts the arguments of a call with signature R(P...), calls, converts the result.
template <class R, class... P>
struct invoker {
    static constexpr std::size_t arity = sizeof...(P);
    static constexpr std::array<param_info, sizeof...(P)> params{
        param_info{is_optional_v<std::remove_cvref_t<P>>, may_accept_object<P>()}...};

    template <class Call>
    static nlohmann::json run(Call&& call, std::string_view name, const nlohmann::json* const* args) {
        return run_impl(std::forward<Call>(call), name, args, std::index_sequence_for<P...>{});
    }

private:
    template <class Call, std::size_t... I>
    static nlohmann::json run_impl(Call&& call, std::string_view name, const nlohmann::json* const* args,
                                   std::index_sequence<I...>) {
        (void)name;
        (void)args;
        // Braced initialisation converts left to right, so the first bad argument is reported.
        std::tuple<std::remove_cvref_t<P>...> values{convert_arg<P>(name, I, args[I])...};
        if constexpr (std::is_void_v<R>) {
            std::forward<Call>(call)(pass_arg<P>(std::get<I>(values))...);
            return nullptr;
        } else {
            return to_json_value(std::forward<Call>(call)(pass_arg<P>(std::get<I>(values))...));
        }
    }
};

/// Function types with every qualifier combination a member function can have.
template <class Sig>
struct signature_traits {
    static constexpr bool supported = false;
};

// clang-format off
#define REDISRPC_DETAIL_SIGNATURE(QUALIFIERS, IS_CONST, IS_RVALUE)                                           \
    template <class R, class... P>                                                                           \
    struct signature_traits<R(P...) QUALIFIERS> : invoker<R, P...> {                                         \
        static constexpr bool supported = true;                                                              \
        static constexpr bool is_const = IS_CONST;                                                           \
        static constexpr bool is_rvalue = IS_RVALUE;                                                         \
    };
REDISRPC_DETAIL_SIGNATURE(, false, false)
REDISRPC_DETAIL_SIGNATURE(const, true, false)
REDISRPC_DETAIL_SIGNATURE(&, false, false)
REDISRPC_DETAIL_SIGNATURE(const &, true, false)
REDISRPC_DETAIL_SIGNATURE(&&, false, true)
REDISRPC_DETAIL_SIGNATURE(const &&, true, true)
REDISRPC_DETAIL_SIGNATURE(noexcept, false, false)
REDISRPC_DETAIL_SIGNATURE(const noexcept, true, false)
REDISRPC_DETAIL_SIGNATURE(& noexcept, false, false)
REDISRPC_DETAIL_SIGNATURE(const & noexcept, true, false)
REDISRPC_DETAIL_SIGNATURE(&& noexcept, false, true)
REDISRPC_DETAIL_SIGNATURE(const && noexcept, true, true)
#undef REDISRPC_DETAIL_SIGNATURE

/// Signature of something callable: function pointers and class types with one non-template
/// operator() (lambdas, std::function, functors).
template <class F>
struct callable_traits {
    static constexpr bool supported = false;
};
template <class F>
    requires std::is_function_v<F>
struct callable_traits<F*> : signature_traits<F> {};
template <class M, class C>
struct callable_traits<M C::*> : signature_traits<M> {};
template <class F>
    requires std::is_class_v<F> && requires { &F::operator(); }
struct callable_traits<F> : callable_traits<decltype(&F::operator())> {};
// clang-format on

/// A bound method, callable with one converted argument slot per parameter (null = omitted).
class handler_base {
public:
    handler_base() = default;
    handler_base(const handler_base&) = delete;
    handler_base& operator=(const handler_base&) = delete;
    virtual ~handler_base() = default;
    virtual nlohmann::json call(std::string_view name, const nlohmann::json* const* args) const = 0;
};

template <class F>
class function_handler final : public handler_base {
public:
    template <class G>
    explicit function_handler(G&& f) : f_(std::forward<G>(f)) {}
    nlohmann::json call(std::string_view name, const nlohmann::json* const* args) const override {
        return callable_traits<F>::run(f_, name, args);
    }

private:
    mutable F f_; // handlers may be stateful (mutable lambdas); invoke() stays const
};

template <class M, class C, class Ptr>
class member_handler final : public handler_base {
public:
    member_handler(M C::*method, Ptr object) : method_(method), object_(std::move(object)) {}
    nlohmann::json call(std::string_view name, const nlohmann::json* const* args) const override {
        return signature_traits<M>::run(
            [this](auto&&... a) -> decltype(auto) {
                return ((*object_).*method_)(std::forward<decltype(a)>(a)...);
            },
            name, args);
    }

private:
    M C::*method_;
    Ptr object_;
};

template <class T>
constexpr bool is_null_callable(const T& f) noexcept {
    if constexpr (std::is_pointer_v<T> || std::is_member_pointer_v<T>)
        return f == nullptr;
    else if constexpr (is_specialization_v<T, std::function>)
        return !f;
    else
        return false;
}

} // namespace detail

/// Maps method names to handlers and calls them with JSON arguments.
///
/// Binding: free functions, function pointers, lambdas (capturing or not, also `mutable`),
/// std::function and functors with one non-template operator(); member functions (plain, const,
/// noexcept, &-qualified) together with the object, by pointer or std::shared_ptr.
/// Parameters may be any type from_json_checked() converts, taken by value, `const&`, `&` or `&&`;
/// trailing `std::optional` parameters may be omitted by the caller. Results go through
/// to_json_value(); `void` becomes JSON null.
///
/// Thread-safety: bind everything before serving. invoke() is const and may be called from
/// several threads at once; whether the bound functions themselves tolerate that is up to them.
class dispatcher {
public:
    dispatcher() = default;
    /// Takes over the bound methods; the moved-from dispatcher may only be destroyed or assigned to.
    dispatcher(dispatcher&&) noexcept = default;
    /// Replaces the bound methods with those of the source, which may then only be destroyed or
    /// assigned to.
    dispatcher& operator=(dispatcher&&) noexcept = default;
    dispatcher(const dispatcher&) = delete;
    dispatcher& operator=(const dispatcher&) = delete;
    ~dispatcher() = default;

    /// Binds a callable under `name`.
    /// @param name        the method name callers use (matched exactly).
    /// @param f           the function, lambda, std::function or functor to call; stored by value.
    /// @param param_names one name per parameter, enabling keyword arguments; empty for none.
    /// @throws usage_error if `name` is empty or already bound, `f` is a null function pointer or
    ///         an empty std::function, or `param_names` has the wrong size or repeats a name.
    template <class F>
    void bind(std::string name, F&& f, std::vector<std::string> param_names = {}) {
        using D = std::decay_t<F>;
        static_assert(!std::is_member_pointer_v<D>,
                      "bind: a member function needs its object: bind(name, &C::f, &object)");
        static_assert(std::is_member_pointer_v<D> || detail::callable_traits<D>::supported,
                      "bind: cannot deduce the signature; generic lambdas, overloaded call operators, "
                      "C variadic and volatile-qualified functions are not supported (wrap the call in "
                      "a lambda with concrete parameter types)");
        if constexpr (!std::is_member_pointer_v<D> && detail::callable_traits<D>::supported) {
            if (detail::is_null_callable(f))
                throw_null(name, "function");
            add(std::move(name), std::make_unique<detail::function_handler<D>>(std::forward<F>(f)),
                detail::callable_traits<D>::params, std::move(param_names));
        }
    }

    /// Binds the member function `method` of `*object`; the object must outlive the dispatcher.
    /// `object` may point to a class derived from C, and to a const object for const methods.
    /// Overloaded member functions need a cast:
    /// `static_cast<double (calc::*)(double)>(&calc::add)`.
    /// @throws usage_error as the other overload, and for a null `method` or `object`.
    template <class M, class C, class T>
    void bind(std::string name, M C::*method, T* object, std::vector<std::string> param_names = {}) {
        bind_member<M, C, T>(std::move(name), method, object, std::move(param_names));
    }

    /// Binds the member function `method` of a shared object, which the dispatcher keeps alive.
    template <class M, class C, class T>
    void bind(std::string name, M C::*method, std::shared_ptr<T> object,
              std::vector<std::string> param_names = {}) {
        bind_member<M, C, T>(std::move(name), method, std::move(object), std::move(param_names));
    }

    /// Calls the method bound as `name`.
    /// @param name   the method name (matched exactly).
    /// @param args   positional arguments: a JSON array.
    /// @param kwargs keyword arguments: a JSON object (null is taken as empty).
    /// @returns the handler's result as JSON (null for void).
    /// @throws unknown_method_error when nothing is bound under exactly `name`;
    ///         argument_error for arity and conversion problems, e.g.
    ///         `add: argument 1: expected number, got string`, `add: expected 2 arguments, got 3`;
    ///         whatever the handler throws, unchanged.
    ///
    /// Ruby clients send keywords as a trailing hash inside `args`. When the method has parameter
    /// names, no separate kwargs were given, and the last positional argument is an object whose
    /// keys are all parameter names, it is taken as the keyword arguments if it could not be
    /// meant positionally (too many arguments, required ones missing, or the parameter at its
    /// position cannot be converted from an object).
    [[nodiscard]] nlohmann::json invoke(std::string_view name, const nlohmann::json& args,
                                        const nlohmann::json& kwargs) const;
    /// invoke() without keyword arguments.
    [[nodiscard]] nlohmann::json invoke(std::string_view name, const nlohmann::json& args) const;

    /// True when a method is bound under exactly `name`.
    [[nodiscard]] bool contains(std::string_view name) const noexcept;
    /// The bound names, sorted.
    [[nodiscard]] std::vector<std::string> names() const;
    /// The number of bound methods.
    [[nodiscard]] std::size_t size() const noexcept { return methods_.size(); }

private:
    struct entry {
        std::unique_ptr<detail::handler_base> handler;
        std::vector<detail::param_info> params;
        std::vector<std::string> param_names; // empty, or one per parameter
        std::size_t required = 0;             // parameters before the trailing optional ones
    };
    struct string_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };

    template <class M, class C, class T, class Ptr>
    void bind_member(std::string name, M C::*method, Ptr object, std::vector<std::string> param_names) {
        using traits = detail::signature_traits<M>;
        static_assert(std::is_function_v<M>, "bind: expected a member function, got a data member");
        static_assert(!std::is_function_v<M> || traits::supported,
                      "bind: C variadic and volatile-qualified member functions are not supported");
        static_assert(std::is_base_of_v<C, std::remove_const_t<T>>,
                      "bind: the object's class does not have this member function");
        if constexpr (traits::supported && std::is_base_of_v<C, std::remove_const_t<T>>) {
            static_assert(!traits::is_rvalue,
                          "bind: &&-qualified member functions cannot be called on a bound object");
            static_assert(traits::is_const || !std::is_const_v<T>,
                          "bind: a non-const member function needs a non-const object");
            if constexpr (!traits::is_rvalue && (traits::is_const || !std::is_const_v<T>)) {
                if (method == nullptr)
                    throw_null(name, "member function");
                if (object == nullptr)
                    throw_null(name, "object");
                add(std::move(name),
                    std::make_unique<detail::member_handler<M, C, Ptr>>(method, std::move(object)),
                    traits::params, std::move(param_names));
            }
        }
    }

    [[noreturn]] static void throw_null(const std::string& name, const char* what);
    void add(std::string name, std::unique_ptr<detail::handler_base> handler,
             std::span<const detail::param_info> params, std::vector<std::string> param_names);

    std::unordered_map<std::string, entry, string_hash, std::equal_to<>> methods_;
};

} // namespace redisrpc
