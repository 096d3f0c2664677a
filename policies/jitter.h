#pragma once
// Delays spread at random, so that many clients that failed, or woke, together do not call the
// service again in step: Exchange's retry backoff and the reconcile service's interval.
#include <chrono>
#include <random>

namespace authgate {

class Jitter {
public:
    // Seeded by the system when `seed` is 0; tests give their own.
    explicit Jitter(unsigned seed = 0) : random_(seed != 0 ? seed : std::random_device{}()) {}

    // `delay` times a factor drawn evenly from [low, high).
    std::chrono::milliseconds spread(std::chrono::milliseconds delay, double low, double high) {
        std::uniform_real_distribution<double> factor(low, high);
        return std::chrono::milliseconds{static_cast<long long>(static_cast<double>(delay.count()) * factor(random_))};
    }

private:
    std::mt19937 random_;
};

}  // namespace authgate
