#include "core/model_file.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <filesystem>
#include <fstream>

#include "core/errors.hpp"
#include "test_support.hpp"

namespace bmru::core {
namespace {

// Expects `f` to throw FileError whose message names every string in `names`.
template <typename F>
void expect_file_error(F&& f, std::initializer_list<std::string> names) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const FileError& e) {
    for (const auto& n : names)
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what() << " lacks " << n;
  }
}

TEST(ModelFile, Hdf5RoundTripIsExact) {
  test::TempDir dir;
  const Network net = test::random_network(13, 4, 3, 2, 11);
  write_model(net, dir / "m.h5");
  EXPECT_EQ(read_model(dir / "m.h5"), net);
}

TEST(ModelFile, JsonRoundTripIsExact) {
  test::TempDir dir;
  const Network net = test::random_network(5, 3, 2, 4, 12);
  write_model(net, dir / "m.json");
  EXPECT_EQ(read_model(dir / "m.json"), net);
}

// Issue 18: a model records the feature settings of the dataset it was trained on, in both forms.
TEST(ModelFile, FeatureSettingsRoundTripAndMismatchesAreNamed) {
  test::TempDir dir;
  Network net = test::random_network(13, 4, 2, 2, 13);
  const std::vector<Attr> inputs{{"feature_kind", std::string("mfcc")},
                                 {"sample_rate", std::int64_t{16000}},
                                 {"duration_s", 1.0},
                                 {"espeak_ng_version", std::string("1.51")}};
  net.features = feature_settings(inputs);
  ASSERT_EQ(net.features.size(), 3u);  // the voice library's version is not a feature setting
  for (const char* name : {"m.h5", "m.json"}) {
    write_model(net, dir / name);
    EXPECT_EQ(read_model(dir / name), net) << name;
  }
  EXPECT_TRUE(feature_mismatches(net, inputs).empty());
  std::vector<Attr> other = inputs;
  other[1].value = 8000.0;  // another value (and type: numbers compare by value)
  other.erase(other.begin());
  const auto bad = feature_mismatches(net, other);
  ASSERT_EQ(bad.size(), 2u);
  EXPECT_NE(bad[0].find("feature_kind"), std::string::npos) << bad[0];
  EXPECT_NE(bad[1].find("sample_rate: the model was trained on 16000, the inputs have 8000"),
            std::string::npos)
      << bad[1];
}

TEST(ModelFile, JsonWithoutOptionalAttributesReadsWithDefaults) {
  test::TempDir dir;
  std::ofstream(dir / "hand.json") << R"({"model": {
    "pre_proj": {"kernel": [[1.0]], "bias": [0]},
    "layer1": {"alphas": [1], "beta1": [0.5], "delta": [0.25], "initial_state": [0],
               "cand_kernel": [[1]], "cand_bias": [0], "post_kernel": [[1]], "post_bias": [0]},
    "fc": {"kernel": [[1, -1]], "bias": [0, 0]}}})";
  const Network net = read_model(dir / "hand.json");
  EXPECT_EQ(net.n_out(), 2);
  EXPECT_DOUBLE_EQ(net.unit_current_a, 1e-9);
}

