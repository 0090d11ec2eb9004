#include "models/continuous_engine.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <variant>

#include "continuous_impl.hpp"
#include "core/errors.hpp"
#include "models/circuit_graph.hpp"

namespace bmru::models {

using core::Index;
using ct_detail::BiasTerm;
using ct_detail::Cell;
using ct_detail::kPackWidth;
using ct_detail::Node;
using ct_detail::Pack;
using ct_detail::Structure;
using ct_detail::Term;

namespace ct_detail {

// The node dynamics of the circuit graph: one state per line (held logit nodes are not lines:
// the logits are summed at the sample instant), a copy's gain as a term of the line it feeds,
// a line's gate area from its diode, the copies it drives and (a candidate's p-line) the
// cell's M1.
void Structure::build() {
  const CircuitGraph g = build_graph(net);
  ref_area = facts.w_ref_m * facts.l_m;
  ln_ref = std::log(facts.mirror_ref_a);
  std::vector<int> index(g.lines.size(), -1);  // graph line -> node
  for (size_t l = 0; l < g.lines.size(); ++l) {
    const auto& line = g.lines[l];
    if (line.kind == CircuitGraph::LineKind::held) continue;
    index[l] = static_cast<int>(nodes.size());
    Node n;
    n.area_m2 = ref_area;
    n.pmos = line.type() == pdk::Polarity::p;
    n.input = line.input;
    n.cell = line.cell;
    nodes.push_back(n);
  }
  const auto at = [&](int line) -> Node& {
    return nodes[static_cast<size_t>(index[static_cast<size_t>(line)])];
  };
  std::vector<std::pair<std::vector<Term>, std::vector<Term>>> held(g.lines.size());
  for (const auto& c : g.copies) {
    // An NMOS copy into a PMOS diode (a p-line's feed, or a term of a PMOS-closed node) has its
    // drain near the supply: its own gain error.
    const bool high = g.lines[static_cast<size_t>(c.to)].type() == pdk::Polarity::p;
    const double slope = c.device() == pdk::Polarity::p ? facts.mirror_slope_p
                         : high                         ? facts.mirror_slope_pline
                                                        : facts.mirror_slope_n;
    // The copy's gate area on the line it reads (copy_geometry: below the smallest width a copy
    // is made longer, W_min by L W_min / W).
    const double w = std::abs(c.gain) * facts.w_ref_m;
    at(c.from).area_m2 += w >= facts.w_min_m ? std::abs(c.gain) * ref_area
                                             : facts.w_min_m * facts.l_m * facts.w_min_m / w;
    const Term t{index[static_cast<size_t>(c.from)], g.added(c), slope,
                 static_cast<int>(&c - g.copies.data())};
    if (index[static_cast<size_t>(c.to)] >= 0)
      at(c.to).in.push_back(t);
    else
      held[static_cast<size_t>(c.to)].first.push_back(t);
  }
  std::vector<std::vector<BiasTerm>> held_bias(g.lines.size());
  for (size_t i = 0; i < g.biases.size(); ++i) {
    const auto& b = g.biases[i];
    const BiasTerm t{static_cast<int>(i), g.added(b)};
    if (index[static_cast<size_t>(b.to)] >= 0)
      at(b.to).biases.push_back(t);
    else
      held_bias[static_cast<size_t>(b.to)].push_back(t);
  }
  for (const auto& gc : g.cells) {
    Cell cell;
    cell.in_node = index[static_cast<size_t>(gc.candidate)];
    at(gc.candidate).area_m2 += ref_area;  // the cell's M1
    cell.out_node = index[static_cast<size_t>(gc.output)];
    cell.ith_a = gc.beta_hi_a;
    cell.iw_a = gc.width_a;
    cell.ig_a = gc.alpha_a;
    cell.q_s = facts.cell_q_up_c / (facts.cell_q_up_c + facts.cell_q_down_c);
    cell.inv_q = 1.0 / (facts.cell_q_up_c + facts.cell_q_down_c);
    cell.init_on = gc.init_on;
    cells.push_back(cell);
  }
  for (const auto& layer : g.layers) {
    std::vector<int> cand, state;
    std::vector<std::pair<int, int>> out;
    for (const int l : layer.candidate) cand.push_back(index[static_cast<size_t>(l)]);
    for (const int c : layer.state) state.push_back(cells[static_cast<size_t>(c)].out_node);
    for (const auto& [p, n] : layer.output)
      out.push_back({index[static_cast<size_t>(p)], index[static_cast<size_t>(n)]});
    candidate_node.push_back(cand);
    state_node.push_back(state);
    output.push_back(out);
  }
  for (const auto& [p, n] : g.logits) {
    logit.push_back({held[static_cast<size_t>(p)].first, held[static_cast<size_t>(n)].first});
    logit_bias.push_back({held_bias[static_cast<size_t>(p)], held_bias[static_cast<size_t>(n)]});
  }
  finish_build();
}

// The lines' time constants from the facts, and the flat term and Jacobian patterns with a
// topological order of the states.
void Structure::finish_build() {
  diode_n = facts.slope_v / facts.thermal_v;
  for (auto& n : nodes) n.ln_floor = std::log(n.pmos ? facts.floor_p_a : facts.floor_a);
  const auto cap = [&](const Node& n) {
    return facts.line_cap_scale * (n.pmos ? facts.cap_per_area_p_f_m2 : facts.cap_per_area_f_m2) *
           n.area_m2;
  };
  for (auto& n : nodes) n.inv_sc = 1.0 / (facts.slope_v * cap(n));
  for (auto& c : cells)  // the output line also carries the cell's own devices
    nodes[static_cast<size_t>(c.out_node)].inv_sc =
        1.0 /
        (facts.slope_v * (cap(nodes[static_cast<size_t>(c.out_node)]) + facts.cell_out_cap_f));
  flatten();
}

void Structure::flatten() {
  term_start.assign(1, 0);
  jac_start.assign(1, 0);
  for (const Node& n : nodes) {
    for (const Term& t : n.in) {
      term_node.push_back(t.node);
      term_slope.push_back(t.slope);
      jac_col.push_back(t.node);
    }
    if (n.cell >= 0) jac_col.push_back(static_cast<int>(nodes.size()) + n.cell);
    term_start.push_back(static_cast<int>(term_node.size()));
    jac_start.push_back(static_cast<int>(jac_col.size()));
  }
  for (const Cell& c : cells) {
    jac_col.push_back(c.in_node);
    jac_start.push_back(static_cast<int>(jac_col.size()));
  }
  // Topological order of the states (a state's inputs are its Jacobian row's columns): a node
  // after its input lines; a cell's charge after its candidate line, its output line after it.
  const auto n_states = jac_start.size() - 1;
  std::vector<int> mark(n_states, 0);
  const std::function<void(Index)> visit = [&](Index v) {
    const auto vi = static_cast<size_t>(v);
    if (mark[vi] == 2) return;
    if (mark[vi] == 1) throw Error("ct engine: the signal graph has a cycle");
    mark[vi] = 1;
    for (int e = jac_start[vi]; e < jac_start[vi + 1]; ++e) visit(jac_col[static_cast<size_t>(e)]);
    mark[vi] = 2;
    order.push_back(v);
  };
  for (size_t v = 0; v < n_states; ++v) visit(static_cast<Index>(v));
}

}  // namespace ct_detail

// The engine: the shared structure and its lanes in packs (one pack of one lane for a batch of
// one, else packs of kPackWidth; the last pack's spare lanes repeat its last real lane).
struct ContinuousEngine::Impl {
  Structure st;
  std::vector<CtDie> dies;
  Index batch = 0;
  bool pending = true;  // reset(batch): the operating point waits for the first frame's inputs
  std::variant<std::vector<Pack<1>>, std::vector<Pack<kPackWidth>>> packs;
  Index k = 0;

