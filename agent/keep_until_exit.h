#pragma once
// A one-shot command's largest data, left for the operating system to take back at exit rather
// than taken apart object by object just before it: a plan of 100,000 mailboxes otherwise spends
// some 5 ms in half a million frees after its output is written. The object stays reachable
// (leak checkers see no leak). Not for a command that runs passes (reconcile --interval): each
// pass would add its own.
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace authgate {

template <class T>
void keep_until_exit(T&& object) {
    static auto* const kept = new std::vector<std::shared_ptr<void>>;  // never destroyed, on purpose
    kept->push_back(std::make_shared<std::decay_t<T>>(std::forward<T>(object)));
}

}  // namespace authgate
