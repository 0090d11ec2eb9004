#pragma once
// The behavioural-only driver: steps an engine over every sequence of a stimulus source in batch,
// frame block by frame block, handing each block to the caller (a writer, a comparator) as it goes.
// Memory is bounded by one block, whatever the number of frames.
#include <functional>
#include <vector>

#include "core/frame.hpp"
#include "core/stimuli.hpp"
#include "core/vote.hpp"

namespace bmru::core {

// Called once per block: frames [k0, k0 + inputs.size()) of every sequence.
using BlockHandler = std::function<void(Index k0, const std::vector<Matrix>& inputs,
                                        const std::vector<Frame>& frames)>;

// Runs `engine` from its initial states over all sequences of `source`; returns each sequence's
// majority-vote decision (DESIGN.md section 1).
std::vector<Decision> run_batch(FrameEngine& engine, StimulusSource& source, Index block,
                                const BlockHandler& on_block);

}  // namespace bmru::core
