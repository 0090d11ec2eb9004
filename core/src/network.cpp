#include "core/network.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>

#include "core/errors.hpp"
#include "core/units.hpp"

namespace bmru::core {
namespace {

template <typename A, typename B>
bool same(const A& a, const B& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() && (a.size() == 0 || a == b);
}

class Checker {
 public:
  void shape(const std::string& field, Index rows, Index cols, Index want_rows, Index want_cols) {
    if (rows != want_rows || cols != want_cols) {
      std::ostringstream s;
      s << field << " has shape [" << rows << "," << cols << "], expected [" << want_rows << ","
        << want_cols << "]";
      out.push_back(s.str());
    }
  }
  void length(const std::string& field, Index n, Index want) {
    if (n != want) {
      std::ostringstream s;
      s << field << " has length " << n << ", expected " << want;
      out.push_back(s.str());
    }
  }
  void finite(const std::string& field, const Matrix& m) {
    for (Index i = 0; i < m.rows(); ++i)
      for (Index j = 0; j < m.cols(); ++j)
        if (!std::isfinite(m(i, j))) {
          std::ostringstream s;
          s << field << "[" << i << "," << j << "] is "
            << (std::isnan(m(i, j)) ? "NaN" : "infinite");
          out.push_back(s.str());
        }
  }
  void finite(const std::string& field, const Vector& v) {
    for (Index i = 0; i < v.size(); ++i)
      if (!std::isfinite(v(i))) {
        std::ostringstream s;
        s << field << "[" << i << "] is " << (std::isnan(v(i)) ? "NaN" : "infinite");
        out.push_back(s.str());
      }
  }
  void projection(const std::string& name, const std::string& kernel, const std::string& bias,
                  const Projection& p, Index in, Index outs) {
    shape(name + "." + kernel, p.kernel.rows(), p.kernel.cols(), in, outs);
    length(name + "." + bias, p.bias.size(), outs);
    finite(name + "." + kernel, p.kernel);
    finite(name + "." + bias, p.bias);
  }

  std::vector<std::string> out;
};

}  // namespace

bool Projection::operator==(const Projection& o) const {
  return same(kernel, o.kernel) && same(bias, o.bias);
}

bool Layer::operator==(const Layer& o) const {
  return same(alphas, o.alphas) && same(beta1, o.beta1) && same(delta, o.delta) &&
         same(initial_state, o.initial_state) && candidate == o.candidate && post == o.post;
}

bool Network::operator==(const Network& o) const {
  return pre_proj == o.pre_proj && layers == o.layers && fc == o.fc &&
         unit_current_a == o.unit_current_a && features == o.features;
}

CellConstants cell_constants(const Layer& layer) {
  CellConstants c;
  c.beta_lo = layer.beta1.cwiseAbs();
  c.beta_hi = c.beta_lo + layer.delta.cwiseAbs();
  c.alpha = layer.alphas.cwiseAbs();
  c.h_init = (layer.initial_state.cwiseAbs().array() > 0.5).select(c.alpha, 0.0);
  return c;
}

std::vector<std::string> problems(const Network& net) {
  Checker c;
  const Index n_in = net.pre_proj.kernel.rows();
  const Index d = net.pre_proj.kernel.cols();
  const Index n_out = net.fc.kernel.cols();
  if (n_in == 0) c.out.push_back("pre_proj.kernel has no inputs (n_in = 0)");
  if (d == 0) c.out.push_back("pre_proj.kernel has no units (d = 0)");
  if (n_out == 0) c.out.push_back("fc.kernel has no outputs (n_out = 0)");
  if (net.layers.empty()) c.out.push_back("the network has no recurrent layer (n_layers = 0)");
  if (!(std::isfinite(net.unit_current_a) && net.unit_current_a > 0))
    c.out.push_back("unit_current must be a positive number of amperes");
  c.projection("pre_proj", "kernel", "bias", net.pre_proj, n_in, d);
  for (std::size_t l = 0; l < net.layers.size(); ++l) {
    const Layer& layer = net.layers[l];
    const std::string name = "layer" + std::to_string(l + 1);
    for (const auto& [field, v] : {std::pair<const char*, const Vector*>{"alphas", &layer.alphas},
                                   {"beta1", &layer.beta1},
                                   {"delta", &layer.delta},
                                   {"initial_state", &layer.initial_state}}) {
      c.length(name + "." + field, v->size(), d);
      c.finite(name + "." + field, *v);
    }
    for (Index i = 0; i < layer.alphas.size(); ++i)
      if (layer.alphas(i) == 0)
        c.out.push_back(name + ".alphas[" + std::to_string(i) +
                        "] is 0: the cell can never output anything (a dead cell)");
    c.projection(name, "cand_kernel", "cand_bias", layer.candidate, d, d);
    c.projection(name, "post_kernel", "post_bias", layer.post, d, d);
  }
  c.shape("fc.kernel", net.fc.kernel.rows(), net.fc.kernel.cols(), d, n_out);
  c.length("fc.bias", net.fc.bias.size(), n_out);
  c.finite("fc.kernel", net.fc.kernel);
  c.finite("fc.bias", net.fc.bias);
  return c.out;
}

void validate(const Network& net, const std::string& source) {
  const auto found = problems(net);
  if (found.empty()) return;
  std::string msg = source + " is not a usable BMRU network (" + std::to_string(found.size()) +
                    (found.size() == 1 ? " problem" : " problems") + "):";
  throw InputError(msg + problem_list(found));
}

}  // namespace bmru::core

namespace bmru::core {

std::string attr_text(const AttrValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  return format_number(std::get<double>(v));
}

namespace {
const char* const kFeatureSettingNames[] = {
    "feature_kind", "feature_count", "sample_rate", "duration_s", "n_fft",
    "hop",          "n_mels",        "top_db",      "normalize",  "feature_version"};

// Equal as settings: numbers compare by value whether stored as integer or double.
bool same_setting(const AttrValue& a, const AttrValue& b) {
  const auto num = [](const AttrValue& v) -> std::optional<double> {
    if (const auto* d = std::get_if<double>(&v)) return *d;
    if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
    return std::nullopt;
  };
  if (num(a) && num(b)) return *num(a) == *num(b);
  return a == b;
}
}  // namespace

std::vector<Attr> feature_settings(const std::vector<Attr>& input_attrs) {
  std::vector<Attr> out;
  for (const char* name : kFeatureSettingNames)
    for (const Attr& a : input_attrs)
      if (a.name == name) out.push_back(a);
  // By name, the order both model formats read them back in.
  std::sort(out.begin(), out.end(), [](const Attr& a, const Attr& b) { return a.name < b.name; });
  return out;
}

std::vector<std::string> feature_mismatches(const Network& net,
                                            const std::vector<Attr>& input_attrs) {
  std::vector<std::string> out;
  for (const Attr& want : net.features) {
    const auto it = std::find_if(input_attrs.begin(), input_attrs.end(),
                                 [&](const Attr& a) { return a.name == want.name; });
    if (it == input_attrs.end())
      out.push_back(want.name + ": the model was trained on " + attr_text(want.value) +
                    ", the inputs do not say");
    else if (!same_setting(it->value, want.value))
      out.push_back(want.name + ": the model was trained on " + attr_text(want.value) +
                    ", the inputs have " + attr_text(it->value));
  }
  return out;
}

}  // namespace bmru::core