  // f(pack, first lane) for every pack.
  template <typename F>
  void for_packs(F&& f) {
    std::visit(
        [&](auto& v) {
          using P = typename std::decay_t<decltype(v)>::value_type;
          constexpr int w = P::Lane::RowsAtCompileTime;
          for (size_t p = 0; p < v.size(); ++p) f(v[p], static_cast<Index>(p) * w);
        },
        packs);
  }
  template <typename F>
  void for_packs(F&& f) const {
    const_cast<Impl*>(this)->for_packs(std::forward<F>(f));
  }
  // The real lane a pack's lane b stands for.
  Index lane(Index first, int b) const { return std::min(first + b, batch - 1); }

  void check_rows(const core::Matrix& m, Index cols, const char* what) const {
    if (m.rows() != batch || m.cols() != cols)
      throw InputError(std::string("ct engine: ") + what + " is " + std::to_string(m.rows()) +
                       " x " + std::to_string(m.cols()) + ", the engine runs " +
                       std::to_string(batch) + " lanes x " + std::to_string(cols));
  }
  void set_inputs(const core::Matrix& x) {
    const double u = st.net.unit_current_a;
    for_packs([&](auto& p, Index first) {
      p.x_now.resize(static_cast<size_t>(2 * st.net.n_in()));
      for (Index i = 0; i < st.net.n_in(); ++i)
        for (int b = 0; b < static_cast<int>(p.h_last.size()); ++b) {
          const double v = x(lane(first, b), i) * u;
          p.x_now[static_cast<size_t>(2 * i)](b) = std::max(v, 0.0);
          p.x_now[static_cast<size_t>(2 * i + 1)](b) = std::max(-v, 0.0);
        }
    });
  }
  void make_packs() {
    const auto make = [&](auto& v, int w) {
      const Index n = (batch + w - 1) / w;
      v.resize(static_cast<size_t>(n));
      for (Index p = 0; p < n; ++p) {
        std::vector<const CtDie*> d;
        for (int b = 0; b < w; ++b)
          d.push_back(dies.empty()       ? nullptr
                      : dies.size() == 1 ? &dies[0]
                                         : &dies[static_cast<size_t>(lane(p * w, b))]);
        auto& pack = v[static_cast<size_t>(p)];
        pack.init(st, d);
        for (int b = 0; b < w; ++b) pack.real(b) = p * w + b < batch;
      }
    };
    if (batch == 1) {
      packs = std::vector<Pack<1>>{};
      make(std::get<0>(packs), 1);
    } else {
      packs = std::vector<Pack<kPackWidth>>{};
      make(std::get<1>(packs), kPackWidth);
    }
  }
};

ContinuousEngine::ContinuousEngine(const core::Network& net, const CtFacts& facts,
                                   const core::FrameAxis& axis, Integrator integrator)
    : impl_(std::make_unique<Impl>()) {
  Structure& st = impl_->st;
  st.integrator = integrator;
  core::validate(net);
  axis.check();
  st.net = net;
  st.facts = facts;
  st.axis = axis;
  st.build();
}

ContinuousEngine::~ContinuousEngine() = default;
ContinuousEngine::ContinuousEngine(ContinuousEngine&&) noexcept = default;

void ContinuousEngine::set_dies(std::vector<CtDie> dies) {
  const Structure& st = impl_->st;
  const CircuitGraph g = build_graph(st.net);
  for (size_t i = 0; i < dies.size(); ++i) {
    const CtDie& d = dies[i];
    if (d.nominal()) continue;
    const bool fits = d.copy.size() == g.copies.size() && d.bias.size() == g.biases.size() &&
                      d.cell_ith.size() == g.cells.size() && d.cell_iw.size() == g.cells.size() &&
                      d.cell_ig.size() == g.cells.size() && d.cell_in.size() == g.cells.size();
    if (!fits)
      throw InputError("ct engine: die " + std::to_string(i) + " has " +
                       std::to_string(d.copy.size()) + " copies, " + std::to_string(d.bias.size()) +
                       " biases and " + std::to_string(d.cell_ith.size()) +
                       " cells; the circuit has " + std::to_string(g.copies.size()) + ", " +
                       std::to_string(g.biases.size()) + " and " + std::to_string(g.cells.size()));
  }
  impl_->dies = std::move(dies);
}

void ContinuousEngine::reset(Index batch) {
  if (batch < 1)
    throw InputError("ct engine: a batch needs at least one lane (got " + std::to_string(batch) +
                     ")");
  if (impl_->dies.size() > 1 && static_cast<Index>(impl_->dies.size()) != batch)
    throw InputError("ct engine: " + std::to_string(impl_->dies.size()) + " dies for " +
                     std::to_string(batch) + " lanes");
  impl_->batch = batch;
  impl_->pending = true;  // the first step computes the operating point at its inputs
}

void ContinuousEngine::reset(const core::Matrix& x0) {
  Impl& m = *impl_;
  if (x0.cols() != m.st.net.n_in())
    throw InputError("ct engine: an input frame has " + std::to_string(x0.cols()) +
                     " values, the network takes " + std::to_string(m.st.net.n_in()));
  reset(x0.rows());
  m.make_packs();
  m.set_inputs(x0);
  m.k = 0;
  m.pending = false;
  const Structure& st = m.st;
  m.for_packs([&](auto& p, Index) {
    using Lane = typename std::decay_t<decltype(p)>::Lane;
    p.x_prev = p.x_now;
    p.frame_start = 0;
    p.y.assign(static_cast<size_t>(st.n_states()), Lane::Zero());
    for (size_t c = 0; c < st.cells.size(); ++c)
      p.y[st.nodes.size() + c] = Lane::Constant(st.cells[c].init_on ? 1.0 : 0.0);
    p.settle(0);
    p.n_steps = 0;
    p.n_iterations = 0;
    p.h_last = Lane::Zero();
  });
}

void ContinuousEngine::set_state(Index layer, const core::Matrix& h) {
  Impl& m = *impl_;
  const Index d = m.st.net.d();
  m.check_rows(h, d, "a layer's states");
  m.for_packs([&](auto& p, Index first) {
    for (Index i = 0; i < d; ++i) {
      auto& q = p.y[m.st.nodes.size() + static_cast<size_t>(layer * d + i)];
      for (int b = 0; b < static_cast<int>(q.size()); ++b)
        q(b) = h(m.lane(first, b), i) > 0 ? 1.0 : 0.0;
    }
  });
}

void ContinuousEngine::step(const core::Matrix& x, core::Frame& out) {
  Impl& m = *impl_;
  if (m.pending) {
    if (m.batch > 0) m.check_rows(x, m.st.net.n_in(), "an input frame");
    reset(x);
  }
  m.check_rows(x, m.st.net.n_in(), "an input frame");
  const Structure& st = m.st;
  const core::FrameAxis& axis = st.axis;
  const double frame_start = axis.frame_start(m.k), ramp_end = axis.ramp_end(m.k),
               sample = axis.sample_time(m.k), end = axis.frame_start(m.k + 1);
  m.for_packs([&](auto& p, Index) { p.x_prev = p.x_now; });
  m.set_inputs(x);
  const double u = st.net.unit_current_a;
  const Index B = m.batch, d = st.net.d();
  out.layers.resize(static_cast<size_t>(st.net.n_layers()));
  for (auto& f : out.layers) {
    f.candidate.resize(B, d);
    f.state.resize(B, d);
    f.output.resize(B, d);
  }
  out.logits.resize(B, st.net.n_out());
  // The frame's stops (its ramp's end, its sample instant), without repeats (no ramp).
  std::vector<double> stops{frame_start};
  for (const double at : {ramp_end, sample, end})
    if (at > stops.back()) stops.push_back(at);
  const auto sample_stop = static_cast<size_t>(
      std::find(stops.begin(), stops.end(), std::max(sample, frame_start)) - stops.begin());
  m.for_packs([&](auto& p, Index first) {
    using Lane = typename std::decay_t<decltype(p)>::Lane;
    std::fill(p.cross_count.begin(), p.cross_count.end(), Lane::Zero());
    std::fill(p.cross_first.begin(), p.cross_first.end(), Lane::Constant(-1));
    p.frame_start = frame_start;
    typename std::decay_t<decltype(p)>::State sampled(p.y.size());
    p.integrate(stops, sample_stop, sampled);
    const auto I = [&](int node) -> Lane { return sampled[static_cast<size_t>(node)].exp(); };
    const int w = static_cast<int>(Lane::RowsAtCompileTime);
    const int real = static_cast<int>(std::min<Index>(w, B - first));
    for (Index l = 0; l < st.net.n_layers(); ++l) {
      auto& f = out.layers[static_cast<size_t>(l)];
      const auto L = static_cast<size_t>(l);
      for (Index i = 0; i < d; ++i) {
        const auto ci = static_cast<size_t>(i);
        const Lane c = I(st.candidate_node[L][ci]) / u, h = I(st.state_node[L][ci]) / u,
                   o = (I(st.output[L][ci].first) - I(st.output[L][ci].second)) / u;
        for (int b = 0; b < real; ++b) {
          f.candidate(first + b, i) = c(b);
          f.state(first + b, i) = h(b);
          f.output(first + b, i) = o(b);
        }
      }
    }
    for (Index j = 0; j < st.net.n_out(); ++j) {
      const auto J = static_cast<size_t>(j);
      Lane pos = p.logit_bias_pos[J], neg = p.logit_bias_neg[J];
      const auto& terms = st.logit[J];
      for (size_t e = 0; e < terms.first.size(); ++e) {
        const int n = terms.first[e].node;
        pos += p.copied(p.logit_gain[J].first[e], terms.first[e].slope,
                        sampled[static_cast<size_t>(n)], I(n));
      }
      for (size_t e = 0; e < terms.second.size(); ++e) {
        const int n = terms.second[e].node;
        neg += p.copied(p.logit_gain[J].second[e], terms.second[e].slope,
                        sampled[static_cast<size_t>(n)], I(n));
      }
      const Lane v = (pos - neg) / u;
      for (int b = 0; b < real; ++b) out.logits(first + b, j) = v(b);
    }
  });
  ++m.k;
}

std::vector<std::vector<CtCrossings>> ContinuousEngine::crossings(Index lane) const {
  const Impl& m = *impl_;
  const Index d = m.st.net.d();
  std::vector<std::vector<CtCrossings>> out(static_cast<size_t>(m.st.net.n_layers()),
                                            std::vector<CtCrossings>(static_cast<size_t>(d)));
  m.for_packs([&](auto& p, Index first) {
    const Index w = static_cast<Index>(p.h_last.size());
    if (lane < first || lane >= first + w || p.cross_count.empty()) return;
    for (size_t c = 0; c < p.cross_count.size(); ++c) {
      CtCrossings& x = out[c / static_cast<size_t>(d)][c % static_cast<size_t>(d)];
      x.count = static_cast<long long>(p.cross_count[c](lane - first));
      x.first_s = p.cross_first[c](lane - first);
    }
  });
  return out;
}

long long ContinuousEngine::steps() const {
  long long n = 0;
  impl_->for_packs([&](auto& p, Index) { n += p.n_steps; });
  return n;
}

int ContinuousEngine::pack_width() {
  return kPackWidth;
}

bool ContinuousEngine::wide_vectors() {
#if defined(EIGEN_VECTORIZE_AVX)
  return true;
#else
  return false;
#endif
}

long long ContinuousEngine::iterations() const {
  long long n = 0;
  impl_->for_packs([&](auto& p, Index) { n += p.n_iterations; });
  return n;
}

}  // namespace bmru::models
