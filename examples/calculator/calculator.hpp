#pragma once
// The mutable calculator of the original redisrpc examples: one accumulator, six methods.

#include <stdexcept>

class Calculator {
public:
    double clr() { return value_ = 0; }
    double add(double n) { return value_ += n; }
    double sub(double n) { return value_ -= n; }
    double mul(double n) { return value_ *= n; }
    double div(double n) {
        if (n == 0) throw std::domain_error("division by zero");
        return value_ /= n;
    }
    double val() const noexcept { return value_; }

private:
    double value_ = 0;
};
