#include "bmru_torch.hpp"

#include <cmath>
#include <numbers>
#include <type_traits>

namespace bmru::train {
namespace {

struct HeavisideFn : torch::autograd::Function<HeavisideFn> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               double sharpness) {
    ctx->save_for_backward({x});
    ctx->saved_data["a"] = sharpness;
    return (x > 0).to(x.scalar_type());
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                               torch::autograd::tensor_list grad) {
    const torch::Tensor x = ctx->get_saved_variables()[0];
    const double a = ctx->saved_data["a"].toDouble();
    const torch::Tensor pax = x * (std::numbers::pi * a);
    return {grad[0] * a / (1 + pax * pax), torch::Tensor()};
  }
};

torch::Tensor tensor_of(const core::Vector& v) {
  return torch::from_blob(const_cast<double*>(v.data()), {v.size()}, torch::kDouble).clone();
}

// x K + b of a signed pair (pos, neg) [B, N, in] into a pair, as the circuit sums it: a weight
// w copies |w| of pos into the destination's pos line (w > 0) or neg line (w < 0), and neg the
// other way; a bias goes to the line of its sign.
std::pair<torch::Tensor, torch::Tensor> pair_sum(const torch::Tensor& pos, const torch::Tensor& neg,
                                                 const torch::Tensor& k, const torch::Tensor& b) {
  const torch::Tensor kp = torch::relu(k), kn = torch::relu(-k);
  return {torch::matmul(pos, kp) + torch::matmul(neg, kn) + torch::relu(b),
          torch::matmul(pos, kn) + torch::matmul(neg, kp) + torch::relu(-b)};
}

}  // namespace

torch::Tensor to_tensor(const core::Matrix& m) {
  // Eigen is column-major: copy row by row into a row-major tensor.
  torch::Tensor t = torch::empty({m.rows(), m.cols()}, torch::kDouble);
  auto a = t.accessor<double, 2>();
  for (core::Index i = 0; i < m.rows(); ++i)
    for (core::Index j = 0; j < m.cols(); ++j) a[i][j] = m(i, j);
  return t;
}

torch::Tensor heaviside(const torch::Tensor& x, double sharpness, double soft) {
  if (soft > 0) return torch::sigmoid(soft * x);
  return HeavisideFn::apply(x, sharpness);
}

TorchNet TorchNet::from_network(const core::Network& net) {
  TorchNet t;
  t.n_layers = static_cast<long>(net.layers.size());
  t.unit_current_a = net.unit_current_a;
  t.features = net.features;
  core::for_each_parameter(
      net, [&](const std::string&, const char* field, const auto& array, core::ParameterKind) {
        t.fields.push_back(field);
        if constexpr (std::is_same_v<std::decay_t<decltype(array)>, core::Matrix>)
          t.params.push_back(to_tensor(array).set_requires_grad(true));
        else
          t.params.push_back(tensor_of(array).set_requires_grad(true));
      });
  return t;
}

core::Network TorchNet::to_network() const {
  core::Network net;
  net.layers.resize(static_cast<size_t>(n_layers));
  net.unit_current_a = unit_current_a;
  net.features = features;
  size_t i = 0;
  core::for_each_parameter(
      net, [&](const std::string&, const char*, auto& array, core::ParameterKind) {
        const torch::Tensor p = params[i++].detach().contiguous();
        if constexpr (std::is_same_v<std::decay_t<decltype(array)>, core::Matrix>) {
          array.resize(p.size(0), p.size(1));
          auto a = p.accessor<double, 2>();
          for (long r = 0; r < p.size(0); ++r)
            for (long c = 0; c < p.size(1); ++c) array(r, c) = a[r][c];
        } else {
          array = Eigen::Map<const core::Vector>(p.data_ptr<double>(), p.size(0));
        }
      });
  return net;
}

ForwardOut forward(const TorchNet& net, const torch::Tensor& x, const ForwardOptions& o) {
  // The parameters in for_each_parameter's order: pre_proj kernel, bias; per layer alphas,
  // beta1, delta, initial_state, cand_kernel, cand_bias, post_kernel, post_bias; fc kernel, bias.
  const auto p = [&](size_t i) {
    return o.gains.empty() || !o.gains[i].defined() ? net.params[i] : net.params[i] * o.gains[i];
  };
  ForwardOut out;
  // u_0 = x K_in + b_in, every frame at once; with the currents, as the pair (pos, neg) the
  // circuit carries (u = pos - neg), the skip copies carrying both lines.
  torch::Tensor u, pos, neg, cells, ff;
  if (o.ideal) {
    std::tie(pos, neg) = pair_sum(torch::relu(x), torch::relu(-x), p(0), p(1));
    u = pos - neg;
    ff = (pos + neg).sum(-1);
  } else {
    u = torch::matmul(x, p(0)) + p(1);
  }
  const long B = x.size(0), N = x.size(1);
  for (long l = 0; l < net.n_layers; ++l) {
    const size_t at = 2 + 8 * static_cast<size_t>(l);
    const torch::Tensor alpha = p(at).abs();
    const torch::Tensor beta_lo = p(at + 1).abs();
    const torch::Tensor beta_hi = beta_lo + p(at + 2).abs();
    // c_t = ReLU(a K_c + b_c) for every frame: it depends on the layer below only.
    const torch::Tensor a = torch::relu(u);
    const torch::Tensor c = torch::relu(torch::matmul(a, p(at + 4)) + p(at + 5));
    // s_{-1} = 1 where |initial_state| > 0.5; h = alpha s.
    torch::Tensor s = heaviside(p(at + 3).abs() - 0.5, o.sharpness).expand({B, alpha.size(0)});
    std::vector<torch::Tensor> ss;
    ss.reserve(static_cast<size_t>(N));
    for (long t = 0; t < N; ++t) {
      const torch::Tensor ct = c.select(1, t);
      // Above beta_hi: on; below beta_lo: off; in the closed band: hold.
      const torch::Tensor up = heaviside(ct - beta_hi, o.sharpness, o.soft);
      const torch::Tensor down = heaviside(beta_lo - ct, o.sharpness, o.soft);
      s = up + (1 - up) * (1 - down) * s;
      ss.push_back(s);
    }
    const torch::Tensor on = torch::stack(ss, 1);
    torch::Tensor states = on * alpha;
    out.states.push_back(states);
    if (o.ideal) {
      // A cell draws I_thresh always and I_width plus I_gain while on, besides its output alpha s.
      const torch::Tensor cell =
          beta_hi.sum() + torch::matmul(on, beta_hi - beta_lo + alpha) + states.sum(-1);
      cells = cells.defined() ? cells + cell : cell;
    }
    if (o.training && o.dropout > 0) states = torch::dropout(states, o.dropout, true);
    // u_l = ReLU(h K_p + b_p) + u_{l-1}
    const torch::Tensor post = torch::relu(torch::matmul(states, p(at + 6)) + p(at + 7));
    if (o.ideal) {
      ff = ff + a.sum(-1) + c.sum(-1) + post.sum(-1) + (pos + neg).sum(-1);
      pos = pos + post;
    }
    u = post + u;
  }
  const size_t fc = 2 + 8 * static_cast<size_t>(net.n_layers);
  out.logits = torch::matmul(u, p(fc)) + p(fc + 1);
  if (o.ideal) {
    const auto [yp, yn] = pair_sum(pos, neg, p(fc), p(fc + 1));
    out.ideal_feedforward = ff + (yp + yn).sum(-1);
    out.ideal_cells = cells.defined() ? cells : torch::zeros({B, N}, x.options());
  }
  return out;
}

}  // namespace bmru::train
