#pragma once
// Seeded random networks of any state dimension d for the power-scaling study (`bmru scaling`):
// dense kernels, every |w| from U(0.1, 1) with a random sign, thresholds placed on each cell's
// candidate distribution over the study's inputs so that cells switch (place_thresholds).
//   fixed   |w| from U(0.1, 1) whatever d: a node's current grows with its fan-in (about sqrt(d)
//           with random signs), until the realisable range ends;
//   scaled  the kernels whose fan-in is d (candidate, post-projection, logits) have |w| shrunk as
//           1 / sqrt(d), the usual initialisation, matching `fixed` at d = 4; node currents stay
//           about constant. The pre-projection's fan-in is n_in, the same at every d.
#include <cstdint>

#include "core/network.hpp"
#include "core/stimuli.hpp"

namespace bmru::models {

enum class ScalingFamily { fixed, scaled };

struct ScalingShape {
  core::Index d = 4, layers = 2, n_in = 13, n_out = 2;
  double unit_current_a = 1e-9;
};

// The network of `shape` and `family` for `seed`; thresholds placed on `inputs` (n_in wide).
core::Network scaling_network(const ScalingShape& shape, ScalingFamily family, std::uint64_t seed,
                              core::StimulusSource& inputs);

}  // namespace bmru::models
