#include "core/driver.hpp"

#include <algorithm>

#include "core/errors.hpp"

namespace bmru::core {

std::vector<Decision> run_batch(FrameEngine& engine, StimulusSource& source, Index block,
                                const BlockHandler& on_block) {
  const Index S = source.sequences();
  const Index N = source.frames();
  if (block < 1) throw InputError("The frame block size must be at least 1");
  engine.reset(S);
  std::vector<Matrix> inputs;
  std::vector<Frame> frames(static_cast<size_t>(std::min(block, N)));
  std::vector<VoteCounter> votes;
  for (Index k0 = 0; k0 < N; k0 += block) {
    const Index n = std::min(block, N - k0);
    source.read(k0, n, inputs);
    frames.resize(static_cast<size_t>(n));
    for (Index j = 0; j < n; ++j) {
      Frame& f = frames[static_cast<size_t>(j)];
      engine.step(inputs[static_cast<size_t>(j)], f);
      if (votes.empty()) votes.assign(static_cast<size_t>(S), VoteCounter(f.logits.cols()));
      for (Index s = 0; s < S; ++s) votes[static_cast<size_t>(s)].add(f.logits.row(s));
    }
    if (on_block) on_block(k0, inputs, frames);
  }
  std::vector<Decision> out;
  for (const auto& v : votes) out.push_back(v.result());
  return out;
}

}  // namespace bmru::core
