#include "core/units.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <utility>

#include <openssl/evp.h>

#include "core/errors.hpp"

namespace bmru::core {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

double parse_quantity(std::string_view text, std::string_view what) {
  const auto bad = [&](const std::string& why) -> InputError {
    return InputError("Cannot read " + std::string(what) + " '" + std::string(text) + "': " + why +
                      " (write a number with an optional SPICE suffix, e.g. 350p, 10m, 2meg)");
  };
  if (text.empty()) throw bad("it is empty");
  double value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (*begin == '+') ++begin;
  const auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr == begin) throw bad("it does not start with a number");
  std::string rest = lower(std::string_view(ptr, static_cast<size_t>(end - ptr)));
  static const std::array<std::pair<const char*, double>, 9> scales{{{"meg", 1e6},
                                                                     {"f", 1e-15},
                                                                     {"p", 1e-12},
                                                                     {"n", 1e-9},
                                                                     {"u", 1e-6},
                                                                     {"m", 1e-3},
                                                                     {"k", 1e3},
                                                                     {"g", 1e9},
                                                                     {"t", 1e12}}};
  double scale = 1;
  for (const auto& [suffix, factor] : scales) {
    const std::string_view s(suffix);
    if (rest.compare(0, s.size(), s) == 0) {
      scale = factor;
      rest.erase(0, s.size());
      break;
    }
  }
  if (!(rest.empty() || rest == "a" || rest == "v" || rest == "s" || rest == "hz"))
    throw bad("'" + rest + "' is not a SPICE suffix or unit");
  const double result = value * scale;
  if (!std::isfinite(result)) throw bad("it is not a finite number");
  return result;
}

std::string format_number(double value) {
  std::array<char, 32> buf{};
  const auto [ptr, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  return std::string(buf.data(), ec == std::errc() ? ptr : buf.data());
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &n, EVP_sha256(), nullptr) != 1)
    throw Error("SHA-256 failed (OpenSSL)");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

}  // namespace bmru::core