TEST(ModelFile, JsonErrorsNameTheKey) {
  test::TempDir dir;
  std::ofstream(dir / "bad.json") << R"({"model": {
    "pre_proj": {"kernel": [[1.0]], "bias": [0]},
    "layer1": {"alphas": [1], "beta1": ["x"], "delta": [0.25], "initial_state": [0],
               "cand_kernel": [[1]], "cand_bias": [0], "post_kernel": [[1]], "post_bias": [0]},
    "fc": {"kernel": [[1]], "bias": [0]}}})";
  expect_file_error([&] { read_model(dir / "bad.json"); }, {"bad.json", "/model/layer1/beta1[0]"});
  std::ofstream(dir / "rows.json")
      << R"({"model": {"pre_proj": {"kernel": [[1, 2], [3]], "bias": [0, 0]}}})";
  expect_file_error([&] { read_model(dir / "rows.json"); }, {"/model/pre_proj/kernel[1]"});
  std::ofstream(dir / "nofc.json") << R"({"model": {"pre_proj": {"kernel": [[1]], "bias": [0]}}})";
  expect_file_error([&] { read_model(dir / "nofc.json"); }, {"/model/fc", "missing"});
  std::ofstream(dir / "garbage.json") << "this is not a model";
  expect_file_error([&] { read_model(dir / "garbage.json"); },
                    {"garbage.json", "neither HDF5 nor"});
  // Issue 15: a misspelt key fell back to a default silently; a number JSON cannot hold was an
  // "internal error".
  const std::string good = R"("pre_proj": {"kernel": [[1.0]], "bias": [0]},
    "layer1": {"alphas": [1], "beta1": [0.5], "delta": [0.25], "initial_state": [0],
               "cand_kernel": [[1]], "cand_bias": [0], "post_kernel": [[1]], "post_bias": [0]},
    "fc": {"kernel": [[1]], "bias": [0]})";
  std::ofstream(dir / "typo.json") << R"({"model": {"unit_curent": 2e-9, )" << good << "}}";
  expect_file_error([&] { read_model(dir / "typo.json"); },
                    {"typo.json", "/model/unit_curent", "unit_current"});
  std::ofstream(dir / "deep.json") << R"({"model": {"layer1_extra": 1, )" << good << "}}";
  expect_file_error([&] { read_model(dir / "deep.json"); }, {"/model/layer1_extra"});
  std::string inner = good;
  inner.replace(inner.rfind(R"("bias": [0]})"), 12, R"("bias": [0], "scale": 2})");
  std::ofstream(dir / "inner.json") << R"({"model": {)" << inner << "}}";
  expect_file_error([&] { read_model(dir / "inner.json"); }, {"/model/fc/scale"});
  std::ofstream(dir / "huge.json") << R"({"model": {"unit_current": 1e999, )" << good << "}}";
  expect_file_error([&] { read_model(dir / "huge.json"); }, {"huge.json", "1e999"});
}

TEST(ModelFile, MissingFileIsNamed) {
  expect_file_error([] { read_model("/nonexistent/model.h5"); }, {"/nonexistent/model.h5"});
}

