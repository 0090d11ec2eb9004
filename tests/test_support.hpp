#pragma once
// Shared helpers for the test suites: scratch folders and small hand-made networks.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include "core/network.hpp"

namespace bmru::test {

// A fresh folder under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("bmru-" + std::string(info ? info->name() : "test") + "-" +
             std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// One input, one cell, one output: c = max(x, 0), the cell's band is [beta_lo, beta_hi],
// u_1 = h + u_0 (for x >= 0 and zero biases), y = u_1.
inline core::Network single_cell(double beta_lo, double beta_hi, double alpha = 1.0,
                                 double initial_state = 0.0) {
  core::Network net;
  net.pre_proj = {core::Matrix::Constant(1, 1, 1.0), core::Vector::Zero(1)};
  core::Layer layer;
  layer.alphas = core::Vector::Constant(1, alpha);
  layer.beta1 = core::Vector::Constant(1, beta_lo);
  layer.delta = core::Vector::Constant(1, beta_hi - beta_lo);
  layer.initial_state = core::Vector::Constant(1, initial_state);
  layer.candidate = {core::Matrix::Constant(1, 1, 1.0), core::Vector::Zero(1)};
  layer.post = {core::Matrix::Constant(1, 1, 1.0), core::Vector::Zero(1)};
  net.layers.push_back(layer);
  net.fc = {core::Matrix::Constant(1, 1, 1.0), core::Vector::Zero(1)};
  return net;
}

// A dense random network of the given shape with full-precision parameters of both signs.
inline core::Network random_network(core::Index n_in, core::Index d, core::Index n_layers,
                                    core::Index n_out, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  auto m = [&](core::Index r, core::Index c) {
    return core::Matrix(core::Matrix::NullaryExpr(r, c, [&] { return u(rng); }));
  };
  auto v = [&](core::Index n) {
    return core::Vector(core::Vector::NullaryExpr(n, [&] { return u(rng); }));
  };
  core::Network net;
  net.pre_proj = {m(n_in, d), v(d)};
  for (core::Index l = 0; l < n_layers; ++l) {
    core::Layer layer;
    layer.alphas = v(d);
    layer.beta1 = v(d) * 0.5;
    layer.delta = v(d) * 0.3;
    layer.initial_state = v(d);
    layer.candidate = {m(d, d), v(d)};
    layer.post = {m(d, d), v(d)};
    net.layers.push_back(layer);
  }
  net.fc = {m(d, n_out), v(n_out)};
  net.unit_current_a = 1e-9 * (1 + u(rng) * 0.5);
  return net;
}

}  // namespace bmru::test
