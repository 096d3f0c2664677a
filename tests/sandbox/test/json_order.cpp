#include <cpprest/json.h>

// Catch declares its listener interface only with this defined.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

namespace {

// As in authgate-sandbox: objects keep the order they were read in, from the first test on.
struct KeepJsonObjectOrder : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;
    void testRunStarting(const Catch::TestRunInfo& info) override {
        web::json::keep_object_element_order(true);
        TestEventListenerBase::testRunStarting(info);
    }
};

}  // namespace

CATCH_REGISTER_LISTENER(KeepJsonObjectOrder)
