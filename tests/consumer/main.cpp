// Runs the demo network's first frames through the reference engine, through the installed
// headers and libraries only, and prints its decision: proof that the package links.
#include <cstdio>

#include "core/stimuli.hpp"
#include "models/demo_network.hpp"
#include "models/reference_engine.hpp"

int main() {
  const bmru::core::Network net = bmru::models::demo_network();
  auto inputs = bmru::core::random_stimuli({1, 20, net.n_in(), 1});
  const auto frames = bmru::models::run_sequence(net, inputs->read_sequence(0, 0, 20));
  std::printf("consumer: d=%lld frames=%zu logit0=%.6g\n", static_cast<long long>(net.d()),
              frames.size(), frames.back().logits(0, 0));
  return 0;
}
