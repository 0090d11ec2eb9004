#pragma once
// The first-quadrant BMRU network of DESIGN.md section 1, as value types.
// Kernels are stored [in, out] and applied to row vectors: y = x K + b.
#include <Eigen/Core>
#include <string>
#include <type_traits>
#include <vector>

#include "core/attr.hpp"

namespace bmru::core {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;
using Index = Eigen::Index;

// y = x kernel + bias; kernel [in, out], bias [out].
struct Projection {
  Matrix kernel;
  Vector bias;

  Index in() const { return kernel.rows(); }
  Index out() const { return kernel.cols(); }
  bool operator==(const Projection& o) const;
};

// One recurrent layer: ReLU, candidate projection, d BMRU cells, post-projection plus skip.
// The cell constants are stored as trained (any sign); see CellConstants for what the forward
// pass uses.
struct Layer {
  Vector alphas;
  Vector beta1;
  Vector delta;
  Vector initial_state;
  Projection candidate;  // cand_kernel [d, d], cand_bias [d]
  Projection post;       // post_kernel [d, d], post_bias [d]

  Index d() const { return alphas.size(); }
  bool operator==(const Layer& o) const;
};

struct Network {
  Projection pre_proj;  // [n_in, d]
  std::vector<Layer> layers;
  Projection fc;                 // [d, n_out]
  double unit_current_a = 1e-9;  // amperes per model unit
  // The feature settings of the dataset the network was trained on (the attributes of its
  // /inputs: feature_kind, feature_count, sample_rate, ...); empty when unknown. Inputs made with
  // other settings are refused (feature_mismatches). Sorted by name.
  std::vector<Attr> features;

  Index n_in() const { return pre_proj.in(); }
  Index d() const { return pre_proj.out(); }
  Index n_out() const { return fc.out(); }
  Index n_layers() const { return static_cast<Index>(layers.size()); }
  bool operator==(const Network& o) const;
};

// What the forward pass uses (DESIGN.md section 1): beta_lo = |beta1|, beta_hi = |beta1| + |delta|,
// alpha = |alphas|, h_init = alpha where |initial_state| > 0.5, else 0.
struct CellConstants {
  Vector beta_lo;
  Vector beta_hi;
  Vector alpha;
  Vector h_init;
};
CellConstants cell_constants(const Layer& layer);

// What a parameter array is: a weight matrix, a bias vector, or a vector of cell constants
// (alphas, beta1, delta, initial_state: used together, see CellConstants).
enum class ParameterKind { weights, bias, cell };

// Visits every parameter array of `net` (a Network or a const Network) in the model file's order,
// as f(group, field, array, kind): group "pre_proj", "layer<l>" (from 1) or "fc"; field as the
// model file names it ("kernel", "cand_bias", "alphas", ...); array a Matrix or a Vector. The
// path of a parameter is group + "." + field; its elements add "[i]" or "[i,j]".
template <class Net, class F>
void for_each_parameter(Net& net, F&& f) {
  f(std::string("pre_proj"), "kernel", net.pre_proj.kernel, ParameterKind::weights);
  f(std::string("pre_proj"), "bias", net.pre_proj.bias, ParameterKind::bias);
  for (size_t l = 0; l < net.layers.size(); ++l) {
    auto& L = net.layers[l];
    const std::string g = "layer" + std::to_string(l + 1);
    f(g, "alphas", L.alphas, ParameterKind::cell);
    f(g, "beta1", L.beta1, ParameterKind::cell);
    f(g, "delta", L.delta, ParameterKind::cell);
    f(g, "initial_state", L.initial_state, ParameterKind::cell);
    f(g, "cand_kernel", L.candidate.kernel, ParameterKind::weights);
    f(g, "cand_bias", L.candidate.bias, ParameterKind::bias);
    f(g, "post_kernel", L.post.kernel, ParameterKind::weights);
    f(g, "post_bias", L.post.bias, ParameterKind::bias);
  }
  f(std::string("fc"), "kernel", net.fc.kernel, ParameterKind::weights);
  f(std::string("fc"), "bias", net.fc.bias, ParameterKind::bias);
}

// The same walk by what the arrays are: on_weights(path, matrix) and on_bias(path, vector) for each
// projection's, on_cells(group, layer) once per layer where its cell constants are.
template <class Net, class W, class B, class C>
void for_each_parameter_kind(Net& net, W&& on_weights, B&& on_bias, C&& on_cells) {
  for_each_parameter(
      net, [&](const std::string& group, const char* field, auto& array, ParameterKind kind) {
        const std::string path = group + "." + field;
        if (kind == ParameterKind::weights) {
          if constexpr (std::is_same_v<std::decay_t<decltype(array)>, Matrix>)
            on_weights(path, array);
        } else if (kind == ParameterKind::bias) {
          if constexpr (std::is_same_v<std::decay_t<decltype(array)>, Vector>) on_bias(path, array);
        } else if (std::string(field) == "alphas") {
          on_cells(group, net.layers[std::stoul(group.substr(5)) - 1]);
        }
      });
}

// Every problem of the network at once, each naming its field and index
// ("layer2.cand_kernel[1,3] is NaN"). Empty when the network is usable.
std::vector<std::string> problems(const Network& net);

// The /inputs attributes that are feature settings (kept in a model file, compared with inputs);
// others (espeak_ng_version, ...) describe the source, not the features.
std::vector<Attr> feature_settings(const std::vector<Attr>& input_attrs);

// Every setting in net.features that `input_attrs` (the attributes of an /inputs dataset) gives
// otherwise or lacks, as "sample_rate: the model was trained on 16000, the inputs have 8000".
// Empty when the model records no settings.
std::vector<std::string> feature_mismatches(const Network& net,
                                            const std::vector<Attr>& input_attrs);

// Throws InputError listing every problem (prefixed with `source`, e.g. a file name) if any.
void validate(const Network& net, const std::string& source = "network");

}  // namespace bmru::core
