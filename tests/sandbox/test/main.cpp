#define CATCH_CONFIG_RUNNER
#include <cpprest/json.h>

#include <catch2/catch.hpp>

int main(int argc, char* argv[]) {
    // As in authgate-sandbox: objects keep the order they were read in.
    web::json::keep_object_element_order(true);
    return Catch::Session().run(argc, argv);
}
