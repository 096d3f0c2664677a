#include "agent/cli.h"

int main(int argc, char** argv) { return authgate::run_cli(argc, argv); }
