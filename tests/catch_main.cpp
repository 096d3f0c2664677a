// The one Catch main of the test programs: Catch's implementation is the costliest file of the
// tests to compile, so it is compiled once (the OBJECT library authgate_catch_main) and linked by
// each. A program that needs more before its tests run registers a listener (see
// sandbox/test/json_order.cpp).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