// Writes the model datasets the way other tools do: 32-bit floats, 16-bit integers, fixed-length
// string attributes, 32-bit integer counts.
void write_foreign(const std::filesystem::path& path, const Network& net, bool int_bias) {
  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t m = H5Gcreate2(f, "model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hid_t str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, 12);
  H5Tset_strpad(str, H5T_STR_NULLPAD);
  hid_t scalar = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(m, "format", str, scalar, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, str, kModelFormat);
  H5Aclose(a);
  const int n_in = static_cast<int>(net.n_in());
  a = H5Acreate2(m, "n_in", H5T_STD_I32LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_INT, &n_in);
  H5Aclose(a);
  auto put = [&](hid_t g, const char* name, const Matrix& v, hid_t type) {
    const hsize_t dims[2] = {static_cast<hsize_t>(v.rows()), static_cast<hsize_t>(v.cols())};
    hid_t s = H5Screate_simple(
        v.cols() == 1 && std::string(name).find("kernel") == std::string::npos ? 1 : 2, dims,
        nullptr);
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> r = v;
    hid_t d = H5Dcreate2(g, name, type, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, r.data());
    H5Dclose(d);
    H5Sclose(s);
  };
  auto group = [&](const char* name) {
    return H5Gcreate2(m, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  };
  hid_t g = group("pre_proj");
  put(g, "kernel", net.pre_proj.kernel, H5T_IEEE_F32LE);
  put(g, "bias", net.pre_proj.bias, int_bias ? H5T_STD_I16LE : H5T_IEEE_F32LE);
  H5Gclose(g);
  for (Index l = 0; l < net.n_layers(); ++l) {
    const Layer& layer = net.layers[static_cast<size_t>(l)];
    g = group(("layer" + std::to_string(l + 1)).c_str());
    put(g, "alphas", layer.alphas, H5T_IEEE_F32LE);
    put(g, "beta1", layer.beta1, H5T_IEEE_F32LE);
    put(g, "delta", layer.delta, H5T_IEEE_F32LE);
    put(g, "initial_state", layer.initial_state, H5T_STD_I8LE);
    put(g, "cand_kernel", layer.candidate.kernel, H5T_IEEE_F32LE);
    put(g, "cand_bias", layer.candidate.bias, H5T_IEEE_F32LE);
    put(g, "post_kernel", layer.post.kernel, H5T_IEEE_F32LE);
    put(g, "post_bias", layer.post.bias, H5T_IEEE_F32LE);
    H5Gclose(g);
  }
  g = group("fc");
  put(g, "kernel", net.fc.kernel, H5T_IEEE_F32LE);
  put(g, "bias", net.fc.bias, H5T_IEEE_F32LE);
  H5Gclose(g);
  H5Sclose(scalar);
  H5Tclose(str);
  H5Gclose(m);
  H5Fclose(f);
}

TEST(ModelFile, ForeignTypesAndFixedStringsAreRead) {
  test::TempDir dir;
  Network net = test::single_cell(0.5, 0.75, 1.0, 1.0);
  net.pre_proj.bias << 2.0;
  write_foreign(dir / "foreign.h5", net, true);
  const Network back = read_model(dir / "foreign.h5");
  EXPECT_EQ(back, net);  // every value is exact in float32 and int16
}

TEST(ModelFile, WrongTypedDatasetIsNamed) {
  test::TempDir dir;
  const auto path = dir / "m.h5";
  write_model(test::single_cell(0.5, 0.75), path);
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  H5Ldelete(f, "/model/layer1/delta", H5P_DEFAULT);
  hid_t str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, 4);
  const hsize_t one = 1;
  hid_t s = H5Screate_simple(1, &one, nullptr);
  hid_t d = H5Dcreate2(f, "/model/layer1/delta", str, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dwrite(d, str, H5S_ALL, H5S_ALL, H5P_DEFAULT, "abc");
  H5Dclose(d);
  H5Sclose(s);
  H5Tclose(str);
  H5Fclose(f);
  expect_file_error([&] { read_model(path); }, {"m.h5", "/model/layer1/delta", "string"});
}

TEST(ModelFile, MissingDatasetAndWrongRankAreNamed) {
  test::TempDir dir;
  const auto path = dir / "m.h5";
  write_model(test::random_network(3, 2, 2, 2, 7), path);
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  H5Ldelete(f, "/model/layer2/post_bias", H5P_DEFAULT);
  H5Fclose(f);
  expect_file_error([&] { read_model(path); }, {"/model/layer2/post_bias", "missing"});

  write_model(test::random_network(3, 2, 1, 2, 7), path);
  f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  H5Ldelete(f, "/model/fc/kernel", H5P_DEFAULT);
  const hsize_t n = 4;
  hid_t s = H5Screate_simple(1, &n, nullptr);
  hid_t d =
      H5Dcreate2(f, "/model/fc/kernel", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const double zeros[4] = {0, 0, 0, 0};
  H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros);
  H5Dclose(d);
  H5Sclose(s);
  H5Fclose(f);
  expect_file_error([&] { read_model(path); }, {"/model/fc/kernel", "[4]", "2-D"});
}

TEST(ModelFile, CountAttributeThatDisagreesIsNamed) {
  test::TempDir dir;
  const auto path = dir / "m.h5";
  write_model(test::random_network(3, 2, 1, 2, 8), path);
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  H5Adelete_by_name(f, "/model", "d", H5P_DEFAULT);
  hid_t scalar = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate_by_name(f, "/model", "d", H5T_STD_I32LE, scalar, H5P_DEFAULT, H5P_DEFAULT,
                              H5P_DEFAULT);
  const int five = 5;
  ASSERT_GE(H5Awrite(a, H5T_NATIVE_INT, &five), 0);
  H5Aclose(a);
  H5Sclose(scalar);
  H5Fclose(f);
  expect_file_error([&] { read_model(path); }, {"/model@d", "says 5"});
}

TEST(ModelFile, TruncatedFileIsNamed) {
  test::TempDir dir;
  const auto path = dir / "m.h5";
  write_model(test::random_network(13, 4, 2, 2, 9), path);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  expect_file_error([&] { read_model(path); }, {"m.h5"});
}

TEST(ModelFile, InvalidNetworkInAFileListsItsProblems) {
  test::TempDir dir;
  const auto path = dir / "m.json";
  std::ofstream(path) << R"({"model": {
    "pre_proj": {"kernel": [[1.0]], "bias": [0]},
    "layer1": {"alphas": [0], "beta1": [0.5], "delta": [0.25], "initial_state": [0],
               "cand_kernel": [[1]], "cand_bias": [0], "post_kernel": [[1]], "post_bias": [0]},
    "fc": {"kernel": [[1]], "bias": [0]}}})";
  try {
    read_model(path);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("m.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("layer1.alphas[0] is 0"), std::string::npos);
  }
}

TEST(ModelFile, FailedWriteLeavesTheOldFile) {
  test::TempDir dir;
  const auto path = dir / "m.json";
  const Network good = test::random_network(3, 2, 1, 2, 10);
  write_model(good, path);
  Network bad = good;
  bad.layers[0].alphas(0) = 0;
  EXPECT_THROW(write_model(bad, path), InputError);
  EXPECT_EQ(read_model(path), good);
}

}  // namespace
}  // namespace bmru::core
