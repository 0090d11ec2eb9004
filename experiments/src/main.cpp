#include "experiments/cli.hpp"

int main(int argc, char** argv) {
  return bmru::experiments::run_cli(argc, argv);
}
