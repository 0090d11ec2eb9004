#include "experiments/simulate.hpp"

#include <chrono>

#include "core/dataset_file.hpp"
#include "core/driver.hpp"
#include "core/errors.hpp"
#include "core/model_file.hpp"
#include "core/run_file.hpp"
#include "core/stimuli.hpp"
#include "models/demo_network.hpp"
#include "models/reference_engine.hpp"
#include "version.hpp"

#include "run_limits.hpp"

namespace bmru::experiments {

core::Network load_network(const std::optional<std::filesystem::path>& model,
                           const std::optional<double>& unit_current_a) {
  core::Network net = model ? core::read_model(*model) : models::demo_network();
  if (unit_current_a) {
    if (!(*unit_current_a > 0))
      throw InputError("--unit-current must be a positive current in amperes");
    net.unit_current_a = *unit_current_a;
  }
  return net;
}

SimulateResult run_simulate(const SimulateOptions& o, const ProgressFn& progress) {
  if (o.out.empty()) throw InputError("simulate needs an output file (--out FILE.h5)");
  const auto t0 = std::chrono::steady_clock::now();
  SimulateResult r;
  r.network = load_network(o.model, o.unit_current_a);
  const core::Network& net = r.network;
  if (o.inputs) core::check_input_features(net, *o.inputs);
  auto source = o.inputs ? core::file_stimuli(*o.inputs, net.n_in())
                         : core::random_stimuli({o.random_sequences, o.frames, net.n_in(), o.seed});
  const core::TraceShape shape{source->sequences(), source->frames(), net.n_in(), net.d(),
                               net.n_layers(),      net.n_out()};
  r.sequences = shape.sequences;
  r.frames = shape.frames;
  check_output_size(o.out, core::estimate_run_bytes(shape, 1, 0), o.max_output_gb);

  core::RunFile file(o.out, {kToolVersion, o.command_line});
  file.write_config(
      {{"engines", std::string("sw")},
       {"unit_current", net.unit_current_a},
       {"inputs", source->describe()},
       {"input_seed", o.inputs ? std::int64_t{-1} : static_cast<std::int64_t>(o.seed)},
       {"sequences", static_cast<std::int64_t>(shape.sequences)},
       {"frames", static_cast<std::int64_t>(shape.frames)}});
  file.write_model(net);
  core::InputsWriter inputs = file.add_inputs(shape);
  core::TraceWriter sw = file.add_traces("sw", shape, "model units");

  std::vector<std::vector<long long>> high(static_cast<size_t>(net.n_layers()),
                                           std::vector<long long>(static_cast<size_t>(net.d())));
  models::ReferenceEngine engine(net);
  r.decisions = core::run_batch(
      engine, *source, sw.preferred_block(),
      [&](core::Index k0, const std::vector<core::Matrix>& x, const std::vector<core::Frame>& f) {
        inputs.write_block(0, k0, x);
        sw.write_block(0, k0, f);
        for (const auto& frame : f)
          for (size_t l = 0; l < frame.layers.size(); ++l)
            for (core::Index i = 0; i < net.d(); ++i)
              high[l][static_cast<size_t>(i)] += (frame.layers[l].state.col(i).array() > 0).count();
        if (progress) progress(k0 + static_cast<core::Index>(x.size()), shape.frames);
      });
  sw.write_decisions(r.decisions);
  file.commit();

  const double cell_frames = static_cast<double>(shape.sequences * shape.frames);
  for (const auto& layer : high) {
    r.high_share.emplace_back();
    for (long long n : layer) r.high_share.back().push_back(static_cast<double>(n) / cell_frames);
  }
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace bmru::experiments
