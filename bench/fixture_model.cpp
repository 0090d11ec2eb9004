// Writes the trained-looking test fixture (tests/trained_like.hpp, seed 7, thresholds placed on the
// inputs of `fidelity --random-sequences 2 --frames 51`) as a model file, so that bench/power can
// run it through any build of bmru.
#include <cstdio>
#include <exception>

#include "core/model_file.hpp"
#include "core/stimuli.hpp"
#include "trained_like.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUT.h5\n", argv[0]);
    return 1;
  }
  try {
    using namespace bmru;
    const auto x = core::read_all(*core::random_stimuli({2, 51, 13, 1}));
    core::write_model(test::trained_like_network(7, x), argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
